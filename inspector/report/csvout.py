"""CSV output that is safe to open in a spreadsheet.

Two kinds of CSV are written:

* ``<table>.csv``: every table with its schema column names (``docs/schema.md``), for people who
  filter and join in a spreadsheet or a script. Text is kept exactly as decoded.
* ``report.csv``: the findings for people, one row per finding, with plain English column names
  (:data:`REPORT_COLUMNS` documents each, all ASCII), times in UTC, control characters made
  visible, long texts wrapped into lines at word boundaries (a cell with line breaks is shown
  wrapped, not as one clipped line).

  It is opened by double-click, and both LibreOffice's default CSV import and Excel's then read
  the file in the Western 8-bit code page (Windows-1252), ignoring a UTF-8 byte-order mark
  (LibreOffice shows it as ``ï»¿`` glued to the first header). So ``report.csv`` is written in
  Windows-1252 without a byte-order mark: headers and Latin-script text show exactly, and a
  character the code page lacks is written as a visible escape (``\u540d``). The exact UTF-8
  text of every finding is in ``findings.csv`` / ``findings.json``.

The tables are UTF-8; every CSV has CRLF line ends (RFC 4180): a carriage return or line feed
inside a capture string is then always quoted, so it cannot forge a row. A text cell whose first
visible character would start a formula (``= + - @``, their full-width forms, or a tab/CR/LF before
them) gets a leading apostrophe: Excel and LibreOffice show it as text, and the capture's string
stays whole and readable after it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from inspector.report.text import FINDING_TITLES, VERDICT_SHORT, iso_time, plain

__all__ = [
    "FORMULA_PREFIXES",
    "REPORT_COLUMNS",
    "REPORT_ENCODING",
    "WRAPPED_COLUMNS",
    "WRAP_WIDTH",
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


#: a cell can need :func:`neutralise` only if its first character is one of these
_TRIGGERS = sorted({p[0] for p in FORMULA_PREFIXES} | set(_LEADING_BLANKS))
_TRIGGER_SET = frozenset(_TRIGGERS)


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``frame`` with every text column's cells neutralised.

    A text column is scanned by its first characters (one pass over ``tolist``, cheaper than
    pandas' ``str``/``isin`` per column); only the few cells that start with a trigger go
    through :func:`neutralise`."""
    out = frame.copy(deep=False)
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.StringDtype):
            column = frame[name]
            hit = np.array(
                [type(v) is str and v[:1] in _TRIGGER_SET for v in column.tolist()], dtype=bool
            )
            if hit.any():
                column = column.copy()
                column[hit] = column[hit].map(neutralise)
                out[name] = column
        elif pd.api.types.is_object_dtype(dtype):
            out[name] = frame[name].map(neutralise, na_action="ignore")
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


#: Encoding of ``report.csv`` (what a double-click import assumes; see the module docstring).
REPORT_ENCODING = "cp1252"
#: Long-text columns of ``report.csv`` broken into lines of at most :data:`WRAP_WIDTH` characters.
WRAPPED_COLUMNS = frozenset({"Explanation", "Evidence", "Caveat", "Attribution source"})
WRAP_WIDTH = 90


def _wrap(text: str) -> str:
    """Lines of at most WRAP_WIDTH characters, broken at spaces only (a word is never cut)."""
    if len(text) <= WRAP_WIDTH:
        return text
    return "\n".join(
        textwrap.wrap(text, WRAP_WIDTH, break_long_words=False, break_on_hyphens=False)
    )


def _cell(name: str, value: object) -> object:
    if isinstance(value, int) or value is None:
        return value
    text = plain(value)
    return _wrap(text) if name in WRAPPED_COLUMNS else text


class _Row(dict[str, object]):
    """One findings row: its cells by column name, as attributes too (as a Series gives them)."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def report_frame(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings as the people-facing table of ``report.csv`` (not yet neutralised)."""
    names = [name for name, _doc, _fn in REPORT_COLUMNS]
    columns = [str(c) for c in findings.columns]
    rows = []
    for values in findings.values:  # the cells iterrows() would give, without a Series per row
        r = _Row(zip(columns, values, strict=True))
        rows.append([_cell(name, fn(r)) for name, _doc, fn in REPORT_COLUMNS])
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    for name in ("Connections", "Bytes sent", "Bytes received"):
        frame[name] = pd.array(list(frame[name]), dtype="Int64")
    return frame


def write_report_csv(
    findings: pd.DataFrame, path: str | Path, rows: pd.DataFrame | None = None
) -> None:
    """Write ``report.csv``: Windows-1252, CRLF, plain column names, formula-safe cells.

    ``rows``: :func:`report_frame` of ``findings`` when already made (by the batch workers)."""
    _neutralised(report_frame(findings) if rows is None else rows).to_csv(
        path,
        index=False,
        encoding=REPORT_ENCODING,
        errors="backslashreplace",
        lineterminator="\r\n",
    )


def report_columns_markdown() -> str:
    """The column reference of ``report.csv`` as a Markdown table."""
    lines = ["| column | meaning |", "|---|---|"]
    lines += [f"| {name} | {doc} |" for name, doc, _fn in REPORT_COLUMNS]
    return "\n".join(lines) + "\n"
