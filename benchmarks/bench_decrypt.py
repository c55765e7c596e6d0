"""Decryption benchmark: TLS 1.3 key-log decryption and HTTP extraction, inspector vs tshark.

    python scripts/make_telemetry_capture.py /tmp/decrypt-bench --rounds 3000
    python benchmarks/bench_decrypt.py /tmp/decrypt-bench/telemetry-tls13.pcapng \\
        /tmp/decrypt-bench/telemetry-tls13.keys --repeat 3

Both tools read the same capture with the same key log and list every HTTP request (method,
host, path). inspector runs its packet stages with every dissector plus the decrypting one,
with the per-flow byte budget lifted (as tshark keeps everything). Each run is a fresh
process; rounds are interleaved; the best wall time counts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

INSPECTOR = """
import sys
from inspector.config import Config
from inspector.dissect.keylog import KeyLog
from inspector.dissect.registry import load_dissectors
from inspector.dissect.tlsdecrypt import make_dissector
from inspector.flows.table import FlowLimits
from inspector.pipeline import Collected, read_packets
cap, keys = sys.argv[1], sys.argv[2]
keylog = KeyLog([open(keys).read()])
config = Config(limits=FlowLimits(tcp_bytes=1 << 30, udp_datagrams=1 << 20))
out = Collected()
dissectors = load_dissectors() + [("tls_decrypt", make_dissector(keylog))]
read_packets(cap, config, out, dissectors, None, keylog)
print(sum(1 for r in out.rows.get("http", []) if r.inside_tls))
"""


def _run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("capture")
    p.add_argument("keylog")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    modes = {
        "inspector": [sys.executable, "-c", INSPECTOR, args.capture, args.keylog],
        "tshark": [
            "tshark",
            "-r",
            args.capture,
            "-o",
            f"tls.keylog_file:{args.keylog}",
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.method",
            "-e",
            "http.host",
            "-e",
            "http.request.uri",
        ],
    }
    best: dict[str, float] = {}
    rows: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, cmd in modes.items():
            seconds, out = _run(cmd)
            best[name] = min(best.get(name, seconds), seconds)
            lines = out.strip().splitlines()
            rows[name] = int(lines[-1]) if name == "inspector" else len(lines)
    print("| tool | requests | best wall s |\n| --- | --- | --- |")
    for name in modes:
        print(f"| {name} | {rows[name]} | {best[name]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
