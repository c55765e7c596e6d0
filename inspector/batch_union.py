"""The union of per-file results: one table per kind with a ``file`` column, ids unique per run.

Id scheme of a run of several captures (a run of one capture keeps its ids unchanged):

- ``uid`` is unchanged: it is derived from the flow's first packet (time, protocol, addresses,
  ports; :func:`inspector.flows.key.make_uid`), so two captures share a uid only if both hold the
  same packet (a copied file); ``summary.json`` counts such ``uid_collisions`` and ``(file, uid)``
  is then the key.
- ``session_id`` gets the capture's namespace: ``S1`` of the run's third capture is ``3:S1``
  (captures numbered 1, 2, ... in the order of ``summary.json`` ``files``: sorted paths).
  ``outside`` (no session) stays ``outside``.
- ``finding_id`` is numbered through the run, capture after capture (``F0001`` ...), so
  ``inspector evidence OUTDIR F0012`` still finds the finding and, by its ``file``, the capture.
  The id a capture's finding had when analysed alone is kept in ``summary.json`` only implicitly
  (same order); the findings themselves are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from inspector import __version__
from inspector.api import Result
from inspector.schema import load_all
from inspector.tables import empty_frame

__all__ = ["FileOutcome", "file_entry", "stack", "union", "worst_verdict"]

#: worst first (``inspector.assess.encryption.VERDICTS``): a file's "worst verdict"
VERDICT_RANK = (
    "PLAINTEXT",
    "UNKNOWN",
    "PROPRIETARY_ENCRYPTED",
    "TRANSPORT_TLS",
    "HOP_BY_HOP_SRTP",
    "LIKELY_E2E",
    "E2E_INDICATED",
)


@dataclass
class FileOutcome:
    """One input of a run: ``ok``, ``partial`` (cut file, analysed up to the cut), ``failed``."""

    path: str
    index: int  #: 1-based position in the run
    status: str = "ok"
    reason: str = ""
    result: Result | None = None
    cached: bool = False
    sha256: str = ""
    internal: bool = False  #: failed by an internal error (a bug), not by its content
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> str:
        import os

        return os.path.basename(self.path)


def _with_file(name: str, frame: pd.DataFrame, file: str) -> pd.DataFrame:
    if "file" in frame.columns:
        return frame
    frame = frame.copy()
    frame["file"] = pd.array([file] * len(frame), dtype="string")
    return frame


def _present(column: pd.Series) -> list[str]:
    """The column's values that are not missing, as text (read with ``tolist``: a capture's
    small tables cost more in pandas' per-call overhead than in their rows)."""
    return [v if type(v) is str else str(v) for v in column.tolist() if not pd.isna(v)]


def worst_verdict(flows: pd.DataFrame) -> str:
    if not len(flows) or "encryption_verdict" not in flows.columns:
        return ""
    present = set(_present(flows["encryption_verdict"]))
    for v in VERDICT_RANK:
        if v in present:
            return v
    return sorted(present)[0] if present else ""


def file_entry(o: FileOutcome) -> dict[str, Any]:
    """The ``summary.json`` ``files`` row of one input."""
    entry: dict[str, Any] = {
        "index": o.index,
        "file": o.file,
        "path": o.path,
        "status": o.status,
        "reason": o.reason,
        "cached": o.cached,
    }
    if o.sha256:
        entry["sha256"] = o.sha256
    if o.result is not None:
        s, t = o.result.summary, o.result.tables
        entry["packets"] = s.get("packets", {})
        entry["flows"] = len(t.get("flows", ()))
        entry["sessions"] = len(t.get("sessions", ()))
        entry["findings"] = len(t.get("findings", ()))
        apps = _present(t["sessions"]["app"]) if "sessions" in t else []
        entry["apps"] = sorted({a for a in apps if a})
        entry["worst_verdict"] = worst_verdict(t["flows"]) if "flows" in t else ""
        if "attribution" in s:
            entry["attribution"] = s["attribution"]
    entry.update(o.extra)
    return entry


def _sum_packets(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"total": 0, "decoded": 0, "skipped": {}, "malformed": {}}
    for p in items:
        total["total"] += p.get("total", 0)
        total["decoded"] += p.get("decoded", 0)
        for kind in ("skipped", "malformed"):
            for k, v in p.get(kind, {}).items():
                total[kind][k] = total[kind].get(k, 0) + v
    for kind in ("skipped", "malformed"):
        total[kind] = dict(sorted(total[kind].items()))
        total[f"{kind}_total"] = sum(total[kind].values())
    return total


def union(outcomes: Sequence[FileOutcome], extra: dict[str, Any] | None = None) -> Result:
    """One :class:`Result` for the run: tables concatenated in input order, ids namespaced."""
    done = [o for o in outcomes if o.result is not None]
    results = [o.result for o in done if o.result is not None]
    several = len(outcomes) > 1
    tables = {}
    for name in dict.fromkeys([*load_all(), *(n for r in results for n in r.tables)]):
        frames = [r.tables[name] for r in results if name in r.tables]
        if not several:
            tables[name] = frames[0] if frames else empty_frame(name)
            continue
        tables[name] = stack(name, [(o, o.result.tables.get(name)) for o in done])  # type: ignore[union-attr]
    warnings = [
        f"{o.file}: {w}" if several else w
        for o in done
        for w in o.result.warnings  # type: ignore[union-attr]
    ]
    uids = tables["flows"]["uid"] if "flows" in tables else pd.Series([], dtype="string")
    summary = _summary(outcomes, [r.summary for r in results], int(uids.duplicated().sum()))
    summary.update(extra or {})
    return Result(tables, summary, warnings)


def stack(name: str, parts: Sequence[tuple[FileOutcome, pd.DataFrame | None]]) -> pd.DataFrame:
    """One table of several captures: rows in input order, ``file`` column, namespaced ids."""
    present = [(o, f) for o, f in parts if f is not None and len(f)]
    if not present:
        return _empty(name, True)
    frame = pd.concat([f for _, f in present], ignore_index=True)
    lengths = [len(f) for _, f in present]
    if "file" not in frame.columns:
        frame["file"] = pd.array(np.repeat([o.file for o, _ in present], lengths), dtype="string")
    if "session_id" in frame.columns:
        sid = frame["session_id"].astype("string")
        keep = sid.isna() | sid.isin(["", "outside"])
        prefix = pd.array(np.repeat([f"{o.index}:" for o, _ in present], lengths), dtype="string")
        frame["session_id"] = sid.where(keep, prefix + sid)
    if name == "findings":
        ids = [f"F{i:04d}" for i in range(1, len(frame) + 1)]
        frame["finding_id"] = pd.array(ids, dtype="string")
    return frame


def _empty(name: str, several: bool) -> pd.DataFrame:
    return _with_file(name, empty_frame(name), "") if several else empty_frame(name)


def _summary(
    outcomes: Sequence[FileOutcome], summaries: Sequence[dict[str, Any]], collisions: int
) -> dict[str, Any]:
    if len(outcomes) == 1 and summaries:
        summary = dict(summaries[0])  # one capture: its own summary, unchanged
    else:
        summary = {
            "tool": "conference-inspector",
            "version": __version__,
            "inputs": [i for s in summaries for i in s.get("inputs", [])],
            "packets": _sum_packets([s.get("packets", {}) for s in summaries]),
            "flows": sum(s.get("flows", 0) for s in summaries),
            "flows_evicted": sum(s.get("flows_evicted", 0) for s in summaries),
            "internal_errors": sum(s.get("internal_errors", 0) for s in summaries),
            "warnings": [w for s in summaries for w in s.get("warnings", [])],
        }
    summary["files"] = [file_entry(o) for o in outcomes]
    summary["files_failed"] = sum(o.status == "failed" for o in outcomes)
    summary["files_partial"] = sum(o.status == "partial" for o in outcomes)
    summary["uid_collisions"] = collisions
    return summary
