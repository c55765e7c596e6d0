"""The ``destinations`` table and the report's Destinations section, built from published flows.

Every flow counts in exactly one row: the key is (capture file, destination, address), where the
destination is the flow's server name or, with none, its server address. The flows are the
published ones (oriented client -> server), so ``orig_bytes`` is what the client sent. A
``party`` column on the flows (added by attribution in newer versions) is carried when present.
"""

from __future__ import annotations

from typing import Any

import markupsafe
import numpy as np
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


#: a flows table this long has its text columns factorized (below, factorize costs more than
#: the calls to plain() it saves)
_FACTORIZE_ROWS = 1000

_TEXT = ("organisation", "party", "category", "country", "app", "encryption_verdict")


def _values(flows: pd.DataFrame, name: str) -> list[Any]:
    """The column as a list of Python values (``tolist``: a row-wise walk of an Arrow-backed
    column costs ten times more)."""
    return _col(flows, name).tolist()


def _texts(flows: pd.DataFrame, name: str) -> list[str]:
    """The column as display text (:func:`plain`); a long column's distinct values made safe
    once each."""
    if len(flows) < _FACTORIZE_ROWS:
        return list(map(plain, _values(flows, name)))
    codes, uniques = pd.factorize(_col(flows, name), use_na_sentinel=True)
    shown = np.array([*map(plain, uniques.tolist()), ""], dtype=object)  # code -1: missing
    return list(shown[codes])


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
        #: the values of each _TEXT column, in that order
        self.text: tuple[set[str], ...] = (set(), set(), set(), set(), set(), set())
        self.sent = self.received = 0.0
        self.flows = 0
        self.start = float("inf")
        self.last = float("-inf")


def _gather(flows: pd.DataFrame) -> dict[tuple[str, str, str], _Acc]:
    text = [_texts(flows, c) for c in _TEXT]
    files, names, addresses, protos, ports = (
        _texts(flows, c) for c in ("file", "server_name", "resp_h", "proto", "resp_p")
    )
    sent, received, starts, durations = (
        [_number(v) for v in _values(flows, c)]
        for c in ("orig_bytes", "resp_bytes", "ts", "duration_s")
    )
    out: dict[tuple[str, str, str], _Acc] = {}
    for i, address in enumerate(addresses):
        key = (files[i], names[i] or address, address)
        acc = out.get(key)
        if acc is None:
            acc = out[key] = _Acc()
        proto, port = protos[i], ports[i]
        acc.ports.add(f"{proto}/{port}" if port else proto)
        for seen, values in zip(acc.text, text, strict=True):
            seen.add(values[i])
        acc.sent += sent[i]
        acc.received += received[i]
        acc.flows += 1
        ts = starts[i]
        acc.start = min(acc.start, ts)
        acc.last = max(acc.last, ts + durations[i])
    return out


def _joined_set(items: set[str], key: Any = None) -> str:
    return ";".join(sorted(items - {""}, key=key))


def _row(key: tuple[str, str, str], a: _Acc) -> dict[str, Any]:
    file, destination, address = key
    text = dict(zip(_TEXT, a.text, strict=True))
    return {
        "destination": destination,
        "address": address,
        "ports": _joined_set(a.ports),
        "organisation": _joined_set(text["organisation"]),
        "party": _joined_set(text["party"]),
        "category": _joined_set(text["category"]),
        "country": _joined_set(text["country"]),
        "bytes_sent": int(a.sent),
        "bytes_received": int(a.received),
        "flows": a.flows,
        "verdicts": _joined_set(text["encryption_verdict"], key=_verdict_rank),
        "apps": _joined_set(text["app"]),
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
    if not rows:
        return pd.DataFrame(rows, columns=_COLUMNS).astype(_DTYPES, errors="ignore")
    return pd.DataFrame({c: [r[c] for r in rows] for c in _COLUMNS}).astype(_DTYPES)


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
    text = {c: list(map(plain, frame[c].tolist())) for c in _VIEW_TEXT}
    sent_col, received_col, flows_col, first_col, last_col = (
        frame[c].tolist()
        for c in ("bytes_sent", "bytes_received", "flows", "first_seen", "last_seen")
    )
    out = []
    for i in range(len(frame)):
        sent, received = int(sent_col[i]), int(received_col[i])
        first = float(first_col[i])
        out.append(
            {
                "destination": text["destination"][i],
                "address": text["address"][i],
                "ports": text["ports"][i].replace(";", " "),
                "organisation": text["organisation"][i].replace(";", "; "),
                "party": text["party"][i].replace(";", "; "),
                "category": text["category"][i].replace(";", "; "),
                "country": text["country"][i],
                "sent": human_bytes(sent),
                "sent_n": sent,
                "received": human_bytes(received),
                "received_n": received,
                "flows": int(flows_col[i]),
                "verdicts": "; ".join(
                    VERDICT_SHORT.get(v, v) for v in text["verdicts"][i].split(";") if v
                ),
                "apps": text["apps"][i].replace(";", "; "),
                "first_seen": iso_time(first),
                "first_n": first,
                "last_seen": iso_time(float(last_col[i])),
            }
        )
    for i, (_head, _view, key, largest_first) in enumerate(SORT_COLUMNS):
        keys = [(_rank(row[key], largest_first), j) for j, row in enumerate(out)]
        name = f"r{i}"
        for rank, (_k, j) in enumerate(sorted(keys)):
            out[j][name] = rank
    return out


_VIEW_TEXT = (
    "destination",
    "address",
    "ports",
    "organisation",
    "party",
    "category",
    "country",
    "verdicts",
    "apps",
)

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
    esc = _escaper()
    ranks = [(f"--r{i}:", f"r{i}") for i in range(n_columns)]
    out = []
    for d in rows:
        cells = {k: esc(d[k]) for k in _DEST_TEXT}
        address = ""
        if d["address"] != d["destination"]:
            address = f'<br><span class="note mono">{esc(d["address"])}</span>'
        style = "".join([head + esc(d[key]) + ";" for head, key in ranks])
        out.append(_DEST_ROW.format(style=style, address=address, **cells))
    return markupsafe.Markup("".join(out))


def _escaper() -> Any:
    """:func:`markupsafe.escape` as text, each distinct string escaped once (the same names,
    organisations and verdicts fill thousands of rows); an ``int`` needs no escaping."""
    memo: dict[str, str] = {}

    def esc(value: Any) -> str:
        kind = type(value)
        if kind is int:
            return str(value)
        if kind is not str:
            return str(markupsafe.escape(value))
        text = memo.get(value)
        if text is None:
            text = memo[value] = str(markupsafe.escape(value))
        return text

    return esc
