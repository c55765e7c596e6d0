"""Python API: ``inspector.analyze(path)`` -> :class:`Result` with typed DataFrames."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inspector.config import Config
from inspector.pipeline import Collected, Progress, collect, imported_tables
from inspector.pipeline import run_stages as pipeline_stages
from inspector.report.destinations import with_destinations
from inspector.schema import load_all
from inspector.tables import to_frame

__all__ = ["Result", "analyze", "result_from", "with_imports"]


@dataclass
class Result:
    """The outcome of one analysis: every table as a DataFrame, plus the packet accounting."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def result_from(collected: Collected, extra: dict[str, Any] | None = None) -> Result:
    tables = {name: to_frame(name, collected.rows.get(name, [])) for name in load_all()}
    tables = with_destinations(tables)  # report/destinations.py: a view of the published flows
    summary = collected.summary()
    summary.update(extra or {})
    return Result(tables, summary, list(collected.warnings))


def run_stages(collected: Collected, config: Config) -> Result:
    """The stages after the packet stages (:func:`inspector.pipeline.run_stages`), as DataFrames."""
    meta = pipeline_stages(collected, config)
    return result_from(collected, {"attribution": meta})


def with_imports(result: Result, config: Config) -> Result:
    """``result`` with the requests of the HAR and mitmproxy files of ``config`` added to its
    ``http`` and ``data_shared`` tables (:func:`inspector.pipeline.imported_tables`)."""
    if not config.har and not config.mitm:
        return result
    extra = imported_tables(config)
    tables = dict(result.tables)
    for name, rows in extra.items():
        frame = to_frame(name, rows)
        old = tables.get(name)
        tables[name] = (
            frame if old is None or old.empty else pd.concat([old, frame], ignore_index=True)
        )
    summary = dict(result.summary)
    summary["tables"] = {**summary.get("tables", {})}
    for name, rows in extra.items():
        summary["tables"][name] = summary["tables"].get(name, 0) + len(rows)
    summary["imports"] = [{"path": p, "format": "har"} for p in config.har] + [
        {"path": p, "format": "mitmproxy"} for p in config.mitm
    ]
    return Result(tables, summary, list(result.warnings))


def analyze(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    config: Config | None = None,
    progress: Progress | None = None,
) -> Result:
    """Analyse one capture, a folder of captures, or several of either.

    >>> result = analyze("captures/zoom-2020.pcap")  # doctest: +SKIP
    >>> result.findings[["finding", "destination", "explanation"]]  # doctest: +SKIP
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    config = config or Config()
    result = run_stages(collect([os.fspath(p) for p in paths], config, progress), config)
    return with_imports(result, config)
