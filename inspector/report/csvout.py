"""CSV output that is safe to open in a spreadsheet.

Two kinds of CSV are written:

* ``<table>.csv``: every table with its schema column names (``docs/schema.md``), for people who
  filter and join in a spreadsheet or a script. Text is kept exactly as decoded.
* ``report.csv``: the findings for people, one row per finding, with plain English column names
  (:data:`REPORT_COLUMNS` documents each), times in UTC, control characters made visible, and a
  UTF-8 byte-order mark so that Excel detects the encoding when the file is double-clicked.

Both are UTF-8 with CRLF line ends (RFC 4180): a carriage return or line feed inside a capture
string is then always quoted, so it cannot forge a row. A text cell whose first visible
character would start a formula (``= + - @``, their full-width forms, or a tab/CR/LF before
them) gets a leading apostrophe: Excel and LibreOffice show it as text, and the capture's string
stays whole and readable after it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from inspector.report.text import FINDING_TITLES, VERDICT_SHORT, iso_time, plain

__all__ = [
    "FORMULA_PREFIXES",
    "REPORT_COLUMNS",
    "neutralise",
    "report_columns_markdown",
    "report_frame",
    "write_csv",
    "write_report_csv",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_BLANKS = " \t\r\n\x0b\x0c\u00a0\u3000"


def neutralise(value: object) -> object:
    """The cell value with formula triggers disarmed (non-strings unchanged).

    >>> neutralise('=HYPERLINK("http://evil","x")')
    '\\'=HYPERLINK("http://evil","x")'
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_PREFIXES) or value.lstrip(_LEADING_BLANKS).startswith(
        FORMULA_PREFIXES
    ):
        return "'" + value
    return value


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name, dtype in out.dtypes.items():
        if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
            out[name] = out[name].map(neutralise, na_action="ignore")
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as UTF-8 CSV (CRLF) with text cells neutralised; NA is an empty cell."""
    _neutralised(frame).to_csv(
        path,
        index=False,
        encoding="utf-8",
        errors="backslashreplace",
        float_format="%.6f",
        lineterminator="\r\n",
    )


def _protection(row: pd.Series) -> str:
    verdict = plain(row.get("verdict"))
    if not verdict:
        return ""
    return f"{VERDICT_SHORT.get(verdict, verdict)} ({verdict})"


def _int(value: object) -> object:
    return None if plain(value) == "" else int(value)  # type: ignore[call-overload]


#: (column name in report.csv, documentation, how the value is computed from a findings row).
REPORT_COLUMNS: tuple[tuple[str, str, Callable[[pd.Series], object]], ...] = (
    ("Finding ID", "Id of the finding (use it with `inspector evidence`).", lambda r: r.finding_id),
    ("Session", "Conferencing session (S1, S2...) or `outside`.", lambda r: r.session_id),
    (
        "App",
        "App the connection itself names (never the session's); may be empty.",
        lambda r: r.app,
    ),
    ("Severity", "high, medium, low or info.", lambda r: r.severity),
    (
        "Finding",
        "What kind of finding it is, in words.",
        lambda r: FINDING_TITLES.get(str(r.finding), r.finding),
    ),
    (
        "Destination",
        "Server name (or address) concerned, exactly as seen.",
        lambda r: r.destination,
    ),
    ("Organisation", "Who operates the destination, when known.", lambda r: r.organisation),
    ("Category", "What the destination is for (analytics, social_sdk...).", lambda r: r.category),
    (
        "Country (registry)",
        "Country the server address is registered to (not a geolocation).",
        lambda r: r.country,
    ),
    ("Protection", "How the traffic is encrypted, in words (verdict code).", _protection),
    ("Explanation", "What was seen and what it means.", lambda r: r.explanation),
    ("Evidence", "The technical evidence (fields, frames, sources).", lambda r: r.evidence),
    ("Caveat", "What this does not prove.", lambda r: r.caveat),
    ("Confidence", "high, medium or low.", lambda r: r.confidence),
    (
        "Wireshark filter",
        "Display filter selecting the packets behind the finding.",
        lambda r: r.evidence_filter,
    ),
    ("Frames", "Key frame numbers in the capture file, ';'-joined.", lambda r: r.frames),
    ("Capture file", "Capture file the frames refer to.", lambda r: r.file),
    ("Connections", "Number of flows concerned.", lambda r: _int(r.flows)),
    ("Bytes sent", "Bytes the device sent in these flows.", lambda r: _int(r.bytes_to_server)),
    (
        "Bytes received",
        "Bytes the device received in these flows.",
        lambda r: _int(r.bytes_from_server),
    ),
    ("First seen (UTC)", "First packet of these flows.", lambda r: iso_time(r.first_seen)),
    ("Last seen (UTC)", "Last packet of these flows.", lambda r: iso_time(r.last_seen)),
    (
        "Attribution source",
        "Database row or list entry that named the organisation, with its published source.",
        lambda r: r.attribution_source,
    ),
)


def report_frame(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings as the people-facing table of ``report.csv`` (not yet neutralised)."""
    names = [name for name, _doc, _fn in REPORT_COLUMNS]
    rows = []
    for _, r in findings.iterrows():
        row = []
        for _name, _doc, fn in REPORT_COLUMNS:
            value = fn(r)
            row.append(value if isinstance(value, int) or value is None else plain(value))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    for name in ("Connections", "Bytes sent", "Bytes received"):
        frame[name] = pd.array(list(frame[name]), dtype="Int64")
    return frame


def write_report_csv(findings: pd.DataFrame, path: str | Path) -> None:
    """Write ``report.csv``: UTF-8 with BOM, CRLF, plain column names, formula-safe cells."""
    _neutralised(report_frame(findings)).to_csv(
        path, index=False, encoding="utf-8-sig", errors="backslashreplace", lineterminator="\r\n"
    )


def report_columns_markdown() -> str:
    """The column reference of ``report.csv`` as a Markdown table."""
    lines = ["| column | meaning |", "|---|---|"]
    lines += [f"| {name} | {doc} |" for name, doc, _fn in REPORT_COLUMNS]
    return "\n".join(lines) + "\n"
