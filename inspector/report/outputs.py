"""Write every output file of a run into OUTDIR."""

from __future__ import annotations

import json
from pathlib import Path

from inspector.api import Result
from inspector.report.csvout import write_csv

__all__ = ["CONTRACT_TABLES", "write_outputs"]

#: Tables always written (even when empty), per the interface contract.
CONTRACT_TABLES = ("flows", "dns", "tls", "quic", "http", "stun", "dtls", "rtp", "weird")


def write_outputs(result: Result, outdir: str | Path) -> list[Path]:
    """Write ``<table>.csv`` for every table and ``summary.json``; return the paths written."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, frame in result.tables.items():
        path = out / f"{name}.csv"
        write_csv(frame, path)
        written.append(path)
    summary = out / "summary.json"
    summary.write_text(
        json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    written.append(summary)
    return written
