"""Write every output file of a run into OUTDIR.

For each table: ``<table>.csv`` (spreadsheet-safe, see :mod:`inspector.report.csvout`) and
``<table>.json`` (records, for machines). For people: ``report.html`` (self-contained page) and
``report.csv`` (the findings with plain column names). ``summary.json`` holds the packet
accounting and where each capture was read from (``inputs[].abspath``, which
``inspector evidence`` uses to find it again; left out of pseudonymised runs).
"""

from __future__ import annotations

import contextlib
import copy
import os
from pathlib import Path
from typing import Any

from inspector.api import Result
from inspector.report.csvout import write_csv, write_report_csv
from inspector.report.html import write_html, write_run_html
from inspector.report.jsonout import dumps, write_json

__all__ = ["CONTRACT_TABLES", "summary_for_output", "write_outputs"]

#: Tables always written (even when empty), per the interface contract.
CONTRACT_TABLES = ("flows", "dns", "tls", "quic", "http", "stun", "dtls", "rtp", "weird")


def summary_for_output(result: Result) -> dict[str, Any]:
    """``result.summary`` plus, unless pseudonymised, each input's absolute path and size."""
    summary = copy.deepcopy(result.summary)
    if summary.get("pseudonymized"):
        return summary
    for item in summary.get("inputs", []):
        path = item.get("path")
        if isinstance(path, str) and path:
            item["abspath"] = os.path.abspath(path)
            with contextlib.suppress(OSError):
                item["size_bytes"] = os.path.getsize(path)
    return summary


def write_outputs(
    result: Result, outdir: str | Path, formats: tuple[str, ...] = ("csv",), jobs: int = 1
) -> list[Path]:
    """Write every table as CSV and JSON, the reports and ``summary.json``; return the paths.

    ``formats``: ``csv`` (CSV and JSON tables), ``parquet`` (:mod:`inspector.report.parquet`).
    A run of several captures gets an index ``report.html`` and one page per capture (rendered
    by ``jobs`` processes).
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "parquet" in formats:
        from inspector.report.parquet import write_parquet

        written += write_parquet(result, out)
    for name, frame in result.tables.items() if "csv" in formats else ():
        path = out / f"{name}.csv"
        write_csv(frame, path)
        written.append(path)
        path = out / f"{name}.json"
        write_json(frame, path)
        written.append(path)
    summary = out / "summary.json"
    summary.write_bytes(
        (dumps(summary_for_output(result)) + "\n").encode("utf-8", "backslashreplace")
    )
    written.append(summary)
    if "findings" in result.tables:
        path = out / "report.csv"
        write_report_csv(result.tables["findings"], path)
        written.append(path)
    # A pseudonymised report is for publishing: do not print the local folder's path in it.
    hint = "OUTDIR" if result.summary.get("pseudonymized") else str(outdir)
    if len(result.summary.get("files", ())) > 1:
        written += write_run_html(result, out, outdir_hint=hint, jobs=jobs)
    else:
        written.append(write_html(result, out / "report.html", outdir_hint=hint))
    return written
