"""`inspector analyze` (compiled core and pure-Python path) against ndpiReader and NFStream.

    python benchmarks/bench_native.py --write benchmarks/RESULTS-native.md

On the 1M-packet capture from ``make_capture.py`` (made when missing), in one run, each tool in
a fresh process, rounds interleaved:

* ``inspector``: ``inspector analyze FILE -o DIR``, the full pipeline with every output
  (CSV, JSON, HTML, summary), compiled core;
* ``inspector-pure``: the same with ``INSPECTOR_PURE_PYTHON=1``;
* ``ndpiReader``: ``ndpiReader -i FILE -q`` (Debian ``libndpi-bin``, C);
* ``nfstream``: ``NFStreamer(source=FILE)`` iterated to the last flow, run from a throwaway
  virtual environment (``--nfstream-venv``, created with ``pip install nfstream`` when missing;
  NFStream is not a dependency of this project).

Wall time, CPU time (user + system, children included), packets per second and peak resident
memory (``wait4`` of the tool's process). ``--breakdown`` adds one in-process run of the
inspector stages with a timer around each (where the time goes). The best round counts; the
machine's load is recorded next to the figures, because this machine class shares two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = Path("/tmp/inspector-bench/synthetic-1m.pcap")
DEFAULT_NFSTREAM_VENV = Path("/tmp/inspector-bench/nfstream-venv")
TOOLS = ("inspector", "inspector-pure", "ndpiReader", "nfstream")
NFSTREAM_CODE = (
    "import sys\n"
    "from nfstream import NFStreamer\n"
    "n = p = 0\n"
    "for f in NFStreamer(source=sys.argv[1]):\n"
    "    n += 1\n"
    "    p += f.bidirectional_packets\n"
    "print(n, p)\n"
)


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall, CPU and peak RSS of that process (its waited-for children included)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(ROOT)
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "rss_mb": ru.ru_maxrss / 1024,
        "rc": proc.returncode,
        "stdout": out.decode(errors="replace")[-2000:],
        "stderr": err.decode(errors="replace")[-2000:],
    }


def _commands(
    tool: str, path: str, outdir: str, nfs_python: str
) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "INSPECTOR_PURE_PYTHON"}
    if tool in ("inspector", "inspector-pure"):
        if tool == "inspector-pure":
            env["INSPECTOR_PURE_PYTHON"] = "1"
        # one process, as the target says (the default uses every core: bench_jobs.py)
        cmd = [sys.executable, "-m", "inspector", "analyze", path, "-o", outdir, "--no-progress"]
        return [*cmd, "--jobs", "1"], env
    if tool == "ndpiReader":
        return ["ndpiReader", "-i", path, "-q"], env
    return [nfs_python, "-c", NFSTREAM_CODE, path], env


def _nfstream_python(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with nfstream (a throwaway venv, not a project dependency)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "nfstream"], check=False)
    probe = subprocess.run([str(python), "-c", "import nfstream"], capture_output=True)
    return str(python) if probe.returncode == 0 else None


def _breakdown(path: str) -> dict[str, float]:
    """One in-process run of ``inspector analyze``'s stages with a timer around each."""
    sys.path.insert(0, str(ROOT))
    from inspector import _native
    from inspector.api import run_stages
    from inspector.config import Config
    from inspector.pipeline import Collected, collect, read_packets
    from inspector.report.outputs import write_outputs

    times: dict[str, float] = {"compiled_core": float(_native.core is not None)}

    def timed(name: str, fn: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        got = fn()
        times[f"{name}_wall_s"] = time.perf_counter() - wall
        times[f"{name}_cpu_s"] = time.process_time() - cpu
        return got

    timed("read_decode_flows", lambda: read_packets(path, Config(dissect=False), Collected()))
    collected = timed("packet_stages_with_dissectors", lambda: collect([path], Config()))
    result = timed("attribution_assessment_findings", lambda: run_stages(collected, Config()))
    with tempfile.TemporaryDirectory() as tmp:
        timed("write_outputs", lambda: write_outputs(result, tmp))
    return times


def _scaled(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """Make (when missing) and analyse a capture ``--scale`` times larger, same packet rate."""
    n = args.packets * args.scale
    duration = 600.0 * args.scale  # make_capture.py's default span, scaled with the packets
    big = path.with_name(f"{path.stem}-x{args.scale}{path.suffix}")
    if not big.exists():
        make = [sys.executable, str(ROOT / "benchmarks" / "make_capture.py"), str(big)]
        subprocess.run([*make, "--packets", str(n), "--duration", str(duration)], check=True)
    with tempfile.TemporaryDirectory() as outdir:
        cmd, env = _commands("inspector", str(big), outdir, "")
        r = _timed(cmd, env)
        if r["rc"] != 0:
            raise SystemExit(f"inspector failed on {big}: {r['stderr'][-500:]}")
        summary = json.loads((Path(outdir) / "summary.json").read_text())
    print(f"{args.scale}x: {r['wall_s']:.2f} s wall, {r['rss_mb']:.0f} MB", flush=True)
    return r | {"file": str(big), "packets": summary["packets"]["total"], "duration": duration}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r["rc"] == 0]
    return min(ok, key=lambda r: r["wall_s"]) if ok else runs[0]


def _markdown(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, Any]]],
    packets: int,
    breakdown: dict[str, float] | None,
    load: tuple[float, float],
    commands: dict[str, str],
) -> str:
    best = {tool: _best(runs) for tool, runs in results.items()}
    ndpi = best.get("ndpiReader")
    nfs = best.get("nfstream")
    lines = [
        "# Compiled core: `inspector analyze` against ndpiReader and NFStream",
        "",
        f"Generated by `python benchmarks/bench_native.py --repeat {args.repeat}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; load average at start "
        f"{load[0]:.2f}, at end {load[1]:.2f} (other work shared the machine when above ~0.5).",
        "",
        f"Capture: `{args.file}` ({packets:,} packets, "
        f"{os.path.getsize(args.file) / 1e6:.1f} MB), from `benchmarks/make_capture.py`. Best of "
        f"{args.repeat} interleaved round(s); every tool in a fresh process.",
        "",
        "| tool | wall s | CPU s | packets/s (wall) | vs ndpiReader wall (CPU) "
        "| vs NFStream wall (CPU) | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def ratio(peer: dict[str, Any] | None, r: dict[str, Any]) -> str:
        if not peer or peer["rc"] != 0:
            return "-"
        return f"{peer['wall_s'] / r['wall_s']:.2f}x ({peer['cpu_s'] / r['cpu_s']:.2f}x)"

    for tool in results:
        r = best[tool]
        if r["rc"] != 0:
            lines.append(f"| {tool} | failed (exit {r['rc']}) | | | | | |")
            continue
        pps = packets / r["wall_s"]
        lines.append(
            f"| {tool} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {pps:,.0f} | {ratio(ndpi, r)} | "
            f"{ratio(nfs, r)} | {r['rss_mb']:.0f} |"
        )
    lines += [
        "",
        "Ratios are the peer's time over the tool's (higher is faster); in brackets the same "
        "with CPU time (user + system), steadier than wall time on a shared machine.",
        "",
        "Commands:",
        "",
    ]
    lines += [f"- {tool}: `{cmd}`" for tool, cmd in commands.items()]
    lines += ["", "All rounds (wall s / CPU s / RSS MB):", ""]
    for tool, runs in results.items():
        cells = ", ".join(f"{r['wall_s']:.2f}/{r['cpu_s']:.2f}/{r['rss_mb']:.0f}" for r in runs)
        lines.append(f"- {tool}: {cells}")
    if breakdown:
        lines += [
            "",
            "## Where `inspector analyze` spends its time (one in-process run, compiled core)",
            "",
            "| stage | wall s | CPU s |",
            "| --- | ---: | ---: |",
        ]
        stages = [k[: -len("_wall_s")] for k in breakdown if k.endswith("_wall_s")]
        lines += [
            f"| {k} | {breakdown[k + '_wall_s']:.2f} | {breakdown[k + '_cpu_s']:.2f} |"
            for k in stages
        ]
        lines += [
            "",
            "`read_decode_flows` is the packet stages without dissectors (a separate read); "
            "`packet_stages_with_dissectors` is what `analyze` runs before attribution.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default=str(DEFAULT_PATH))
    ap.add_argument("--packets", type=int, default=1_000_000, help="for a capture made here")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    ap.add_argument("--nfstream-venv", default=str(DEFAULT_NFSTREAM_VENV))
    ap.add_argument("--breakdown", action="store_true", help="time inspector's stages too")
    ap.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="N",
        help="also run the compiled inspector on an N-times capture (same packet rate) and "
        "compare peak RSS (memory flatness); the capture is made next to --file when missing",
    )
    ap.add_argument("--write", metavar="MD", help="write the results as Markdown")
    ap.add_argument("--breakdown-child", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.breakdown_child:
        print(json.dumps(_breakdown(args.breakdown_child)))
        return 0
    path = Path(args.file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        make = [sys.executable, str(ROOT / "benchmarks" / "make_capture.py"), str(path)]
        subprocess.run([*make, "--packets", str(args.packets)], check=True)
    tools = [t for t in args.tools.split(",") if t]
    nfs_python = ""
    if "nfstream" in tools:
        found = _nfstream_python(Path(args.nfstream_venv))
        if found is None:
            print("nfstream could not be installed; leaving it out", file=sys.stderr)
            tools.remove("nfstream")
        else:
            nfs_python = found
    if "ndpiReader" in tools and shutil.which("ndpiReader") is None:
        print("ndpiReader not installed (apt-get install libndpi-bin); leaving it out")
        tools.remove("ndpiReader")
    load_start = os.getloadavg()[0]
    results: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    commands: dict[str, str] = {}
    packets = 0
    for rnd in range(args.repeat):
        for tool in tools:
            with tempfile.TemporaryDirectory() as outdir:
                cmd, env = _commands(tool, str(path), outdir, nfs_python)
                label = " ".join(cmd if tool != "nfstream" else [cmd[0], "-c", "NFSTREAM_CODE"])
                commands[tool] = "INSPECTOR_PURE_PYTHON=1 " if tool == "inspector-pure" else ""
                commands[tool] += label.replace(outdir, "OUTDIR")
                r = _timed(cmd, env)
                if tool.startswith("inspector") and r["rc"] == 0:
                    summary = json.loads((Path(outdir) / "summary.json").read_text())
                    packets = summary["packets"]["total"]
            results[tool].append(r)
            state = "ok" if r["rc"] == 0 else f"exit {r['rc']}: {r['stderr'][-300:]}"
            print(
                f"round {rnd + 1} {tool}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, "
                f"{r['rss_mb']:.0f} MB ({state})",
                flush=True,
            )
    if not packets:
        from inspector.source import open_capture

        packets = sum(1 for _ in open_capture(str(path)).spans())
    breakdown = None
    if args.breakdown:
        proc = subprocess.run(
            [sys.executable, __file__, "--breakdown-child", str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=str(ROOT),
        )
        breakdown = json.loads(proc.stdout.strip().splitlines()[-1])
        print("breakdown:", breakdown)
    scaled = _scaled(args, path) if args.scale > 1 else None
    md = _markdown(args, results, packets, breakdown, (load_start, os.getloadavg()[0]), commands)
    if scaled is not None:
        base = _best(results["inspector"]) if "inspector" in results else None
        md += (
            f"\n## Memory from 1x to {args.scale}x\n\n"
            f"`inspector analyze` (compiled core) on `{scaled['file']}` ({scaled['packets']:,} "
            f"packets, made by `make_capture.py --packets {scaled['packets']} --duration "
            f"{scaled['duration']:.0f}`): {scaled['wall_s']:.2f} s wall, {scaled['cpu_s']:.2f} s "
            f"CPU, peak RSS {scaled['rss_mb']:.0f} MB"
            + (f" against {base['rss_mb']:.0f} MB at 1x.\n" if base else ".\n")
        )
    print(md)
    if args.write:
        Path(args.write).write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
