"""``inspector compare OUT_A OUT_B``: what changed between two runs (e.g. before and after an app
update): destinations, third parties and data categories added or gone, verdicts changed.

It reads the two output folders only (``destinations.csv`` or, for older folders, ``flows.csv``;
``findings.csv``; ``data_shared.csv``) and writes nothing into them.
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from inspector.errors import InputError
from inspector.report.csvout import write_csv
from inspector.report.destinations import destinations_frame
from inspector.report.text import plain, safe_text

__all__ = ["Change", "add_compare_parser", "compare_folders", "run_compare"]

COMPARE_EPILOG = """\
examples:
  inspector analyze before.pcap -o out-before
  inspector analyze after.pcap -o out-after
  inspector compare out-before out-after                 # the changes, as text
  inspector compare out-before out-after -o changes      # plus changes/compare.csv and .html

exit codes: 0 compared (whether or not anything changed), 2 a folder is not an analyze OUTDIR.
"""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between run A (before) and run B (after)."""

    change: str  #: added, gone or changed
    kind: str  #: destination, third_party, data_category or verdict
    item: str  #: the destination, organisation or data category concerned
    detail: str  #: organisation / category of a destination, where the data went...
    before: str  #: value in run A ('' when added)
    after: str  #: value in run B ('' when gone)


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _load(folder: str) -> dict[str, pd.DataFrame]:
    p = Path(folder)
    if not (p / "summary.json").is_file() or not (p / "flows.csv").is_file():
        raise InputError(f"{folder}: not an output folder of `inspector analyze` (no summary.json)")
    dest = _read(p, "destinations")
    if dest.empty and "destination" not in dest.columns:
        flows = _read(p, "flows")
        for c in ("orig_bytes", "resp_bytes", "ts", "duration_s"):
            if c in flows:
                flows[c] = pd.to_numeric(flows[c], errors="coerce")
        dest = destinations_frame(flows).astype(str)
    return {"destinations": dest, "findings": _read(p, "findings"), "data": _read(p, "data_shared")}


def _by(frame: pd.DataFrame, key: str, value: str) -> dict[str, str]:
    if frame.empty or key not in frame.columns:
        return {}
    out: dict[str, set[str]] = {}
    for k, v in zip(frame[key], frame[value] if value in frame else [""] * len(frame), strict=True):
        if plain(k):
            out.setdefault(plain(k), set()).add(plain(v))
    return {k: "; ".join(sorted(v - {""})) for k, v in out.items()}


def _set_changes(kind: str, a: dict[str, str], b: dict[str, str]) -> list[Change]:
    gone = [Change("gone", kind, k, a[k], "present", "") for k in sorted(set(a) - set(b))]
    added = [Change("added", kind, k, b[k], "", "present") for k in sorted(set(b) - set(a))]
    return gone + added


def _third_parties(findings: pd.DataFrame) -> dict[str, str]:
    if findings.empty or "finding" not in findings.columns:
        return {}
    third = findings[findings["finding"] == "third_party_telemetry"]
    return _by(third, "organisation", "destination")


def _data_categories(data: pd.DataFrame) -> dict[str, str]:
    if data.empty or "category" not in data.columns:
        return {}
    return _by(data, "category", "destination")


def compare_folders(before: str, after: str) -> list[Change]:
    """Every change from run ``before`` to run ``after``: gone first, then added, then changed."""
    a, b = _load(before), _load(after)
    da = _by(a["destinations"], "destination", "organisation")
    db = _by(b["destinations"], "destination", "organisation")
    changes = _set_changes("destination", da, db)
    changes += _set_changes(
        "third_party", _third_parties(a["findings"]), _third_parties(b["findings"])
    )
    changes += _set_changes(
        "data_category", _data_categories(a["data"]), _data_categories(b["data"])
    )
    va = _by(a["destinations"], "destination", "verdicts")
    vb = _by(b["destinations"], "destination", "verdicts")
    for name in sorted(set(va) & set(vb)):
        if va[name] != vb[name]:
            changes.append(Change("changed", "verdict", name, db.get(name, ""), va[name], vb[name]))
    return changes


_KIND_TEXT = {
    "destination": "Destination",
    "third_party": "Third party (tracker or telemetry)",
    "data_category": "Personal data category sent",
    "verdict": "Encryption verdict",
}


def _line(c: Change) -> str:
    what = f"{_KIND_TEXT[c.kind]}: {c.item}"
    if c.change == "changed":
        return f"changed  {what}: {c.before} -> {c.after}"
    return f"{c.change:<8} {what}" + (f" ({c.detail})" if c.detail else "")


def render_text(changes: list[Change], before: str, after: str, stream: TextIO) -> None:
    stream.write(safe_text(f"Changes from {before} to {after}: {len(changes)}") + "\n")
    for c in changes:
        stream.write("  " + safe_text(_line(c)) + "\n")
    if not changes:
        stream.write("  nothing changed in destinations, third parties, data or verdicts\n")


def changes_frame(changes: list[Change]) -> pd.DataFrame:
    cols = ["change", "kind", "item", "detail", "before", "after"]
    rows = [[getattr(c, k) for k in cols] for c in changes]
    return pd.DataFrame(rows, columns=cols, dtype="string")


def render_page(changes: list[Change], before: str, after: str) -> str:
    """A self-contained HTML page (no script, no network) of the changes."""
    e = html.escape
    rows = "".join(
        f"<tr class='{e(c.change)}'><td>{e(c.change)}</td><td>{e(_KIND_TEXT[c.kind])}</td>"
        f"<td>{e(safe_text(c.item))}</td><td>{e(safe_text(c.detail))}</td>"
        f"<td>{e(safe_text(c.before))}</td><td>{e(safe_text(c.after))}</td></tr>"
        for c in changes
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\"><title>What changed</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d5d8dc;"
        "padding:.3rem;text-align:left;overflow-wrap:anywhere}tr.gone td:first-child{color:#b03a2e}"
        "tr.added td:first-child{color:#1e8449}</style></head><body>"
        f"<h1>What changed</h1><p>From <code>{e(safe_text(before))}</code> (before) to "
        f"<code>{e(safe_text(after))}</code> (after): {len(changes)} change(s).</p>"
        "<table><tr><th>Change</th><th>What</th><th>Item</th><th>Detail</th><th>Before</th>"
        f"<th>After</th></tr>{rows}</table></body></html>\n"
    )


def add_compare_parser(subparsers: Any) -> argparse.ArgumentParser:
    c = subparsers.add_parser(
        "compare",
        help="what changed between two analyze output folders",
        description="Compare two `inspector analyze` output folders (e.g. before and after an "
        "app update): destinations, third parties and data categories added or gone, and "
        "encryption verdicts that changed.",
        epilog=COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("before", metavar="OUT_A", help="output folder of the earlier run")
    c.add_argument("after", metavar="OUT_B", help="output folder of the later run")
    c.add_argument(
        "-o",
        "--outdir",
        default=None,
        metavar="DIR",
        help="also write compare.csv and compare.html",
    )
    return c


def run_compare(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """``inspector compare``; InputError (exit 2) for a folder that is not an analyze OUTDIR."""
    out = stdout or sys.stdout
    if args.outdir:
        from inspector.source.checks import check_outdir

        check_outdir(args.outdir)
    changes = compare_folders(args.before, args.after)
    render_text(changes, args.before, args.after, out)
    if args.outdir:
        folder = Path(args.outdir)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(changes_frame(changes), folder / "compare.csv")
        (folder / "compare.html").write_text(
            render_page(changes, args.before, args.after), encoding="utf-8"
        )
    return 0
