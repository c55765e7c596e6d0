"""The ``destinations`` table and the report's Destinations section, built from published flows.

Every flow counts in exactly one row: the key is (capture file, destination, address), where the
destination is the flow's server name or, with none, its server address. The flows are the
published ones (oriented client -> server), so ``orig_bytes`` is what the client sent. A
``party`` column on the flows (added by attribution in newer versions) is carried when present.
"""

from __future__ import annotations

from typing import Any

import markupsafe
import pandas as pd

from inspector.report.text import VERDICT_SHORT, human_bytes, iso_time, plain
from inspector.schema import columns
from inspector.schema.destinations import DestinationRow
from inspector.vocab import Verdict

__all__ = [
    "SORT_COLUMNS",
    "destination_rows",
    "destinations_frame",
    "destinations_view",
    "with_destinations",
]

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


def _verdict_rank(code: str) -> tuple[int, str]:
    try:
        return (Verdict(code).rank, code)
    except ValueError:
        return (99, code)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


_TEXT = ("organisation", "party", "category", "country", "app", "encryption_verdict")


def _values(flows: pd.DataFrame, name: str) -> list[Any]:
    return list(_col(flows, name))


def _number(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if x != x else x  # NaN / NA -> 0


class _Acc:
    """What one destination row gathers from its flows (one pass, no per-group pandas)."""

    __slots__ = ("flows", "last", "ports", "received", "sent", "start", "text")

    def __init__(self) -> None:
        self.ports: set[str] = set()
        self.text: dict[str, set[str]] = {c: set() for c in _TEXT}
        self.sent = self.received = 0.0
        self.flows = 0
        self.start = float("inf")
        self.last = float("-inf")


def _gather(flows: pd.DataFrame) -> dict[tuple[str, str, str], _Acc]:
    cols = {c: _values(flows, c) for c in (*_TEXT, "server_name", "resp_h", "file", "proto")}
    nums = {
        c: _values(flows, c) for c in ("resp_p", "orig_bytes", "resp_bytes", "ts", "duration_s")
    }
    out: dict[tuple[str, str, str], _Acc] = {}
    for i in range(len(flows)):
        address = plain(cols["resp_h"][i])
        key = (plain(cols["file"][i]), plain(cols["server_name"][i]) or address, address)
        acc = out.get(key)
        if acc is None:
            acc = out[key] = _Acc()
        proto, port = plain(cols["proto"][i]), plain(nums["resp_p"][i])
        acc.ports.add(f"{proto}/{port}" if port else proto)
        for c in _TEXT:
            acc.text[c].add(plain(cols[c][i]))
        acc.sent += _number(nums["orig_bytes"][i])
        acc.received += _number(nums["resp_bytes"][i])
        acc.flows += 1
        ts = _number(nums["ts"][i])
        acc.start = min(acc.start, ts)
        acc.last = max(acc.last, ts + _number(nums["duration_s"][i]))
    return out


def _joined_set(items: set[str], key: Any = None) -> str:
    return ";".join(sorted(items - {""}, key=key))


def _row(key: tuple[str, str, str], a: _Acc) -> dict[str, Any]:
    file, destination, address = key
    return {
        "destination": destination,
        "address": address,
        "ports": _joined_set(a.ports),
        "organisation": _joined_set(a.text["organisation"]),
        "party": _joined_set(a.text["party"]),
        "category": _joined_set(a.text["category"]),
        "country": _joined_set(a.text["country"]),
        "bytes_sent": int(a.sent),
        "bytes_received": int(a.received),
        "flows": a.flows,
        "verdicts": _joined_set(a.text["encryption_verdict"], key=_verdict_rank),
        "apps": _joined_set(a.text["app"]),
        "first_seen": a.start,
        "last_seen": a.last,
        "file": file,
    }


def destinations_frame(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per (file, destination, address), most bytes first; typed as the schema says."""
    rows: list[dict[str, Any]] = []
    if flows is not None and len(flows):
        rows = [_row(key, acc) for key, acc in _gather(flows).items()]
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


_DEST_ROW = (
    '<tr style="{style}"><td class="dname"><span class="mono">{destination}</span>{address}'
    '<br><span class="note">{ports}</span></td><td>{organisation}</td><td>{party}</td>'
    '<td>{category}</td><td>{country}</td><td class="num">{sent}</td>'
    '<td class="num">{received}</td><td class="num">{flows}</td><td>{verdicts}</td>'
    '<td>{apps}</td><td class="note">{first_seen}<br>to {last_seen}</td></tr>\n'
)
_DEST_TEXT = [
    "destination",
    "ports",
    "organisation",
    "party",
    "category",
    "country",
    "sent",
    "received",
    "flows",
    "verdicts",
    "apps",
    "first_seen",
    "last_seen",
]


def destination_rows(rows: list[dict[str, Any]], n_columns: int) -> markupsafe.Markup:
    """The rows of the destinations table as HTML (escaped as the template escapes), built
    here in one pass: a run can have thousands of destinations."""
    if not rows:
        return markupsafe.Markup("<tr><td>No flows.</td></tr>")
    esc = markupsafe.escape
    out = []
    for d in rows:
        cells = {k: esc(d[k]) for k in _DEST_TEXT}
        address = ""
        if d["address"] != d["destination"]:
            address = f'<br><span class="note mono">{esc(d["address"])}</span>'
        style = "".join(f"--r{i}:{esc(d[f'r{i}'])};" for i in range(n_columns))
        out.append(_DEST_ROW.format(style=style, address=address, **cells))
    return markupsafe.Markup("".join(out))
