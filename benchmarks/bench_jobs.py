"""``inspector analyze --jobs 1`` against ``--jobs 2`` in the same run, on a folder of shared
captures and on the 1M-packet synthetic capture, with the outputs of both checked identical.

    python benchmarks/bench_jobs.py --write benchmarks/RESULTS-jobs.md

Each folder is links (never copies) to the ``--files`` largest captures of the shared corpus
(``../shared/captures/real``; ``--files 60,0``: the 60 largest, and all of them); the large
capture is the one ``make_capture.py`` makes (generated when missing). Each measurement is a
fresh ``inspector analyze`` process (``--no-resume``, so nothing is reused); rounds are
interleaved and the best round of each counts. Outputs compared: every ``*.csv`` and ``*.json``
of OUTDIR byte for byte, and every HTML page with the output folder's own path (printed in the
``inspector evidence`` hints) replaced.

The package's modules are compiled to bytecode first (``compileall``), as an installed package's
are (pip compiles them at install). Where ``PYTHONDONTWRITEBYTECODE`` is set and the package is
an editable checkout, every process would otherwise compile every module again (about 0.4 s per
process, paid before any worker starts).

Targets (issue 13): at least 1.8x on the folder and 1.7x on the single capture with two
processes on an idle two-core machine. The load average at the start is printed: on a shared
machine the figures are depressed.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = (ROOT / ".." / "shared" / "captures" / "real").resolve()
SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz")
TARGETS = {"folder": 1.8, "large": 1.7}


def _compiled() -> None:
    import compileall

    compileall.compile_dir(str(ROOT / "inspector"), quiet=1)


def _folder(n: int, where: Path) -> Path:
    files = sorted(
        (p for p in REAL.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)),
        key=lambda p: (-p.stat().st_size, str(p)),
    )[: n or None]
    if len(files) < n or not files:
        raise SystemExit(f"need {n} captures under {REAL}, found {len(files)}")
    folder = where / f"folder-{len(files)}"
    folder.mkdir()
    for i, p in enumerate(files):
        (folder / f"{i:03d}-{p.name}").symlink_to(p)
    return folder


def _large(path: Path, packets: int) -> Path:
    if not path.is_file():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from make_capture import make_capture

        print(f"making {path} ({packets} packets)...", file=sys.stderr)
        make_capture(path, packets)
    return path


def _run(inp: Path, out: Path, jobs: int) -> float:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "inspector", "analyze", str(inp), "-o", str(out)]
    cmd += ["--jobs", str(jobs), "--no-resume", "-q", "--no-progress"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took


def _same(a: Path, b: Path) -> list[str]:
    """Names of the outputs that differ between two output folders."""
    names = sorted(
        str(p.relative_to(a))
        for p in a.rglob("*")
        if p.is_file() and ".inspector-cache" not in p.parts
    )
    if names != sorted(
        str(p.relative_to(b))
        for p in b.rglob("*")
        if p.is_file() and ".inspector-cache" not in p.parts
    ):
        return ["the list of files"]
    diff = []
    for n in names:
        if n.endswith(".html"):
            ta = (a / n).read_text(encoding="utf-8").replace(str(a), "OUT")
            tb = (b / n).read_text(encoding="utf-8").replace(str(b), "OUT")
            if ta != tb:
                diff.append(n)
        elif not filecmp.cmp(a / n, b / n, shallow=False):
            diff.append(n)
    return diff


_PHASES = """
import json, resource, sys
sys.path.insert(0, sys.argv[2])
from inspector.api import run_stages
from inspector.config import Config
from inspector.pipeline import collect

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

c0 = cpu()
collected = collect([sys.argv[1]], Config())
c1 = cpu()
run_stages(collected, Config())
c2 = cpu()
print(json.dumps({"packet_stages_cpu_s": c1 - c0, "later_stages_cpu_s": c2 - c1}))
"""


def _phases(path: Path) -> dict[str, float]:
    """CPU seconds of the packet stages (split by flow) and the later stages (one process)."""
    import json

    proc = subprocess.run(
        [sys.executable, "-c", _PHASES, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--files",
        default="60,0",
        help="captures in each folder, comma-separated (>= 40; 0: every capture of the corpus)",
    )
    ap.add_argument("--capture", default="/tmp/inspector-bench/synthetic-1m.pcap")
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", choices=["folder", "large"], default=None)
    ap.add_argument("--write", default=None, metavar="MD", help="write the results as Markdown")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    try:
        autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        autogroup = False
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        work = Path(tmp)
        inputs = {}
        _compiled()
        if args.only in (None, "folder"):
            for n in (int(x) for x in args.files.split(",")):
                folder = _folder(n, work)
                inputs[folder.name] = folder
        if args.only in (None, "large"):
            inputs["large"] = _large(Path(args.capture), args.packets)
        best: dict[tuple[str, int], float] = {}
        for _ in range(args.repeat):
            for name, inp in inputs.items():
                for jobs in (1, 2):
                    took = _run(inp, work / f"out-{name}-{jobs}", jobs)
                    print(f"{name} --jobs {jobs}: {took:.2f} s", file=sys.stderr)
                    best[name, jobs] = min(took, best.get((name, jobs), float("inf")))
        phases = _phases(inputs["large"]) if "large" in inputs else None
        rows = []
        for name in inputs:
            diff = _same(work / f"out-{name}-1", work / f"out-{name}-2")
            one, two = best[name, 1], best[name, 2]
            rows.append((name, one, two, one / two, TARGETS[name.split("-")[0]], diff))
    lines = [
        "# `--jobs 1` against `--jobs 2` (benchmarks/bench_jobs.py)",
        "",
        f"Command: `python benchmarks/bench_jobs.py --files {args.files} --repeat {args.repeat}"
        + (f" --only {args.only}" if args.only else "")
        + "`",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; load average at start {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} (1/5/15 min)."
        + (
            " Scheduler autogroups are on: all processes of this login session share one CPU "
            "share, so while other sessions keep the cores busy, two processes get no more CPU "
            "than one and the speed-up is not measurable."
            if autogroup and load[0] > 2.5
            else ""
        ),
        "Folders: `folder-N` holds links to the N largest captures of the shared corpus "
        f"({', '.join(n for n in inputs if n != 'large')})."
        + (
            f" Large: `{args.capture}` ({Path(args.capture).stat().st_size / 1e6:.0f} MB)."
            if "large" in inputs
            else ""
        )
        + " Modules compiled to bytecode first, as installed.",
        "",
        "| input | --jobs 1 s | --jobs 2 s | speed-up | target | outputs identical |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, one, two, speed, target, diff in rows:
        same = "yes" if not diff else "NO: " + ", ".join(diff)
        lines.append(f"| {name} | {one:.2f} | {two:.2f} | {speed:.2f}x | {target}x | {same} |")
    if phases is not None:
        a, b = phases["packet_stages_cpu_s"], phases["later_stages_cpu_s"]
        lines += [
            "",
            f"Large capture, one process, CPU time: packet stages {a:.1f} s (split across the "
            f"workers by flow: each reads every packet), later stages (attribution, assessment, "
            f"findings, tables) {b:.1f} s (run once, in the parent, on the merged rows). "
            f"Bound for two processes if the packet stages halved exactly: "
            f"{(a + b) / (a / 2 + b):.2f}x.",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0 if all(not r[5] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
