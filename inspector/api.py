"""Python API: ``inspector.analyze(path)`` -> :class:`Result` with typed DataFrames."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inspector.config import Config
from inspector.pipeline import Collected, Progress, collect
from inspector.schema import load_all
from inspector.schema.base import index_by_uid
from inspector.tables import to_frame

__all__ = ["Result", "analyze", "result_from"]


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
    summary = collected.summary()
    summary.update(extra or {})
    return Result(tables, summary, list(collected.warnings))


def run_stages(collected: Collected, config: Config) -> Result:
    """The stages after the packet stages: attribute, assess, findings; then DataFrames.

    User tracker lists named in ``config`` are loaded here (they are configuration, read once).
    """
    from inspector.assess.stage import BY_UID_TABLES, assess
    from inspector.attribute.database import bundled_database
    from inspector.attribute.importers import load_list, match
    from inspector.attribute.stage import attribute
    from inspector.findings import build_findings, build_sessions
    from inspector.privacy import REQUESTS, data_shared
    from inspector.source.known_values import privacy_settings

    lists = [load_list(spec) for spec in config.tracker_lists]
    requests = collected.rows.pop(REQUESTS, [])  # decrypted/cleartext requests (not output)
    att = attribute(collected.rows, bundled_database(), config.client, lists, match)
    rows = att.rows
    settings = privacy_settings(config.known_values, config.show_values)
    rows["data_shared"] = data_shared(requests, rows.get("flows", []), settings)  # type: ignore[arg-type]
    by_uid = index_by_uid(rows, BY_UID_TABLES)  # after attribution, which may swap directions
    flows, sessions = assess(rows, att.client, by_uid)
    rows["flows"] = flows
    rows["findings"] = build_findings(
        flows, by_uid, sessions, rows.get("lookups", []), rows.get("http", [])
    )
    rows["sessions"] = build_sessions(flows, sessions)
    collected.rows = rows
    return result_from(collected, {"attribution": att.meta})


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
    return run_stages(collect([os.fspath(p) for p in paths], config, progress), config)
