"""Many captures in one run: each analysed on its own, in parallel processes or on Dask.

``inspector analyze a.pcap b.pcap FOLDER -o OUT`` analyses every capture exactly as if it were
given alone (its own client, sessions, findings) and writes the union of the tables with a
``file`` column (ids: :mod:`inspector.batch_union`). ``--merge`` reads the files as one capture
(a ring buffer), in the time order of their first packets.

- A bad input is a row, not an abort: every input is opened (its header only) before any packet
  is read; an unreadable, empty or foreign file is ``failed`` with its reason, a file cut short is
  analysed up to the cut and ``partial``. When no input can be read at all the run stops with
  :class:`InputError` (exit 2) before reading a packet; otherwise the CLI exits with
  :data:`EXIT_SOME_FAILED` when any input failed.
- ``jobs`` worker processes (default: the machine's cores) take one capture each, largest first;
  a capture larger than its fair share (and than ``split_bytes``) is split across ``jobs``
  workers by flow (:mod:`inspector.batch_shard`), with results identical to one process.
- ``scheduler``: the same tasks go to a Dask distributed cluster (:mod:`inspector.batch_dask`);
  every worker must be able to read the input paths (shared storage).
- A run of several captures has a page per capture: the worker that analysed a whole capture
  renders its page too (:mod:`inspector.batch_pages`), so the main process only writes it.
- ``cache_dir``: each capture's result is stored under the hash of its content, the tool
  version and the configuration, as data only (:mod:`inspector.batch_cache`: checked on load,
  never unpickled); a re-run with the same output folder reuses it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from inspector.api import Result, analyze, run_stages, with_imports
from inspector.batch_cache import Cache, file_digest, input_stamp
from inspector.batch_local import local_stream, worker_failed
from inspector.batch_pages import Prebuilt, new_nonce, render_page, run_report
from inspector.batch_shard import ShardPart, first_ts, merge_shards, read_capture
from inspector.batch_union import FileOutcome, union
from inspector.config import Config
from inspector.errors import InputError
from inspector.schema import load_all
from inspector.source import expand_paths, open_capture
from inspector.tables import empty_frame
from inspector.workers import SPLIT_BYTES, default_jobs, start_server, worth_workers

__all__ = [
    "EXIT_SOME_FAILED",
    "BatchResult",
    "Task",
    "plan",
    "run_batch",
    "run_task",
]

#: CLI exit code when the run finished but some inputs could not be analysed (a cut file is
#: analysed up to the cut: listed as ``partial`` with a warning, exit 0 as for one capture)
EXIT_SOME_FAILED = 3
CACHE_FOLDER = ".inspector-cache"
DEFAULT_SPLIT_BYTES = SPLIT_BYTES


@dataclass(frozen=True, slots=True)
class PageJob:
    """What a worker needs to render its capture's run page (:mod:`inspector.batch_pages`)."""

    index: int  #: the capture's 1-based position in the run (``summary.json`` ``files``)
    outdir_hint: str
    nonce: str
    sha256: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class CacheJob:
    """Where the process that analyses a whole capture keeps its result for a later run
    (local workers share this machine's OUTDIR; a Dask worker may not, so the main process
    keeps those)."""

    cache: Cache
    key: str
    stamps: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of work: a capture (one file, or several with ``--merge``), maybe one shard."""

    capture: int  #: index of the capture in the run
    paths: tuple[str, ...]
    shard: tuple[int, int] | None = None
    size: int = 0  #: bytes this task reads (for scheduling and progress)
    label: str = ""  #: the ``file`` column of a merged capture
    page: PageJob | None = None  #: render the capture's run page too (whole files only)
    cache: CacheJob | None = None  #: keep the result in the cache too (whole files only)

    @property
    def plain(self) -> bool:
        """One whole file: analysed by :func:`inspector.api.analyze` itself."""
        return self.shard is None and len(self.paths) == 1


def run_task(
    task: Task, config: Config, tick: Callable[[str, int, int], None] | None = None
) -> tuple[Any, ...]:
    """Run one task (in a worker process or on a Dask worker); never raises.

    ``tick(path, position, size)``: reading progress within the file (same process only).
    """
    try:
        if task.plain:
            result = analyze(task.paths[0], config, progress=tick)
            page = _page(task, result)  # first: a failure here is the task's, nothing is kept
            if task.cache is not None:
                task.cache.cache.put(task.cache.key, task.cache.stamps, result)
            return ("result", result, *page)
        return (
            "part",
            read_capture(task.paths, dataclasses.replace(config, shard=task.shard), task.label),
        )
    except InputError as exc:
        return ("error", str(exc), False)
    except Exception as exc:  # one bad file must not end the run; reported as an internal error
        return ("error", f"internal error: {type(exc).__name__}: {exc}", True)


def run_remote(task: Task, config: Config) -> tuple[Any, ...]:
    """:func:`run_task` in another process: the result's empty tables are sent as None (most
    tables of a small capture are empty, and unpickling an empty frame costs as much as making
    one); :func:`_full` puts them back."""
    out = run_task(task, config)
    if out[0] != "result":
        return out
    r = out[1]
    tables = {n: None if _blank(n, f) else f for n, f in r.tables.items()}
    return ("result", Result(tables, r.summary, r.warnings), *out[2:])


@functools.cache
def _empty_frame(name: str) -> pd.DataFrame:
    return empty_frame(name)


def _blank(name: str, frame: pd.DataFrame) -> bool:
    """True for an empty table that is exactly the schema's empty frame."""
    if len(frame) or name not in load_all():
        return False
    e = _empty_frame(name)
    return (
        list(frame.columns) == list(e.columns)
        and list(frame.dtypes) == list(e.dtypes)
        and type(frame.index) is type(e.index)
        and frame.attrs == e.attrs
    )


def _full(result: Result) -> Result:
    """The result :func:`run_remote` sent, its empty tables back. They are one shared frame per
    table (copying 700 empty frames costs more than the rest of the union): a capture's result
    is only read here (union, summary, cache), never changed in place."""
    if all(f is not None for f in result.tables.values()):
        return result
    tables = {n: _empty_frame(n) if f is None else f for n, f in result.tables.items()}
    return Result(tables, result.summary, result.warnings)


def _page(task: Task, result: Result) -> tuple[str | None, pd.DataFrame | None]:
    """The capture's run page as text and its ``report.csv`` rows (None: not asked for). A
    failure here is an internal error of the task (:func:`run_task`), as anywhere else in it."""
    if task.page is None:
        return None, None
    from inspector.batch_pages import render_page, report_rows

    job = task.page
    o = FileOutcome(task.paths[0], job.index, result=result, sha256=job.sha256)
    o.status, o.reason = cut_status(result)
    return render_page(o, job.outdir_hint, job.nonce), report_rows(o)


def plan(
    captures: Sequence[tuple[tuple[str, ...], int, str]], workers: int, split_bytes: int
) -> list[Task]:
    """Tasks for ``(paths, size, label)`` captures, largest first; big ones split by flow."""
    total = sum(size for _, size, _ in captures)
    tasks = []
    for i, (paths, size, label) in enumerate(captures):
        n = workers if workers > 1 and size >= split_bytes and size * workers > total else 1
        if n > 1:
            tasks += [Task(i, paths, (k, n), size // n, label) for k in range(n)]
        else:
            tasks.append(Task(i, paths, None, size, label))
    tasks.sort(key=lambda t: (-t.size, t.capture, t.shard or (0, 1)))
    return tasks


@dataclass
class BatchResult:
    """The run's union :class:`Result` and one :class:`FileOutcome` per input."""

    result: Result
    outcomes: list[FileOutcome]
    jobs: int = 1  #: local worker processes the run used (1 on a Dask cluster)
    #: what the workers made for the outputs (run pages, report.csv rows)
    prebuilt: Prebuilt | None = None

    @property
    def exit_code(self) -> int:
        if any(o.internal for o in self.outcomes):
            return 1
        if any(o.status == "failed" for o in self.outcomes):
            return EXIT_SOME_FAILED
        return 0


# ---- before any packet: which inputs can be read at all


def check_inputs(paths: Sequence[str]) -> tuple[list[str], list[FileOutcome]]:
    """(readable paths, failed outcomes): opens each file and reads its header only."""
    good, bad = [], []
    for i, path in enumerate(paths, 1):
        try:
            open_capture(path).close()
        except InputError as exc:
            bad.append(FileOutcome(path, i, "failed", _reason(str(exc), path)))
            continue
        good.append(path)
    return good, bad


def _reason(message: str, path: str) -> str:
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


# ---- executing tasks: here, in local processes, or on a Dask cluster


def _forkserver() -> Any:
    """The forkserver context (:func:`inspector.workers.start_server`)."""
    return start_server()


def task_output(future: Any) -> tuple[Any, ...]:
    """A finished future's output; a worker that died becomes an error row, not a dead run."""
    try:
        return tuple(future.result())
    except Exception as exc:  # BrokenProcessPool, a killed Dask worker, ...
        return worker_failed(exc)


# ---- the run


@dataclass
class _Capture:
    index: int
    paths: tuple[str, ...]
    label: str
    outcome: FileOutcome
    cache_key: str = ""
    stamps: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    parts: list[ShardPart] = dataclasses.field(default_factory=list)
    shards: int = 1  #: tasks the capture was split into
    page: str | None = None  #: its run page as the worker rendered it
    report: pd.DataFrame | None = None  #: its report.csv rows as the worker made them


def _captures(good: Sequence[str], index: dict[str, int], merge: bool) -> list[_Capture]:
    if not merge or len(good) < 2:
        return [_Capture(i, (p,), "", FileOutcome(p, index[p])) for i, p in enumerate(good)]
    ordered = tuple(sorted(good, key=lambda p: (first_ts(p), index[p])))
    names = [os.path.basename(p) for p in ordered]
    label = " + ".join(names) if len(names) <= 3 else f"{names[0]} + ... + {names[-1]}"
    outcome = FileOutcome(ordered[0], index[ordered[0]], extra={"merged": list(ordered)})
    return [_Capture(0, ordered, label, outcome)]


def _readable(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[Any], list[str]]:
    """(readable files, outcomes of unreadable ones, all files); InputError when none is read."""
    files = expand_paths(paths)  # InputError (exit 2) for a missing path
    good, failed = check_inputs(files)
    if not good:
        detail = "; ".join(f"{o.file}: {o.reason}" for o in failed[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        raise InputError(f"no readable capture among {len(files)} input(s): {detail}{more}")
    return good, failed, files


def _not_cached(captures: list[_Capture], cache: Cache | None) -> list[_Capture]:
    """The captures still to analyse; the others are finished from the cache."""
    if cache is None:
        return list(captures)
    todo = []
    for c in captures:
        digests = [file_digest(p) for p in c.paths]
        c.outcome.sha256 = digests[0] if len(digests) == 1 else ""
        c.cache_key = cache.key(digests, c.label or os.path.basename(c.paths[0]))
        c.stamps = [input_stamp(p, d) for p, d in zip(c.paths, digests, strict=True)]
        cached = cache.get(c.cache_key, c.stamps)
        if cached is None:
            todo.append(c)
        else:
            _finish(c, cached)
            c.outcome.cached = True
    return todo


@dataclass
class _Progress:
    """Files, bytes and packets done, reported to the caller's callback."""

    callback: Callable[[int, int, int, int], None] | None
    total_files: int
    files: int = 0
    bytes: int = 0
    packets: int = 0

    def within(self, pos: int) -> None:  # one capture at a time in this process
        if self.callback is not None:
            self.callback(self.files, self.total_files, self.bytes + pos, self.packets)

    def report(self) -> None:
        if self.callback is not None:
            self.callback(self.files, self.total_files, self.bytes, self.packets)


def _schedule(
    todo: list[_Capture],
    config: Config,
    jobs: int | None,
    scheduler: str | None,
    split_bytes: int,
    prog: _Progress,
    page: tuple[str, str] | None = None,
    cache: Cache | None = None,
) -> tuple[list[Task], Iterable[tuple[Task, Any]], int]:
    sizes = [(c.paths, sum(os.path.getsize(p) for p in c.paths), c.label) for c in todo]
    workers = jobs if jobs is not None else default_jobs()
    if scheduler:
        from inspector.batch_dask import cluster_threads, execute

        workers = cluster_threads(scheduler) if jobs is None else jobs
        tasks = _with_pages(plan(sizes, workers, split_bytes), todo, page)
        stream: Iterable[tuple[Task, Any]] = execute(tasks, config, scheduler)
    else:
        tasks = _with_pages(plan(sizes, workers, split_bytes), todo, page)
        tasks = _with_cache(tasks, todo, cache)
        within = prog.within if prog.callback is not None else None
        stream = local_stream(tasks, config, workers, within)
    for t in tasks:
        todo[t.capture].shards = t.shard[1] if t.shard else 1
    return tasks, stream, workers


def _with_pages(
    tasks: list[Task], todo: list[_Capture], page: tuple[str, str] | None
) -> list[Task]:
    """Whole-file tasks also render their capture's run page when ``page`` (hint, nonce)."""
    if page is None:
        return tasks
    return [
        dataclasses.replace(
            t, page=PageJob(todo[t.capture].outcome.index, *page, todo[t.capture].outcome.sha256)
        )
        if t.plain
        else t
        for t in tasks
    ]


def _with_cache(tasks: list[Task], todo: list[_Capture], cache: Cache | None) -> list[Task]:
    """Whole-file tasks keep their result in the cache themselves: its encoding (about 10 ms a
    capture) then runs in the workers, in parallel, instead of here while they run."""
    if cache is None:
        return tasks
    out = []
    for t in tasks:
        c = todo[t.capture]
        out.append(
            dataclasses.replace(t, cache=CacheJob(cache, c.cache_key, c.stamps)) if t.plain else t
        )
    return out


def _drain(
    todo: list[_Capture],
    stream: Iterable[tuple[Task, Any]],
    config: Config,
    cache: Cache | None,
    prog: _Progress,
) -> None:
    for task, out in stream:
        c = todo[task.capture]
        prog.bytes += task.size
        if _collect(c, task, out, config):
            prog.files += 1
            if c.outcome.result is not None:
                prog.packets += int(c.outcome.result.summary.get("packets", {}).get("total", 0))
                kept = task.cache is not None and out[0] == "result"  # by the worker
                if cache is not None and c.outcome.status != "failed" and not kept:
                    cache.put(c.cache_key, c.stamps, c.outcome.result)
        prog.report()


def run_batch(
    paths: Sequence[str | os.PathLike[str]],
    config: Config | None = None,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    merge: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    split_bytes: int = DEFAULT_SPLIT_BYTES,
    progress: Callable[[int, int, int, int], None] | None = None,
    pages: str | None = None,
) -> BatchResult:
    """Analyse every capture under ``paths``; see the module docstring.

    ``progress(files_done, files_total, bytes_done, packets_done)`` is called as captures finish.
    ``pages``: the OUTDIR as the run pages print it; when given, the workers render the run
    pages of the captures they analyse whole (:attr:`BatchResult.pages`). Leave it None when the
    outputs are rewritten before they are written (pseudonymised).
    """
    whole = config or Config()
    # HAR / mitmproxy requests belong to no capture: added once to the union, never cached
    config = dataclasses.replace(whole, har=(), mitm=())
    good, failed, files = _readable(paths)
    several = len(files) > 1 and not merge
    if scheduler is None and worth_workers(good, jobs, split_bytes):
        _forkserver()  # imports in the background while the inputs are hashed
    index = {p: i for i, p in enumerate(files, 1)}
    captures = _captures(good, index, merge)
    cache = Cache(cache_dir, config) if cache_dir is not None else None
    todo = _not_cached(captures, cache)
    prog = _Progress(progress, len(captures), len(captures) - len(todo))
    page = (pages, new_nonce()) if pages is not None and several and whole == config else None
    tasks, stream, workers = _schedule(
        todo, config, jobs, scheduler, split_bytes, prog, page, cache
    )
    _drain(todo, stream, config, cache, prog)
    outcomes = sorted([c.outcome for c in captures] + failed, key=lambda o: o.index)
    result = with_imports(union(outcomes), whole)
    # one task: nothing ran in parallel, and the outputs need no worker processes either
    used = 1 if scheduler or len(tasks) <= 1 else workers
    return BatchResult(result, outcomes, used, _prebuilt(captures, *page) if page else None)


def _prebuilt(captures: list[_Capture], hint: str, nonce: str) -> Prebuilt:
    pages = {c.outcome.index: c.page for c in captures if isinstance(c.page, str)}
    ordered = sorted(captures, key=lambda c: c.outcome.index)  # the union's order
    done = [c for c in ordered if c.outcome.result is not None]
    # A page the workers did not render (a capture taken from the cache) is cut from the
    # union by its ``file`` column, the file's name: two captures of the same name (from two
    # folders) would share their rows there, so such a page is rendered here from its own result.
    names = Counter(c.outcome.file for c in done)
    for c in done:
        if c.outcome.index not in pages and names[c.outcome.file] > 1:
            pages[c.outcome.index] = render_page(c.outcome, hint, nonce)
    if all(isinstance(c.report, pd.DataFrame) for c in done):
        return Prebuilt(nonce, pages, run_report([c.report for c in done]))
    return Prebuilt(nonce, pages)


def _collect(c: _Capture, task: Task, out: tuple[Any, ...], config: Config) -> bool:
    """Take one task's output; True when its capture is complete."""
    kind = out[0]
    if kind == "error":
        if c.outcome.status != "failed":
            c.outcome.status, c.outcome.reason = "failed", _reason(out[1], task.paths[0])
            c.outcome.internal = bool(out[2])
        c.parts.append(ShardPart(collected=None, shard=task.shard))  # type: ignore[arg-type]
    elif kind == "result":
        _finish(c, _full(out[1]), *out[2:4])
        return True
    else:
        c.parts.append(out[1])
    if len(c.parts) < c.shards:
        return False
    if c.outcome.status != "failed":
        if len(c.parts) > 1 and any(p.collected.flows_evicted for p in c.parts):
            # flow-table pressure: each shard evicts from its own table, so the merge would not
            # be what one process gives; read the capture again in one piece (here)
            c.parts, c.shards = [], 1
            whole = dataclasses.replace(task, shard=None)
            return _collect(c, whole, run_task(whole, config), config)
        try:
            merged = merge_shards(c.parts) if len(c.parts) > 1 else c.parts[0].collected
            _finish(c, run_stages(merged, config))
        except InputError as exc:
            c.outcome.status, c.outcome.reason = "failed", _reason(str(exc), task.paths[0])
        except Exception as exc:  # as in run_task: one capture's bug must not end the run
            c.outcome.status, c.outcome.internal = "failed", True
            c.outcome.reason = f"internal error: {type(exc).__name__}: {exc}"
    c.parts = []
    return True


def cut_status(result: Result) -> tuple[str, str]:
    """(status, reason) of a capture analysed without error: ``partial`` when a file was cut."""
    cut = [i.get("path", "") for i in result.summary.get("inputs", []) if i.get("truncated")]
    if not cut:
        return "ok", ""
    names = ", ".join(os.path.basename(p) for p in cut)
    return "partial", f"file cut short: analysed up to the cut ({names})"


def _finish(c: _Capture, result: Result, page: Any = None, report: Any = None) -> None:
    c.outcome.result = result
    c.page, c.report = page, report
    status, reason = cut_status(result)
    if status != "ok":
        c.outcome.status, c.outcome.reason = status, reason
