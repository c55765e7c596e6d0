"""The tasks of :mod:`inspector.batch` on a Dask distributed cluster (``--scheduler ADDRESS``).

Each task (a capture, or one flow shard of a large capture) is submitted as
:func:`inspector.batch.run_task`; workers need the ``inspector`` package installed and must be able
to read the input paths (shared storage: the paths are sent, not the bytes). Results come back
as the same values a local worker process returns, so the tables are the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from inspector.config import Config
from inspector.errors import InputError

if TYPE_CHECKING:
    from inspector.batch import Task

__all__ = ["cluster_threads", "connect", "execute"]

CONNECT_TIMEOUT_S = 20


def connect(address: str) -> Any:
    """A :class:`distributed.Client` for ``address``; :class:`InputError` with one line if not."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError(
            "--scheduler needs Dask: pip install 'conference-inspector[distributed]'"
        ) from exc
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach Dask scheduler {address} ({exc})") from exc


def cluster_threads(address: str) -> int:
    """Worker threads of the cluster (how many shards a large capture is split into)."""
    client = connect(address)
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()


def execute(tasks: Sequence[Task], config: Config, address: str) -> Iterator[tuple[Task, Any]]:
    """Submit every task; yield ``(task, output)`` as each finishes."""
    from distributed import as_completed

    from inspector.batch import run_remote, task_output

    client = connect(address)
    run = uuid.uuid4().hex[:12]
    try:
        futures = {
            client.submit(run_remote, t, config, pure=False, key=f"inspector-{run}-{i}"): t
            for i, t in enumerate(tasks)
        }
        for fut in as_completed(futures, loop=client.loop):
            task = futures[fut]
            yield task, task_output(fut)
            fut.release()
    finally:
        client.close()
