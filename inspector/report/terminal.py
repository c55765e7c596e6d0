"""The terminal view: a compact findings table per session, safe against hostile capture strings.

Capture strings never reach the terminal as they are: :func:`safe_text` makes control
characters visible (``\\x1b[31m`` is printed as the six characters ``\\x1b[31m``, not as a
colour change) and rich markup in them is never interpreted (cells are :class:`rich.text.Text`
objects; where markup is used, capture strings go through :func:`rich.markup.escape`).
"""

from __future__ import annotations

from typing import Any, TextIO

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from inspector.api import Result
from inspector.report.text import (
    FINDING_TITLES,
    SEVERITY_ORDER,
    VERDICT_SHORT,
    count,
    human_bytes,
    plain,
    safe_text,
)
from inspector.report.unread import unread, unread_lines

__all__ = [
    "SHORT_TITLES",
    "findings_table",
    "make_console",
    "print_report",
    "safe_text",
    "session_line",
    "summary_lines",
]

#: Short finding names for the narrow terminal table (report.html and report.csv spell them out).
SHORT_TITLES = {
    "third_party_telemetry": "third-party tracker",
    "first_party_telemetry": "vendor telemetry",
    "media_encryption": "media protection",
    "signalling_encryption": "signalling protection",
    "plaintext_media": "UNENCRYPTED MEDIA",
    "plaintext_http": "plaintext HTTP",
    "cleartext_dns": "cleartext DNS",
    "weak_tls": "weak TLS",
    "ecb_suspected": "ECB-like media",
    "local_helper": "local helper",
    "personal_data": "PERSONAL DATA SENT",
}
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _t(value: object, style: str = "") -> Text:
    return Text(plain(value), style=style)


def summary_lines(result: Result) -> list[str]:
    """The packet accounting in two lines (plain text, no markup)."""
    s = result.summary
    pk = s.get("packets", {})
    lines = [
        f"{len(s.get('inputs', []))} capture(s), {pk.get('total', 0)} packets: "
        f"{pk.get('decoded', 0)} decoded, {pk.get('skipped_total', 0)} skipped, "
        f"{pk.get('malformed_total', 0)} malformed"
    ]
    tables = ", ".join(f"{k} {v}" for k, v in s.get("tables", {}).items() if k != "flows" and v)
    lines.append(count(int(s.get("flows", 0)), "flow") + (f"; {tables}" if tables else ""))
    return [safe_text(line) for line in lines]


def session_line(session: Any) -> str:
    """One line describing a session, e.g. ``S1 Zoom, 5.2 s, 8 flows, 209.8 kB``."""
    parts = [plain(session.session_id), plain(session.app) or "unknown app"]
    head = " ".join(p for p in parts if p)
    dur = float(session.duration_s) if plain(session.duration_s) else 0.0
    weakest = plain(session.weakest_verdict)
    tail = f", weakest: {VERDICT_SHORT.get(weakest, weakest)}" if weakest else ""
    return (
        f"{head}: {dur:.1f} s, {_count(session.flows, 'flow')}, "
        f"{human_bytes(int(session.bytes_total or 0))}{tail}"
    )


def _count(n: object, noun: str) -> str:
    """``1 flow``, ``3 flows`` (a missing count reads ``0 flows``)."""
    text = plain(n) or "0"
    return f"{text} {noun}" if text == "1" else f"{text} {noun}s"


def _destination(r: Any) -> Text:
    text = Text(plain(r.destination))
    org = plain(r.organisation).split(" (")[0]  # compact: "(formerly ...)" stays in the files
    if org:
        text.append("\n" + org, style="dim")
    return text


def findings_table(findings: pd.DataFrame, title: str) -> Table:
    """A rich table of findings, most severe first."""
    table = Table(
        title=escape(safe_text(title)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        expand=False,
        pad_edge=False,
    )
    table.add_column("id", no_wrap=True, min_width=5)
    table.add_column("sev", no_wrap=True, min_width=6)
    table.add_column("finding", max_width=21)
    table.add_column("destination (operator)", overflow="ellipsis", min_width=20, ratio=1)
    table.add_column("protection", max_width=18)
    order = findings.assign(
        _rank=findings["severity"].map(lambda v: SEVERITY_ORDER.get(plain(v), 9))
    ).sort_values(["_rank", "finding_id"], kind="stable")
    for r in order.itertuples(index=False):
        sev = plain(r.severity)
        verdict = plain(r.verdict)
        table.add_row(
            _t(r.finding_id),
            Text(sev, style=SEVERITY_STYLE.get(sev, "")),
            Text(
                SHORT_TITLES.get(plain(r.finding))
                or FINDING_TITLES.get(plain(r.finding), "")
                or plain(r.finding)
            ),
            _destination(r),
            Text(VERDICT_SHORT.get(verdict, verdict)),
        )
    return table


def print_report(result: Result, console: Console, outdir: str | None = None) -> None:
    """Print the accounting, then one findings table per session, then where outputs went."""
    for line in summary_lines(result):
        console.print(Text(line))  # wrapped at spaces to the terminal width
    for line in unread_lines(unread(result.tables.get("flows"))):
        console.print(Text(safe_text(line)))
    findings = result.tables.get("findings", pd.DataFrame())
    sessions = result.tables.get("sessions", pd.DataFrame())
    shown: set[str] = set()
    for s in sessions.itertuples(index=False):
        sid = plain(s.session_id)
        shown.add(sid)
        rows = findings[findings["session_id"].fillna("") == sid] if len(findings) else findings
        console.print()
        console.print(Text("Session " + session_line(s), style="bold"))
        if len(rows):
            console.print(findings_table(rows, f"{len(rows)} finding(s)"))
        else:
            console.print(Text("  no findings"))
    if len(findings):
        rest = findings[~findings["session_id"].fillna("").isin(shown)]
        if len(rest):
            console.print()
            console.print(Text("Outside any session", style="bold"))
            console.print(findings_table(rest, f"{len(rest)} finding(s)"))
    for w in result.warnings:
        console.print(Text("warning: " + safe_text(w), style="yellow"))
    if outdir is not None:
        console.print()
        console.print(
            Text(f"outputs written to {safe_text(outdir)} (report.html for people)"),
            soft_wrap=True,
        )


def make_console(stream: TextIO, width: int | None = None) -> Console:
    """A console on ``stream`` that never highlights or interprets emoji codes in data."""
    return Console(
        file=stream, highlight=False, emoji=False, markup=True, width=width, soft_wrap=False
    )


#: Rows the live view shows before "... and N more".
LIVE_MAX_ROWS = 20


def live_panel(findings: pd.DataFrame, header: str) -> Any:
    """The live view: one header line and a compact findings table (most severe first)."""
    from rich.console import Group

    table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    columns = ("severity", "finding", "destination", "organisation", "verdict", "flows")
    for name in columns:
        table.add_column(name, overflow="ellipsis")
    table.add_column("bytes out", justify="right", overflow="ellipsis")
    records = findings.to_dict("records") if len(findings) else []
    records.sort(key=lambda r: (SEVERITY_ORDER.get(str(r.get("severity")), 9), str(r["finding"])))
    for r in records[:LIVE_MAX_ROWS]:
        sev = plain(r.get("severity"))
        cells = [_t(r.get(c)) for c in columns[1:]]
        table.add_row(_t(sev, SEVERITY_STYLE.get(sev, "")), *cells, _t(r.get("bytes_to_server")))
    parts: list[Any] = [_t(header, "bold")]
    if records:
        parts.append(table)
        if len(records) > LIVE_MAX_ROWS:
            more = len(records) - LIVE_MAX_ROWS
            parts.append(_t(f"... and {more} more in findings.csv", "dim"))
    else:
        parts.append(_t("no findings yet", "dim"))
    return Group(*parts)
