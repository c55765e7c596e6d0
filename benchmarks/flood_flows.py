"""The 2-million-flow flood at full size (tests/test_floods.py runs it at CI size).

    python benchmarks/flood_flows.py --flows 2000000 --stage packets
    python benchmarks/flood_flows.py --flows 2000000 --stage cli

Writes a pcap of one-packet UDP flows (``struct``, tests/floodcap.py) and analyses it in a child
process with the default limits (flow table of 200,000): ``packets`` runs the packet stages
(source, decode, flows, dissectors) through ``inspector.pipeline.collect``; ``cli`` runs
``inspector analyze`` with every output. Prints wall time, the child's peak RSS (``ru_maxrss``),
evictions and the packet accounting. The child runs under an address-space limit
(``--mem-gb``) so that a regression cannot take the machine down.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys
from inspector.config import Config
from inspector.pipeline import collect
out = collect([sys.argv[1]], Config(dissect=sys.argv[2] == "1"))
print(json.dumps({"total": out.total, "decoded": out.decoded, "flows": len(out.rows["flows"]),
                  "flows_evicted": out.flows_evicted}))
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--flows", type=int, default=2_000_000)
    p.add_argument("--stage", choices=("packets", "packets-nodissect", "cli"), default="packets")
    p.add_argument("--mem-gb", type=float, default=12.0)
    p.add_argument("--keep", default="", help="write the capture here and keep it")
    args = p.parse_args()
    from tests.floodcap import distinct_udp_flows, write_pcap

    tmp = Path(tempfile.mkdtemp(prefix="flood-"))
    path = Path(args.keep) if args.keep else tmp / "flood.pcap"
    t0 = time.perf_counter()
    n = write_pcap(path, distinct_udp_flows(args.flows))
    made = time.perf_counter() - t0
    limit = int(args.mem_gb * (1 << 30))

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    if args.stage == "cli":
        out = str(tmp / "out")
        cmd = [sys.executable, "-m", "inspector", "analyze", str(path), "-o", out, "-q"]
    else:
        dissect = "0" if args.stage == "packets-nodissect" else "1"
        cmd = [sys.executable, "-c", CHILD, str(path), dissect]
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=cap, cwd=ROOT)
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "flows": args.flows,
        "packets_written": n,
        "capture_mb": round(os.path.getsize(path) / 1e6, 1),
        "stage": args.stage,
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "write_capture_s": round(made, 1),
        "peak_rss_mb": round(max(rss_kb, before) / 1024, 1),
        "stderr": proc.stderr[-500:],
    }
    if args.stage == "cli" and proc.returncode == 0:
        summary = json.loads((tmp / "out" / "summary.json").read_text())
        result |= {"packets": summary["packets"], "flows_evicted": summary["flows_evicted"]}
    elif proc.returncode == 0:
        result |= json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
