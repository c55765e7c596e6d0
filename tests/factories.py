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
