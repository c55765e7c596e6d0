"""Full pipeline benchmark: read + decode + flows + every dissector, then attribution and the
later stages, next to tshark extracting the same names with ``-T fields`` on the same file.

    python benchmarks/bench_pipeline.py --repeat 3 --write benchmarks/RESULTS-pipeline.md

The capture is the one ``make_capture.py`` makes (generated when missing). Each measurement runs
in a fresh process; rounds are interleaved; the best round counts (CPU time is given too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = Path("/tmp/inspector-bench/synthetic-1m.pcap")
TSHARK_FIELDS = [
    "frame.number",
    "tls.handshake.extensions_server_name",
    "dns.qry.name",
    "http.host",
    "stun.att.username",
    "rtp.ssrc",
]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _child(path: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from inspector.api import run_stages
    from inspector.attribute.database import bundled_database
    from inspector.attribute.stage import attribute
    from inspector.config import Config
    from inspector.pipeline import collect

    t0, c0 = time.perf_counter(), _cpu()
    collected = collect([path], Config())
    t1, c1 = time.perf_counter(), _cpu()
    db = bundled_database()
    t2 = time.perf_counter()
    attribute(collected.rows, db, "")
    t3 = time.perf_counter()
    run_stages(collected, Config())
    t4 = time.perf_counter()
    return {
        "packets": collected.total,
        "flows": len(collected.rows.get("flows", [])),
        "dissect_wall": t1 - t0,
        "dissect_cpu": c1 - c0,
        "attribution_wall": t3 - t2,
        "later_stages_wall": t4 - t3,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _tshark(path: str) -> dict[str, Any]:
    cmd = ["tshark", "-r", path, "-T", "fields"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "rc": proc.returncode,
        "rss_mb": r.ru_maxrss / 1024,
        "command": " ".join(cmd[:3] + ["-T", "fields"] + [f"-e {f}" for f in TSHARK_FIELDS]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default=str(DEFAULT_PATH))
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", metavar="MD")
    ap.add_argument("--child", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    path = Path(args.file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "make_capture.py"),
                str(path),
                "--packets",
                str(args.packets),
            ],
            check=True,
        )
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        ours.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if shutil.which("tshark"):
            theirs.append(_tshark(str(path)))
    best = min(ours, key=lambda r: r["dissect_wall"])
    n = best["packets"]
    lines = [
        "# Benchmark: full pipeline (all dissectors) and attribution",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
        f"`python benchmarks/bench_pipeline.py --repeat {args.repeat}`; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
        f"Capture `{path}`: {n:,} packets, {best['flows']:,} flows "
        "(`benchmarks/make_capture.py`, seed 1). Best of the rounds.",
        "",
        "| what | wall s | packets/s | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
        f"| inspector: read + decode + flows + every dissector | {best['dissect_wall']:.2f} | "
        f"{n / best['dissect_wall']:,.0f} | {best['rss_mb']:.0f} |",
    ]
    if theirs:
        t = min(theirs, key=lambda r: r["wall"])
        lines.append(
            f"| tshark `-T fields` (SNI, DNS, Host, STUN, RTP fields) | {t['wall']:.2f} | "
            f"{n / t['wall']:,.0f} | {t['rss_mb']:.0f} |"
        )
        lines += ["", f"tshark command: `{t['command']} > /dev/null`"]
    share = best["attribution_wall"] / best["dissect_wall"]
    lines += [
        "",
        f"Attribution (orientation, naming, database, PSL, registry country) on the same run: "
        f"{best['attribution_wall']:.2f} s, {share:.1%} of the packet stages above "
        f"(target: at most 15%). All later stages together (attribution, assessment, findings, "
        f"DataFrames): {best['later_stages_wall']:.2f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
