"""Test factories: rows of the real table types with sensible defaults (after mitmproxy's tflow)."""

from __future__ import annotations

import dataclasses
from typing import Any

from inspector.schema.flows import FlowRow


def flow(uid: str = "Cflow1", **kw: Any) -> FlowRow:
    base: dict[str, Any] = dict(
        uid=uid,
        ts=1000.0,
        proto="tcp",
        orig_h="192.168.1.20",
        orig_p=50000,
        resp_h="203.0.113.10",
        resp_p=443,
        duration_s=1.0,
        orig_pkts=10,
        resp_pkts=10,
        orig_bytes=1000,
        resp_bytes=2000,
        orig_payload_bytes=500,
        resp_payload_bytes=1500,
        history="ShADadFf",
        service="",
        end_reason="end_of_input",
        tunnel="",
        first_frame=1,
        last_frame=20,
        file="t.pcap",
    )
    base.update(kw)
    return FlowRow(**base)


@dataclasses.dataclass(frozen=True)
class Obj:
    """A loose stand-in for a row of a dissector table (only the fields a test needs)."""

    uid: str = ""
    ts: float = 0.0
    frame: int = 0
    values: tuple[tuple[str, Any], ...] = ()

    def __getattr__(self, name: str) -> Any:
        for k, v in object.__getattribute__(self, "values"):
            if k == name:
                return v
        raise AttributeError(name)


def row(uid: str = "", ts: float = 0.0, frame: int = 0, **kw: Any) -> Obj:
    return Obj(uid, ts, frame, tuple(kw.items()))


# ------------------------------------------------------------------ typed rows and records
_DEFAULTS = {"string": "", "Int64": 0, "float64": 0.0, "boolean": False}


def make(cls: type, uid: str = "Cflow1", **kw: Any) -> Any:
    """A real row of table class ``cls``: required columns get a neutral value per dtype."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in kw:
            values[f.name] = kw.pop(f.name)
        elif f.name == "uid":
            values["uid"] = uid
        elif f.default is dataclasses.MISSING:
            values[f.name] = _DEFAULTS[f.metadata["dtype"]]
    if kw:
        raise TypeError(f"{cls.__name__} has no column(s) {sorted(kw)}")
    return cls(**values)


def evidence(conn: FlowRow | None = None, **tables: Any) -> Any:
    """A FlowEvidence for ``conn`` (default :func:`flow`), with rows given per table name."""
    from inspector.evidence import FlowEvidence

    conn = conn or flow()
    return FlowEvidence(conn, **{k: tuple(v) for k, v in tables.items()})


def attribution(
    ev: Any,
    client_is_orig: bool = True,
    name: str = "",
    source: str = "none",
    organisation: str = "",
    category: str = "unknown",
    vendor: str = "",
    sdk_name: str = "",
    dns_frame: int = 0,
    detail: str = "",
    client_app: Any = None,
) -> Any:
    from inspector.attribute.entities import entity_of
    from inspector.attribute.names import NameEvidence
    from inspector.attribute.stage import Attribution, Owner
    from inspector.evidence import endpoints

    entity = entity_of(organisation)
    return Attribution(
        ev.uid,
        endpoints(ev.conn, client_is_orig),
        NameEvidence(name, source, (name,) if name else (), detail, dns_frame),
        Owner(
            organisation,
            category,
            vendor,
            f"test row for {organisation}",
            "",
            sdk_name,
            entity=entity.name if entity else "",
            owner_from="name" if organisation else "",
            pattern=name,
        ),
        client_app=client_app,
    )


def ctx(ev: Any, att: Any = None, app: str = "", session_app: str = "", p2p: bool = False) -> Any:
    from inspector.assess.context import FlowCtx
    from inspector.assess.profiles import profile

    return FlowCtx(ev, att or attribution(ev), profile(app), profile(session_app), p2p)
