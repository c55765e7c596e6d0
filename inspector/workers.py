"""The local worker processes of a run: a forkserver whose server has imported the analysis.

Light on purpose (no pandas): the command line starts the server first thing
(:func:`inspector.cli.main`), so that the server's imports run while the main process does its
own, and :mod:`inspector.batch` and the output writers fork their workers from it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from inspector.dissect.registry import DISSECTOR_MODULES

__all__ = ["PRELOAD", "SPLIT_BYTES", "default_jobs", "start_server", "worth_workers"]

#: imported once by the fork server, so worker processes start with them loaded
PRELOAD = (
    "inspector.batch",
    "inspector.attribute.stage",
    "inspector.assess.stage",
    "inspector.findings",
    "inspector.report.html",
    *(mod for _, mod in DISSECTOR_MODULES),
    "inspector.workers_warm",
)
#: a capture is split across workers only from this size on
SPLIT_BYTES = 32 << 20


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_server() -> Any:
    """The forkserver context whose server imports :data:`PRELOAD` once; started (not awaited)
    here, so its imports overlap with the caller's own work until the first worker."""
    import multiprocessing as mp
    from multiprocessing import forkserver

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    forkserver.ensure_running()
    return ctx


def worth_workers(
    paths: Sequence[str | os.PathLike[str]], jobs: int | None, split_bytes: int = SPLIT_BYTES
) -> bool:
    """True when local worker processes have something to share: several captures, or one
    large enough to be split by flow. One small capture is analysed without starting any."""
    if (jobs if jobs is not None else default_jobs()) <= 1:
        return False
    from inspector.errors import InputError
    from inspector.source import expand_paths

    try:
        files = expand_paths(paths)
        return len(files) > 1 or any(os.path.getsize(p) >= split_bytes for p in files)
    except (InputError, OSError):
        return False
