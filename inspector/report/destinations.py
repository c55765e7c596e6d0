"""The ``destinations`` table and the report's Destinations section, built from published flows.

Every flow counts in exactly one row: the key is (capture file, destination, address), where the
destination is the flow's server name or, with none, its server address. The flows are the
published ones (oriented client -> server), so ``orig_bytes`` is what the client sent. A
``party`` column on the flows (added by attribution in newer versions) is carried when present.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from inspector.report.text import VERDICT_SHORT, human_bytes, iso_time, plain
from inspector.schema import columns
from inspector.schema.destinations import DestinationRow
from inspector.vocab import Verdict

__all__ = ["SORT_COLUMNS", "destinations_frame", "destinations_view", "with_destinations"]

#: Columns of the report's table: (heading, view key, sort key, largest first). The page runs no
#: script: each row carries its rank under every sort (CSS ``order``), a radio button picks one.
SORT_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("Destination", "destination", "destination", False),
    ("Organisation", "organisation", "organisation", False),
    ("Party", "party", "party", False),
    ("Category", "category", "category", False),
    ("Ctry", "country", "country", False),
    ("Sent", "sent", "sent_n", True),
    ("Received", "received", "received_n", True),
    ("Flows", "flows", "flows", True),
    ("Protection", "verdicts", "verdicts", False),
    ("App", "apps", "apps", False),
    ("First seen (UTC)", "first_seen", "first_n", False),
)

_COLUMNS = [name for name, _dtype, _doc in columns(DestinationRow)]
_DTYPES = {name: dtype for name, dtype, _doc in columns(DestinationRow)}


def _joined(values: Iterable[object], key: Any = None) -> str:
    items = {plain(v) for v in values} - {""}
    return ";".join(sorted(items, key=key))


def _verdict_rank(code: str) -> tuple[int, str]:
    try:
        return (Verdict(code).rank, code)
    except ValueError:
        return (99, code)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _keyed(flows: pd.DataFrame) -> pd.DataFrame:
    f = flows.copy()
    name = _col(f, "server_name").map(plain)
    address = _col(f, "resp_h").map(plain)
    f["_destination"] = [n or a for n, a in zip(name, address, strict=True)]
    f["_address"] = address
    f["_file"] = _col(f, "file").map(plain)
    f["_port"] = [
        f"{plain(p)}/{plain(n)}" if plain(n) else plain(p)
        for p, n in zip(_col(f, "proto"), _col(f, "resp_p"), strict=True)
    ]
    ts = pd.to_numeric(_col(f, "ts"), errors="coerce")
    f["_end"] = ts + pd.to_numeric(_col(f, "duration_s"), errors="coerce").fillna(0.0)
    f["_ts"] = ts
    return f


def _row(key: tuple[str, str, str], g: pd.DataFrame) -> dict[str, Any]:
    file, destination, address = key
    return {
        "destination": destination,
        "address": address,
        "ports": _joined(g["_port"]),
        "organisation": _joined(_col(g, "organisation")),
        "party": _joined(_col(g, "party")),
        "category": _joined(_col(g, "category")),
        "country": _joined(_col(g, "country")),
        "bytes_sent": int(pd.to_numeric(_col(g, "orig_bytes"), errors="coerce").fillna(0).sum()),
        "bytes_received": int(
            pd.to_numeric(_col(g, "resp_bytes"), errors="coerce").fillna(0).sum()
        ),
        "flows": len(g),
        "verdicts": _joined(_col(g, "encryption_verdict"), key=_verdict_rank),
        "apps": _joined(_col(g, "app")),
        "first_seen": float(g["_ts"].min()),
        "last_seen": float(g["_end"].max()),
        "file": file,
    }


def destinations_frame(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per (file, destination, address), most bytes first; typed as the schema says."""
    if flows is None or len(flows) == 0:
        rows: list[dict[str, Any]] = []
    else:
        f = _keyed(flows)
        groups = f.groupby(["_file", "_destination", "_address"], sort=False, dropna=False)
        rows = [_row(key, g) for key, g in groups]
        rows.sort(key=lambda r: (-(r["bytes_sent"] + r["bytes_received"]), r["destination"]))
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    return frame.astype(_DTYPES) if len(frame) else frame.astype(_DTYPES, errors="ignore")


def with_destinations(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``tables`` with ``destinations`` (re)built from ``flows`` (so it follows any rewrite of the
    flows, such as pseudonymisation); unchanged when there is no ``flows`` table."""
    if "flows" not in tables:
        return tables
    return {**tables, "destinations": destinations_frame(tables["flows"])}


def _rank(value: object, largest_first: bool) -> tuple[bool, str, float]:
    """Sort key: text alphabetically with empty cells last; numbers (largest first if asked)."""
    if isinstance(value, str):
        return (value == "", value.casefold(), 0.0)
    number = float(value)  # type: ignore[arg-type]
    return (False, "", -number if largest_first else number)


def destinations_view(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for the report's sortable table: display text plus a sort key per column."""
    out = []
    for r in frame.itertuples(index=False):
        sent, received = int(r.bytes_sent), int(r.bytes_received)
        out.append(
            {
                "destination": plain(r.destination),
                "address": plain(r.address),
                "ports": plain(r.ports).replace(";", " "),
                "organisation": plain(r.organisation).replace(";", "; "),
                "party": plain(r.party).replace(";", "; "),
                "category": plain(r.category).replace(";", "; "),
                "country": plain(r.country),
                "sent": human_bytes(sent),
                "sent_n": sent,
                "received": human_bytes(received),
                "received_n": received,
                "flows": int(r.flows),
                "verdicts": "; ".join(
                    VERDICT_SHORT.get(v, v) for v in plain(r.verdicts).split(";") if v
                ),
                "apps": plain(r.apps).replace(";", "; "),
                "first_seen": iso_time(float(r.first_seen)),
                "first_n": float(r.first_seen),
                "last_seen": iso_time(float(r.last_seen)),
            }
        )
    for i, (_head, _view, key, largest_first) in enumerate(SORT_COLUMNS):
        keys = [(_rank(row[key], largest_first), j) for j, row in enumerate(out)]
        for rank, (_k, j) in enumerate(sorted(keys)):
            out[j][f"r{i}"] = rank
    return out
