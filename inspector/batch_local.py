"""Running a batch run's tasks in local worker processes (:mod:`inspector.batch`).

The workers are forked from the forkserver (:mod:`inspector.workers`), whose server has done the
imports. Small captures go to the workers in chunks (:func:`chunks`), one round trip to this
process per chunk. When the run is one capture split by flow, this process reads the first shard
itself (:func:`_shard_here`), starting while the server is still importing (about a second
after the command starts).

This process does not take small captures itself while the server starts: its first capture
would load the attribution database and compile the report templates, which the server has
already done for the workers, and in the half second before the workers start that left no
gain (measured on the 60 largest shared captures: within the noise of 4.2-5.0 s per run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from inspector.config import Config
from inspector.workers import start_server

if TYPE_CHECKING:
    from inspector.batch import Task

__all__ = ["chunk_output", "chunks", "local_stream", "run_chunk", "worker_failed"]

#: (task, what ran in the worker: ("result", Result, page, report rows) | ("part", ShardPart) |
#: ("error", reason, internal))
Done = tuple["Task", tuple[Any, ...]]

#: a chunk of small tasks costs about this many bytes of capture per task on top of its size
#: (opening, the later stages and the page of a capture, whatever its size)
TASK_COST_BYTES = 256 << 10
#: chunks per worker at the start of a run (they shrink as the run goes: see :func:`chunks`)
CHUNKS_PER_WORKER = 4


def chunks(tasks: Sequence[Task], workers: int) -> list[list[Task]]:
    """``tasks`` (largest first) in chunks that a worker takes at once: one round trip to the
    main process per chunk instead of per capture (about 10 ms each, and on a machine whose
    cores the workers fill, the main process's turn comes late). Guided self-scheduling: each
    chunk costs about a ``CHUNKS_PER_WORKER * workers``-th of what remains, so the chunks
    shrink toward the end of the run and the workers finish together. A shard of a split
    capture is always a chunk of its own."""
    cost = [t.size + TASK_COST_BYTES for t in tasks]
    remaining = sum(cost)
    out: list[list[Task]] = []
    i = 0
    while i < len(tasks):
        share = remaining / (CHUNKS_PER_WORKER * max(1, workers))
        chunk, spent = [tasks[i]], cost[i]
        i += 1
        while i < len(tasks) and chunk[0].shard is None and tasks[i].shard is None:
            if spent + cost[i] > share:
                break
            chunk.append(tasks[i])
            spent += cost[i]
            i += 1
        remaining -= spent
        out.append(chunk)
    return out


def run_chunk(tasks: Sequence[Task], config: Config) -> list[tuple[Any, ...]]:
    """:func:`inspector.batch.run_remote` for each task of a chunk, in order."""
    from inspector.batch import run_remote

    return [run_remote(t, config) for t in tasks]


def local_stream(
    tasks: Sequence[Task], config: Config, jobs: int, tick: Callable[[int], None] | None = None
) -> Iterator[Done]:
    """``(task, output)`` for every task, as each finishes: here when ``jobs`` is 1, else in
    ``jobs`` worker processes (a lone split capture's first shard here: :func:`_shard_here`).
    ``tick(position)``: reading progress of a capture analysed here."""
    from inspector.batch import run_task

    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield t, run_task(t, config, (lambda p, pos, size: tick(pos)) if tick else None)
        return
    ctx = start_server()
    here = _shard_here(tasks, jobs)
    rest = [t for t in tasks if t is not here]
    with ProcessPoolExecutor(max_workers=min(jobs, len(rest)), mp_context=ctx) as pool:
        starting = _Submitter(pool, chunks(rest, jobs), config)
        if here is not None:
            yield here, run_task(here, config)
        futures = starting.join()
        for fut in as_completed(futures):
            outs = chunk_output(fut, len(futures[fut]))
            yield from zip(futures[fut], outs, strict=True)
        yield from starting.unsent()


class _Submitter:
    """Submits the chunks to the pool in a thread. The first submission waits until the worker
    server has done its imports (about a second): meanwhile this process reads its shard
    (:func:`_shard_here`) instead of waiting with a core idle."""

    def __init__(self, pool: ProcessPoolExecutor, todo: list[list[Task]], config: Config) -> None:
        self.pool, self.config = pool, config
        self.futures: dict[Any, list[Task]] = {}
        self.failed: list[tuple[list[Task], BaseException]] = []
        self._thread = threading.Thread(target=self._run, args=(todo,), daemon=True)
        self._thread.start()

    def _run(self, todo: list[list[Task]]) -> None:
        self.futures.update(self.submit(todo))

    def submit(self, todo: list[list[Task]]) -> dict[Any, list[Task]]:
        """Submit each chunk; when the pool refuses one, it and the rest are :meth:`unsent`."""
        out = {}
        for i, c in enumerate(todo):
            try:
                out[self.pool.submit(run_chunk, c, self.config)] = c
            except RuntimeError as exc:  # a broken or shut-down pool (BrokenProcessPool is one)
                self.failed += [(rest, exc) for rest in todo[i:]]
                break
        return out

    def join(self) -> dict[Any, list[Task]]:
        self._thread.join()
        return self.futures

    def unsent(self) -> Iterator[Done]:
        """An error output for each task whose chunk could not be submitted."""
        for c, exc in self.failed:
            yield from ((t, worker_failed(exc)) for t in c)


def _shard_here(tasks: Sequence[Task], jobs: int) -> Task | None:
    """The shard this process reads itself when the run is one capture split across ``jobs``:
    it starts before the worker processes have finished their imports, and its rows need no
    pickling; the later stages run here anyway. None for any other run (then this process only
    collects, and leaves the cores to the workers)."""
    if len(tasks) == jobs and all(t.shard is not None and t.capture == 0 for t in tasks):
        return tasks[0]
    return None


def chunk_output(future: Any, n: int) -> list[tuple[Any, ...]]:
    """The outputs of a finished chunk of ``n`` tasks (:func:`run_chunk`); when its worker
    died, each task of the chunk is an error row."""
    try:
        return [tuple(o) for o in future.result()]
    except Exception as exc:  # BrokenProcessPool: the worker died during the chunk
        return [worker_failed(exc)] * n


def worker_failed(exc: BaseException) -> tuple[Any, ...]:
    return ("error", f"internal error: worker failed: {type(exc).__name__}: {exc}", True)
