"""Write every output file of a run into OUTDIR, all or nothing.

For each table: ``<table>.csv`` (spreadsheet-safe, see :mod:`inspector.report.csvout`) and
``<table>.json`` (records, for machines). For people: ``report.html`` (self-contained page) and
``report.csv`` (the findings with plain column names). ``summary.json`` holds the packet
accounting and where each capture was read from (``inputs[].abspath``, which
``inspector evidence`` uses to find it again; left out of pseudonymised runs).

Nothing is ever left half-written. Every file is first written into a fresh temporary folder
beside OUTDIR (same parent, so the same file system) and only when all of them are complete is
the folder moved into place: atomically exchanged with the previous output folder
(``renameat2(RENAME_EXCHANGE)`` where Linux offers it, else two renames), the previous one then
deleted. When OUTDIR holds files this tool did not write (the user's own files, an evidence
pcap), the folder itself is kept and each complete file is renamed over its old version instead.
An interruption (Ctrl-C, SIGTERM turned into an exception by the CLI) or a write error (disk
full, no permission) removes the temporary folder and leaves OUTDIR exactly as it was; a write
error is raised as :class:`OutputError`, one line.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from inspector.api import Result
from inspector.batch_pages import Prebuilt
from inspector.errors import OutputError
from inspector.report.csvout import write_csv, write_report_csv
from inspector.report.destinations import with_destinations
from inspector.report.html import write_html, write_run_html
from inspector.report.jsonout import dumps, write_json

__all__ = ["CONTRACT_TABLES", "OutputError", "summary_for_output", "write_outputs"]

#: Tables always written (even when empty), per the interface contract.
CONTRACT_TABLES = ("flows", "dns", "tls", "quic", "http", "stun", "dtls", "rtp", "weird")
#: names of files a run writes (tables in any format, reports); anything else in OUTDIR is foreign
_OWN_NAME = re.compile(r"[a-z0-9_]+\.(csv|json|html|parquet)")
#: Folders a run writes inside OUTDIR: Parquet datasets, per-capture pages, the resume cache.
_OWN_FOLDERS = frozenset({"parquet", "files", ".inspector-cache"})
#: What our folders hold: only such files there means the folder is ours to remove.
#: (the cache's entries are ``.arrows`` since it stopped being pickle, inspector.batch_cache)
_OWN_SUFFIX = {
    "parquet": (".parquet",),
    "files": (".html",),
    ".inspector-cache": (".arrows", ".pickle"),
}
#: Kept from the previous outputs into the new ones (results of unchanged captures).
_CARRIED = ".inspector-cache"
#: a table of this many rows is formatted in a worker process when the run has several
_POOL_ROWS = 100
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


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
    result: Result,
    outdir: str | Path,
    formats: tuple[str, ...] = ("csv",),
    jobs: int = 1,
    prebuilt: Prebuilt | None = None,
) -> list[Path]:
    """Write every table as CSV and JSON, the reports and ``summary.json``; return the paths.

    ``formats``: ``csv`` (CSV and JSON tables), ``parquet`` (:mod:`inspector.report.parquet`).
    A run of several captures gets an index ``report.html`` and one page per capture (rendered
    by ``jobs`` processes; ``prebuilt``: the pages and ``report.csv`` rows the batch workers
    made, :mod:`inspector.batch_pages`). All or nothing (see the module docstring); raises
    :class:`OutputError` on a write error.
    """
    out = Path(outdir)
    hint = "OUTDIR" if result.summary.get("pseudonymized") else str(outdir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        os.chmod(tmp, _folder_mode(out))
    except OSError as exc:
        raise OutputError(_describe(exc, out)) from exc
    try:
        names = [p.relative_to(tmp) for p in _write_all(result, tmp, hint, formats, jobs, prebuilt)]
        _move_into_place(tmp, out, bool(result.summary.get("pseudonymized")))
    except OSError as exc:
        raise OutputError(_describe(exc, out)) from exc
    finally:  # also on KeyboardInterrupt and the CLI's SIGTERM exception
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / n for n in names]


def _write_table(frame: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """``<name>.csv`` and ``<name>.json`` (in a worker process when the run has several)."""
    csv_path, json_path = out / f"{name}.csv", out / f"{name}.json"
    write_csv(frame, csv_path)
    write_json(frame, json_path)
    return [csv_path, json_path]


def _write_part(kind: str, frame: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """``<name>.csv`` or ``<name>.json`` alone: a large table's two files are two pool tasks,
    so that the largest table does not keep one worker busy while the other waits."""
    path = out / f"{name}.{kind}"
    (write_csv if kind == "csv" else write_json)(frame, path)
    return [path]


def _writer_pool(jobs: int) -> Any:
    """Worker processes for the outputs (the batch run's forkserver, its imports done)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from inspector.workers import PRELOAD

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ProcessPoolExecutor(jobs, mp_context=ctx)


def _write_all(
    result: Result,
    out: Path,
    hint: str,
    formats: tuple[str, ...],
    jobs: int,
    prebuilt: Prebuilt | None,
) -> list[Path]:
    written: list[Path] = []
    # destinations.csv is a view of the published flows, built by api.result_from (and rewritten
    # with them by pseudonymize); only a Result made without it gets it here
    if "destinations" not in result.tables:
        result = Result(with_destinations(result.tables), result.summary, result.warnings)
    tables = list(result.tables.items()) if "csv" in formats else []
    # jobs > 1: the larger tables (and a run's pages) are formatted in worker processes while
    # this one writes the reports; every file is the same whichever process writes it
    several = len(result.summary.get("files", ())) > 1
    big = sorted((t for t in tables if len(t[1]) >= _POOL_ROWS), key=lambda t: -len(t[1]))
    pool = _writer_pool(jobs) if jobs > 1 and (big or (several and not prebuilt)) else None
    with pool if pool is not None else contextlib.nullcontext():
        pending = []
        if pool is not None:
            pending = [
                pool.submit(_write_part, kind, frame, out, name)
                for name, frame in big
                for kind in ("csv", "json")
            ]
            tables = [t for t in tables if len(t[1]) < _POOL_ROWS]
        if "parquet" in formats:
            from inspector.report.parquet import write_parquet

            written += write_parquet(result, out)
        for name, frame in tables:
            written += _write_table(frame, out, name)
        written += _write_reports(result, out, hint, jobs, pool, prebuilt)
        for fut in pending:
            written += fut.result()
    summary = out / "summary.json"  # last: its presence marks a complete folder
    summary.write_bytes(
        (dumps(summary_for_output(result)) + "\n").encode("utf-8", "backslashreplace")
    )
    written.append(summary)
    for path in written:
        _fsync(path)
    return written


def _write_reports(
    result: Result, out: Path, hint: str, jobs: int, pool: Any, prebuilt: Prebuilt | None
) -> list[Path]:
    """``report.csv`` and the HTML report (a run's index and pages, or one page)."""
    written = []
    if "findings" in result.tables:
        path = out / "report.csv"
        rows = prebuilt.report if prebuilt is not None else None
        write_report_csv(result.tables["findings"], path, rows)
        written.append(path)
    # A pseudonymised report is for publishing: do not print the local folder's path in it.
    if len(result.summary.get("files", ())) > 1:
        written += write_run_html(
            result,
            out,
            outdir_hint=hint,
            jobs=jobs,
            pool=pool,
            rendered=(prebuilt.pages, prebuilt.nonce) if prebuilt is not None else None,
        )
    else:
        written.append(write_html(result, out / "report.html", outdir_hint=hint))
    return written


def _folder_mode(out: Path) -> int:
    """The previous folder's permissions, else what ``mkdir`` would give (mkdtemp gives 0700)."""
    with contextlib.suppress(OSError):
        return out.stat().st_mode & 0o7777
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o777 & ~mask


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(tmp: Path, out: Path, public: bool = False) -> None:
    """``tmp`` (complete) becomes ``out``; afterwards ``tmp`` holds the old outputs, if any.

    ``public`` (pseudonymised outputs): the resume cache of an earlier run, which holds real
    addresses, is not carried over; from a folder that is kept (it holds other files), the
    cache, Parquet datasets and per-capture pages an earlier run left are removed."""
    if not out.exists():
        os.rename(tmp, out)
        tmp.mkdir()  # so the caller's cleanup has something to remove
        return
    if _replaceable(out):
        carried = _carry(out, tmp) if not public else False
        try:
            swapped = _exchange(tmp, out)
        except OSError:
            _carry(tmp, out) if carried else None
            raise
        if not swapped:
            old = tmp.with_name(tmp.name.replace(".partial-", ".previous-"))
            os.rename(out, old)
            os.rename(tmp, out)
            os.rename(old, tmp)
        return
    if public:  # our own folders an earlier run left (cache, Parquet, pages) hold real addresses
        for name, suffixes in _OWN_SUFFIX.items():
            folder = out / name
            if (tmp / name).exists() or folder.is_symlink() or not folder.is_dir():
                continue
            ours = (*suffixes, *(s + ".tmp" for s in suffixes), "_metadata", "_common_metadata")
            if all(p.is_dir() or p.name.endswith(ours) for p in folder.rglob("*")):
                shutil.rmtree(folder, ignore_errors=True)
    for item in sorted(tmp.iterdir(), key=lambda p: p.name == "summary.json"):
        target = out / item.name
        if item.is_dir() and target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # one of our own folders (Parquet, pages): replaced whole
        os.replace(item, target)  # each file complete, summary.json last


def _carry(src: Path, dst: Path) -> bool:
    """Move the resume cache from ``src`` into ``dst`` (same file system); True if moved."""
    cache = src / _CARRIED
    if not cache.is_dir() or (dst / _CARRIED).exists():
        return False
    os.rename(cache, dst / _CARRIED)
    return True


def _replaceable(out: Path) -> bool:
    """True for a folder a previous run wrote: only our file names, and our summary.json.

    A symbolic link is never replaced (the outputs go into the folder it points to), nor the
    current folder (``-o .``)."""
    if out.is_symlink() or out.resolve() == Path.cwd().resolve():
        return False
    try:
        entries = list(out.iterdir())
    except OSError:
        return False
    if not entries:
        return True
    own = [
        (e.is_file() and _OWN_NAME.fullmatch(e.name)) or (e.is_dir() and e.name in _OWN_FOLDERS)
        for e in entries
    ]
    if not all(own):
        return False
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("tool") == "conference-inspector"


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where that is not available."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _describe(exc: OSError, out: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "no space left on the device"
    else:
        what = exc.strerror or str(exc)
    return f"cannot write the outputs to {out}: {what}; nothing there was changed"
