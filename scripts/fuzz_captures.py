"""Mutation campaign: mutated captures through the whole pipeline, checking the invariant.

    python scripts/fuzz_captures.py --count 10000 --seed 1 --jobs 2 --report fuzz-report.json

Sources: every capture under ``../shared/captures/real`` (when present) and the bundled
``captures/*.pcap``. Mutants come from :mod:`fuzz_mutate` (bit flips, byte runs, truncation at
and inside records, length fields 0 / huge / "negative", pcapng blocks reordered, duplicated
and dropped, interface ids out of range, link types swapped, gzip streams corrupted and cut).

Each mutant is analysed in one of ``--jobs`` long-lived worker processes, in-process through the
same calls the CLI makes (``analyze`` then ``write_outputs``), under an alarm of 10 CPU seconds
per MB (at least ``--min-seconds``); a worker that does not answer within the limit plus a grace is
killed and the mutant counted as a hang. Every ``--cli-every``-th mutant is also run through
``python -m inspector analyze`` in a subprocess. The invariant, per mutant:

- the analysis ends (no hang) and raises nothing but :class:`InputError` (exit 2, one line);
- ``summary.json``: total = decoded + skipped + malformed, and no ``internal_error`` rows;
- every output file is written and ``flows.csv`` holds ``summary["flows"]`` rows;
- CLI: exit 0 or 2, no traceback on stderr, exit 2 with exactly one ``inspector: error:`` line.

Failing mutants are written to ``--save-dir`` with their recipe (source, seed, index, operators);
``--replay SOURCE --seed S --index I`` rebuilds and checks one of them.

Targets: ``--target`` picks the implementation under test by environment (``TARGETS``); the
compiled core, once it lands, is one more entry there.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from fuzz_mutate import make_mutant

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "captures" / "real"
MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
MAGICS += (b"\x0a\x0d\x0d\x0a",)
#: implementation under test -> environment of the worker processes
TARGETS: dict[str, dict[str, str]] = {
    "default": {},
    "pure": {"INSPECTOR_PURE_PYTHON": "1"},
}
OUTPUT_FILES = ("summary.json", "report.html", "report.csv")
CONTRACT = ("flows", "dns", "tls", "quic", "http", "stun", "dtls", "rtp", "weird")
csv.field_size_limit(1 << 30)
#: CPU seconds a CLI run may spend on interpreter start-up and imports before its own limit
STARTUP_CPU_S = 10.0


class Hang(BaseException):
    """Raised by the alarm: a BaseException so no ``except Exception`` in the code swallows it."""


def capture_sources(shared: Path | None = SHARED) -> list[Path]:
    """Bundled captures, then every file under ``shared`` that starts like a capture or gzip."""
    out = sorted((ROOT / "captures").glob("*.pcap"))
    if shared is not None and shared.is_dir():
        for f in sorted(shared.rglob("*")):
            if f.is_file():
                with open(f, "rb") as fh:
                    head = fh.read(4)
                if head in MAGICS or head[:2] == b"\x1f\x8b":
                    out.append(f)
    return out


def pick_source(sources: list[Path], seed: int, index: int) -> Path:
    import random

    return sources[random.Random(f"{seed}:{index}:src").randrange(len(sources))]


def time_limit(nbytes: int, min_seconds: float) -> float:
    return max(min_seconds, 10.0 * nbytes / 1e6)


def check_outputs(outdir: Path) -> tuple[str, str]:
    """("ok", "") or the first broken promise of an output folder."""
    names = [*OUTPUT_FILES, *(f"{t}.{x}" for t in CONTRACT for x in ("csv", "json"))]
    for name in names:
        p = outdir / name
        if not p.is_file() or p.stat().st_size == 0:
            return "incomplete_outputs", f"{name} missing or empty"
    summary = json.loads((outdir / "summary.json").read_text(encoding="utf-8"))
    pk = summary["packets"]
    if pk["total"] != pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]:
        return "unbalanced", json.dumps(pk)[:300]
    if summary.get("internal_errors"):
        detail = _internal_errors(outdir)
        return "internal_error", detail
    with open(outdir / "flows.csv", newline="", encoding="utf-8-sig") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    if rows != summary["flows"]:
        return "incomplete_outputs", f"flows.csv has {rows} rows, summary says {summary['flows']}"
    for t in CONTRACT:
        json.loads((outdir / f"{t}.json").read_text(encoding="utf-8"))
    return "ok", ""


def _internal_errors(outdir: Path) -> str:
    rows = json.loads((outdir / "weird.json").read_text(encoding="utf-8"))
    return "; ".join(r["detail"] for r in rows if r.get("name") == "internal_error")[:500]


def analyse_in_process(
    path: Path, outdir: Path, limit_s: float, outputs: bool = True
) -> tuple[str, str]:
    """What ``inspector analyze PATH -o OUTDIR`` does, in this process, under an alarm.

    The alarm counts this process's CPU time (``ITIMER_PROF``), so a machine busy with other
    work does not turn a slow mutant into a false hang. ``outputs=False`` checks the accounting
    on the result without writing the output folder (the campaign writes it for a share).
    """
    from inspector.api import analyze
    from inspector.errors import InputError
    from inspector.report.outputs import write_outputs

    def alarm(signum: int, frame: Any) -> None:
        raise Hang()

    old = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, limit_s)
    try:
        result = analyze([str(path)])
        if outputs:
            write_outputs(result, outdir)
    except InputError as exc:
        return "rejected", str(exc)[:200]
    except Hang:
        return "hang", f"over {limit_s:.1f} s"
    except Exception:  # the invariant: nothing else may escape
        return "traceback", traceback.format_exc()[-1500:]
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)
    return check_outputs(outdir) if outputs else check_result(result)


def check_result(result: Any) -> tuple[str, str]:
    """The accounting promises, read from the in-memory result."""
    pk = result.summary["packets"]
    if pk["total"] != pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]:
        return "unbalanced", json.dumps(pk)[:300]
    if result.summary.get("internal_errors"):
        weird = result.tables["weird"]
        detail = "; ".join(weird[weird["name"] == "internal_error"]["detail"].astype(str))
        return "internal_error", detail[:500]
    if len(result.tables["flows"]) != result.summary["flows"]:
        return "incomplete_outputs", "flows table and summary disagree"
    return "ok", ""


def analyse_cli(path: Path, outdir: Path, limit_s: float, env: dict[str, str]) -> tuple[str, str]:
    """``python -m inspector analyze`` in a subprocess: exit code, stderr and outputs."""
    cmd = [sys.executable, "-m", "inspector", "analyze", str(path), "-o", str(outdir), "-q"]
    cpu_s = int(limit_s + STARTUP_CPU_S) + 1

    def limit_cpu() -> None:  # CPU time, not wall time: a busy machine is not a hang
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))

    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=20 * cpu_s + 120,  # only a last resort against a process that sleeps
            env={**os.environ, **env},
            cwd=ROOT,
            preexec_fn=limit_cpu,
        )
    except subprocess.TimeoutExpired:
        return "cli_hang", f"over {20 * cpu_s + 120} s wall"
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return "cli_hang", f"over {cpu_s} CPU seconds (start-up included)"
    err = proc.stderr
    if "Traceback" in err:
        return "cli_traceback", err[-1500:]
    if proc.returncode == 2:
        lines = err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("inspector: error:"):
            return "cli_exit", f"exit 2 with stderr {err[:300]!r}"
        return "rejected", lines[0][:200]
    if proc.returncode != 0:
        return "cli_exit", f"exit {proc.returncode}: {err[-500:]}"
    return check_outputs(outdir)


def run_one(task: dict[str, Any], work: Path) -> dict[str, Any]:
    """Build mutant ``task["index"]``, analyse it (and maybe via the CLI); a result record."""
    src = Path(task["source"])
    data, ops = make_mutant(src.read_bytes(), task["seed"], task["index"])
    suffix = ".pcapng" if b"\x0a\x0d\x0d\x0a" in data[:4] or src.suffix == ".pcapng" else ".pcap"
    gz = ".gz" if data[:2] == b"\x1f\x8b" else ""
    path = work / f"mutant{suffix}{gz}"
    path.write_bytes(data)
    limit = time_limit(max(len(data), _plain_size(data)), task["min_seconds"])
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    outcome, detail = analyse_in_process(path, out, limit, task["outputs"])
    elapsed = time.perf_counter() - t0
    cli = ""
    if task["cli"] and outcome in ("ok", "rejected"):
        shutil.rmtree(out, ignore_errors=True)
        cli, cdetail = analyse_cli(path, out, limit, task["env"])
        if cli not in ("ok", "rejected"):
            outcome, detail = cli, cdetail
        elif cli != outcome:
            outcome, detail = "cli_mismatch", f"in-process {outcome}, CLI {cli}"
    return {
        "index": task["index"],
        "source": task["source"],
        "ops": ops,
        "size": len(data),
        "limit_s": round(limit, 2),
        "elapsed_s": round(elapsed, 3),
        "outcome": outcome,
        "detail": detail,
        "cli": cli,
    }


def _plain_size(data: bytes) -> int:
    if data[:2] != b"\x1f\x8b":
        return len(data)
    import zlib

    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return len(d.decompress(data, 1 << 28))
    except zlib.error:
        return len(data)


def _worker(conn: Connection, env: dict[str, str], mem_mb: int) -> None:
    os.environ.update(env)
    if mem_mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    work = Path(tempfile.mkdtemp(prefix="fuzzcap-"))
    parent = os.getppid()
    try:
        while True:
            # a sibling worker holds this pipe's other end too: no EOF when the parent dies
            while not conn.poll(5):
                if os.getppid() != parent:
                    return
            task = conn.recv()
            if task is None:
                return
            conn.send(run_one(task, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Pool:
    """``jobs`` long-lived workers; one mutant at a time each; a silent worker is killed."""

    def __init__(self, jobs: int, env: dict[str, str], mem_mb: int) -> None:
        self.env, self.mem_mb = env, mem_mb
        self.slots: list[list[Any]] = [self._start() for _ in range(jobs)]

    def _start(self) -> list[Any]:
        parent, child = Pipe()
        proc = Process(target=_worker, args=(child, self.env, self.mem_mb), daemon=True)
        proc.start()
        child.close()
        return [proc, parent, None, 0.0]  # process, pipe, task, deadline

    def run(self, tasks: list[dict[str, Any]], on_result: Any) -> None:
        """Run ``tasks``; after SIGTERM or SIGINT, finish the running ones and stop there."""
        stop: list[int] = []

        def stopping(signum: int, frame: Any) -> None:
            stop.append(signum)

        old = [signal.signal(s, stopping) for s in (signal.SIGTERM, signal.SIGINT)]
        try:
            self._run((t for t in tasks if not stop), on_result)
        finally:
            signal.signal(signal.SIGTERM, old[0])
            signal.signal(signal.SIGINT, old[1])

    def _run(self, todo: Any, on_result: Any) -> None:
        busy = 0
        for slot in self.slots:
            busy += self._give(slot, next(todo, None))
        while busy:
            conns = [s[1] for s in self.slots if s[2] is not None]
            now = time.monotonic()
            timeout = max(0.0, min(s[3] for s in self.slots if s[2] is not None) - now)
            ready = wait(conns, timeout=timeout)
            for slot in self.slots:
                if slot[2] is None:
                    continue
                if slot[1] in ready:
                    try:
                        on_result(slot[1].recv())
                    except EOFError:  # the worker died: a crash (segfault, abort, OOM kill)
                        on_result(self._lost(slot, "crash"))
                        self._restart(slot)
                elif time.monotonic() > slot[3]:
                    on_result(self._lost(slot, "hang"))
                    self._restart(slot)
                else:
                    continue
                slot[2] = None
                busy -= 1
                busy += self._give(slot, next(todo, None))

    def _give(self, slot: list[Any], task: dict[str, Any] | None) -> int:
        if task is None:
            return 0
        slot[1].send(task)
        slot[2] = task
        # a last resort only (the CPU-time limits catch hangs): wall time on a busy machine,
        # for a mutant grown ~50x by duplications, plus the CLI run's own allowance
        limit = time_limit(Path(task["source"]).stat().st_size * 60, task["min_seconds"])
        cli = 20 * (limit + STARTUP_CPU_S + 1) + 120 if task["cli"] else 0
        slot[3] = time.monotonic() + 10 * limit + 60 + cli
        return 1

    def _lost(self, slot: list[Any], outcome: str) -> dict[str, Any]:
        task = slot[2]
        code = slot[0].exitcode
        return {
            "index": task["index"],
            "source": task["source"],
            "ops": [],
            "outcome": outcome,
            "detail": f"worker exit code {code}",
            "elapsed_s": None,
        }

    def _restart(self, slot: list[Any]) -> None:
        slot[0].kill()
        slot[0].join()
        slot[:] = self._start()

    def close(self) -> None:
        for proc, conn, _, _ in self.slots:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def save_failure(save_dir: Path, seed: int, rec: dict[str, Any]) -> None:
    """The mutant's bytes and its recipe (enough to rebuild it from the source)."""
    save_dir.mkdir(parents=True, exist_ok=True)
    data, ops = make_mutant(Path(rec["source"]).read_bytes(), seed, rec["index"])
    stem = f"seed{seed}-{rec['index']:06d}-{rec['outcome']}"
    (save_dir / f"{stem}.bin").write_bytes(data)
    recipe = {
        "source": _rel(Path(rec["source"])),
        "seed": seed,
        "index": rec["index"],
        "ops": ops,
    }
    recipe |= {"outcome": rec["outcome"], "detail": rec["detail"]}
    (save_dir / f"{stem}.json").write_text(json.dumps(recipe, indent=1) + "\n")


def _rel(p: Path) -> str:
    for base, name in ((ROOT, ""), (SHARED, "shared:")):
        try:
            return name + str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(p)


def resolve_source(text: str) -> Path:
    """A recipe's source: ``shared:REL`` (under the shared corpus), repo-relative or absolute."""
    if text.startswith("shared:"):
        return SHARED / text[len("shared:") :]
    p = Path(text)
    return p if p.is_absolute() else ROOT / p


def campaign(args: argparse.Namespace) -> dict[str, Any]:
    sources = capture_sources(None if args.bundled_only else SHARED)
    env = TARGETS[args.target]
    tasks = [
        {
            "index": i,
            "seed": args.seed,
            "source": str(pick_source(sources, args.seed, i)),
            "min_seconds": args.min_seconds,
            "cli": args.cli_every > 0 and i % args.cli_every == 0,
            "outputs": args.outputs_every > 0 and i % args.outputs_every == 0,
            "env": env,
        }
        for i in range(args.start, args.start + args.count)
    ]
    outcomes: Counter[str] = Counter()
    ops: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    cli_runs = Counter[str]()
    slowest: list[tuple[float, int, str]] = []
    t0 = time.monotonic()
    done = 0

    def on_result(rec: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        outcomes[rec["outcome"]] += 1
        for op in rec["ops"]:
            ops[op.split()[0]] += 1
        if rec.get("cli"):
            cli_runs[rec["cli"]] += 1
        if rec.get("elapsed_s") is not None:
            slowest.append((rec["elapsed_s"], rec["index"], _rel(Path(rec["source"]))))
            slowest.sort(reverse=True)
            del slowest[5:]
        if rec["outcome"] not in ("ok", "rejected"):
            rec = {**rec, "source": _rel(Path(rec["source"]))}
            failures.append(rec)
            if args.save_dir:
                save_failure(Path(args.save_dir), args.seed, {**rec, "source": _src(rec)})
            print(f"FAIL {rec['index']} {rec['outcome']} {rec['source']} {rec['ops']}", flush=True)
        if done % args.progress_every == 0:
            rate = done / (time.monotonic() - t0)
            print(f"{done}/{len(tasks)} {dict(outcomes)} {rate:.1f}/s", flush=True)

    pool = Pool(args.jobs, env, args.mem_mb)
    try:
        pool.run(tasks, on_result)
    finally:
        pool.close()
    elapsed = time.monotonic() - t0
    bad = sum(v for k, v in outcomes.items() if k not in ("ok", "rejected"))
    return {
        "command": " ".join(sys.argv),
        "seed": args.seed,
        "target": args.target,
        "start": args.start,
        "requested": args.count,
        "count": done,
        "sources": len(sources),
        "shared_sources": sum(1 for s in sources if SHARED in s.parents),
        "elapsed_s": round(elapsed, 1),
        "mutants_per_s": round(done / elapsed, 2) if elapsed else None,
        "outcomes": dict(sorted(outcomes.items())),
        "failures_total": bad,
        "cli_checked": dict(sorted(cli_runs.items())),
        "operators": dict(sorted(ops.items())),
        "slowest": [{"elapsed_s": s, "index": i, "source": p} for s, i, p in slowest],
        "failures": failures,
    }


def _src(rec: dict[str, Any]) -> str:
    return str(resolve_source(rec["source"]))


def replay(args: argparse.Namespace) -> int:
    src = resolve_source(args.replay)
    task = {
        "index": args.index,
        "seed": args.seed,
        "source": str(src),
        "min_seconds": args.min_seconds,
        "cli": True,
        "outputs": True,
        "env": TARGETS[args.target],
    }
    os.environ.update(TARGETS[args.target])
    with tempfile.TemporaryDirectory() as tmp:
        rec = run_one(task, Path(tmp))
        if args.out:
            shutil.copy(next(Path(tmp).glob("mutant*")), args.out)
    print(json.dumps(rec, indent=1))
    return 0 if rec["outcome"] in ("ok", "rejected") else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0, help="first mutant index")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--target", choices=sorted(TARGETS), default="default")
    p.add_argument("--cli-every", type=int, default=25, help="also run every Nth via the CLI")
    p.add_argument(
        "--outputs-every", type=int, default=1, help="write and check the outputs every Nth"
    )
    p.add_argument("--min-seconds", type=float, default=5.0, help="least CPU seconds per mutant")
    p.add_argument("--mem-mb", type=int, default=4096, help="address-space limit per worker")
    p.add_argument("--bundled-only", action="store_true", help="only the bundled captures/")
    p.add_argument("--report", default="", help="write the JSON report here")
    p.add_argument("--save-dir", default="", help="write failing mutants and recipes here")
    p.add_argument("--progress-every", type=int, default=500)
    p.add_argument("--replay", default="", metavar="SOURCE", help="rebuild and check one mutant")
    p.add_argument("--index", type=int, default=0, help="with --replay: the mutant's index")
    p.add_argument("--out", default="", help="with --replay: copy the mutant here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replay:
        return replay(args)
    report = campaign(args)
    text = json.dumps(report, indent=1) + "\n"
    if args.report:
        Path(args.report).write_text(text)
    summary = {k: v for k, v in report.items() if k not in ("failures", "operators")}
    print(json.dumps(summary, indent=1))
    return 0 if report["failures_total"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
