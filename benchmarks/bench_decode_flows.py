"""Benchmark the source + decode + flows stage, and tshark on the same file, in one run.

Each measurement runs in a fresh child process, so its peak RSS (``ru_maxrss``) is its own:

* ``fast``: ``inspector.flows.fastloop.feed_spans`` driving ``pipeline.Ingest`` (dissectors off),
* ``stage``: the same loop with only the decoder and flow table (ended flows dropped, no rows):
  its peak RSS is the streaming stage's own, which must not grow with the file,
* ``pipeline``: ``inspector.pipeline.read_packets(path, Config(dissect=False), Collected())``
  as the pipeline runs today (one ``Ingest.feed`` call per packet),
* ``tshark``: ``tshark -r FILE -q -z conv,ip`` (reads, dissects and builds the IP conversation
  table; the closest tshark pass to "decode + flows").

Wall-clock and CPU time (user + system) are both reported: this machine class shares its cores,
and wall-clock time varies by up to 2x between identical runs; CPU time varies much less. The
best of ``--repeat`` runs is the headline figure. Usage::

    python benchmarks/bench_decode_flows.py                # generates the capture if missing
    python benchmarks/bench_decode_flows.py --repeat 5 --write benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_capture import DEFAULT_PATH, make_capture  # noqa: E402

TSHARK_ARGS = ["-q", "-z", "conv,ip"]
#: --write keeps everything from this line on (hand-written notes) when it rewrites a file
NOTES_MARKER = "## Analysis"


# ------------------------------------------------------------------ child side


def _child(mode: str, path: str) -> dict[str, Any]:
    from inspector.config import Config
    from inspector.pipeline import Collected

    config = Config(dissect=False)
    out = Collected()
    if mode == "breakdown":
        return _breakdown(path)
    if mode == "stage":
        return _stage(path)
    if mode in ("walk", "skeleton"):
        return _floor(path, mode == "skeleton")
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "fast":
        from inspector.flows.fastloop import feed_spans
        from inspector.pipeline import Ingest
        from inspector.source import open_capture

        cap = open_capture(path)
        ingest = Ingest(config, out, os.path.basename(path), ())
        feed_spans(ingest, cap.spans())
        ingest.finish()
    else:
        from inspector.pipeline import read_packets

        read_packets(path, config, out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "mode": mode,
        "packets": out.total,
        "decoded": out.decoded,
        "flows": len(out.rows.get("flows", [])),
        "wall_s": wall,
        "cpu_s": cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class _StageOnly:
    """Decoder + flow table only: ended flows are counted and dropped (no flow rows), so the
    peak RSS is the streaming stage's own."""

    def __init__(self) -> None:
        from inspector.decode import Decoder, Malformed
        from inspector.flows.table import FlowTable

        self.decoder = Decoder()
        self.table = FlowTable()
        self.malformed_type = Malformed
        self.frame = self.decoded = self.other = self.flows = 0

    def feed(self, ts: float, linktype: int, data: bytes) -> None:
        self.frame += 1
        try:
            d = self.decoder.decode(linktype, data, ts)
        except self.malformed_type:
            self.other += 1
            return
        if d.__class__ is str:
            self.other += 1
            return
        self.decoded += 1
        table = self.table
        table.add(d, ts, self.frame)  # type: ignore[arg-type]
        if table.ended:
            self.flows += len(table.ended)
            table.ended.clear()


def _stage(path: str) -> dict[str, Any]:
    from inspector.flows.fastloop import feed_spans
    from inspector.source import open_capture

    wall, cpu = time.perf_counter(), time.process_time()
    stage = _StageOnly()
    trace: list[tuple[int, float]] = []

    def sample() -> None:  # resident set size now, every 100k packets
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            return
        trace.append(((len(trace) + 1) * 100_000, pages * os.sysconf("SC_PAGE_SIZE") / 2**20))

    feed_spans(stage, open_capture(path).spans(), sample, 100_000)
    stage.table.close_all()
    stage.flows += len(stage.table.ended)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "mode": "stage",
        "rss_trace": trace,
        "packets": stage.decoded + stage.other,
        "decoded": stage.decoded,
        "flows": stage.flows,
        "wall_s": wall,
        "cpu_s": cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class _Counters:
    __slots__ = ("bytes", "frame", "last", "payload", "pkts")

    def __init__(self) -> None:
        self.pkts = self.bytes = self.payload = self.frame = 0
        self.last = 0.0


def _floor(path: str, skeleton: bool) -> dict[str, Any]:
    """Lower bounds for any pure-Python design on this machine, on little-endian microsecond
    pcap: ``walk`` only steps from record header to record header (computing the timestamp);
    ``skeleton`` adds an Ethernet/VLAN check, one IPv4 header unpack, one dictionary lookup per
    packet and five counter updates (no TCP/UDP logic, no history, no retention, no checks)."""
    import struct

    rec = struct.Struct("<IIII").unpack_from
    ip4 = struct.Struct("!HBxH2xHxB2x12s").unpack_from
    flows: dict[bytes, _Counters] = {}
    get = flows.get
    n = 0
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as fh:
        fh.read(24)
        buf, pos, blen = b"", 0, 0
        while True:
            lim = blen - 16
            while pos <= lim:
                sec, frac, incl, _orig = rec(buf, pos)
                s = pos + 16
                e = s + incl
                if e > blen:
                    break
                pos = e
                n += 1
                ts = sec + frac * 1e-6
                if skeleton and e - s >= 38:
                    if buf[s + 12] == 0x81:
                        s += 4
                    et, _vihl, total, _frag, _proto, key = ip4(buf, s + 12)
                    if et == 0x0800:
                        c = get(key)
                        if c is None:
                            c = flows[key] = _Counters()
                        c.pkts += 1
                        c.bytes += total
                        c.payload += total - 28
                        c.last = ts
                        c.frame = n
            more = fh.read(1 << 20)
            if not more:
                break
            buf, pos = buf[pos:] + more, 0
            blen = len(buf)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "mode": "skeleton" if skeleton else "walk",
        "packets": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _breakdown(path: str) -> dict[str, Any]:
    """Where the fast loop's time goes: reading alone, then the loop with timers around the
    full-decoder path (``Ingest.feed``), TCP reassembly (``FlowTable.tcp_data``) and the end of
    flows (``Ingest._ended``, flow rows)."""
    from inspector.config import Config
    from inspector.flows.fastloop import feed_spans
    from inspector.pipeline import Collected, Ingest
    from inspector.source import open_capture

    clock = time.perf_counter
    t = clock()
    for _span in open_capture(path).spans():
        pass
    read_s = clock() - t
    out = Collected()
    ingest = Ingest(Config(dissect=False), out, os.path.basename(path), ())
    timers: dict[str, list[float]] = {}

    def timed(name: str, fn: Any) -> Any:
        acc = timers.setdefault(name, [0.0, 0])

        def wrapper(*args: Any) -> Any:
            t0 = clock()
            try:
                return fn(*args)
            finally:
                acc[0] += clock() - t0
                acc[1] += 1

        return wrapper

    ended = ingest._ended
    ingest._ended = timed("ended", ended)  # type: ignore[method-assign]
    ingest.feed = timed("feed", ingest.feed)  # type: ignore[method-assign]
    ingest.table.tcp_data = timed("tcp_data", ingest.table.tcp_data)  # type: ignore[method-assign]
    t = clock()
    feed_spans(ingest, open_capture(path).spans())
    ingest.finish()
    total = clock() - t
    return {
        "mode": "breakdown",
        "packets": out.total,
        "total_s": total,
        "read_s": read_s,
        **{f"{k}_s": v[0] for k, v in timers.items()},
        **{f"{k}_calls": v[1] for k, v in timers.items()},
        "flows": len(out.rows.get("flows", [])),
        "wall_s": total,
        "cpu_s": total,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _breakdown_text(b: dict[str, Any]) -> str:
    n = b["packets"]
    feed = b["feed_s"] - b.get("ended_s", 0.0)  # flows ended inside feed are counted once
    rest = b["total_s"] - b["read_s"] - feed - b["tcp_data_s"] - b.get("ended_s", 0.0)
    rows = [
        ("reading records (pcap reader alone)", b["read_s"], n),
        (
            "full decoder + FlowTable.add (flow's first packet, SYN/FIN/RST, odd packets)",
            feed,
            b["feed_calls"],
        ),
        ("TCP reassembly while below the per-direction cap", b["tcp_data_s"], b["tcp_data_calls"]),
        (
            "ended flows: flow rows (pipeline.Ingest._ended), per flow",
            b.get("ended_s", 0.0),
            b["flows"],
        ),
        ("the loop itself (header fields, lookup, counters, UDP retention)", rest, n),
    ]
    lines = [
        "| part | seconds | share | calls | us per call |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, sec, calls in rows:
        per = sec / calls * 1e6 if calls else 0.0
        lines.append(f"| {name} | {sec:.2f} | {sec / b['total_s']:.0%} | {calls:,} | {per:.2f} |")
    lines.append(
        f"| total | {b['total_s']:.2f} | 100% | {n:,} packets | {b['total_s'] / n * 1e6:.2f} |"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------ parent side


def _run_child(mode: str, path: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, path],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_tshark(tshark: str, path: str) -> dict[str, Any]:
    wall = time.perf_counter()
    proc = subprocess.Popen(
        [tshark, "-r", path, *TSHARK_ARGS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - wall
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"tshark failed with status {status}")
    return {
        "mode": "tshark",
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
    }


def _calibrate() -> float:
    """Nanoseconds per iteration of a trivial Python loop (best of 5): how fast the machine
    runs Python right now, to compare runs made at different times."""
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        x = 0
        for i in range(1_000_000):
            x += i
        best = min(best, time.perf_counter() - t)
    return best * 1000


def _count_packets(path: str) -> int:
    from inspector.source import open_capture

    return sum(1 for _ in open_capture(path).spans())


def _warm(path: str) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def _machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _tshark_version(tshark: str) -> str:
    out = subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].rstrip(".") if out else "unknown"


def _summary(runs: list[dict[str, Any]], packets: int) -> dict[str, Any]:
    best_wall = min(r["wall_s"] for r in runs)
    best_cpu = min(r["cpu_s"] for r in runs)
    return {
        "runs": len(runs),
        "best_wall_s": best_wall,
        "median_wall_s": statistics.median(r["wall_s"] for r in runs),
        "best_cpu_s": best_cpu,
        "pps_wall": packets / best_wall,
        "pps_cpu": packets / best_cpu,
        "maxrss_mb": max(r["maxrss_mb"] for r in runs),
    }


def _table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| what | runs | best wall s | median wall s | best CPU s | packets/s (wall) "
        "| packets/s (CPU) | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in results.items():
        lines.append(
            f"| {name} | {s['runs']} | {s['best_wall_s']:.2f} | {s['median_wall_s']:.2f} "
            f"| {s['best_cpu_s']:.2f} | {s['pps_wall']:,.0f} | {s['pps_cpu']:,.0f} "
            f"| {s['maxrss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", default=str(DEFAULT_PATH), help="capture (generated if missing)")
    ap.add_argument("--packets", type=int, default=1_000_000, help="packets when generating")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--modes",
        default="fast,stage,pipeline,tshark,walk,skeleton",
        help="comma list of fast,stage,pipeline,tshark,walk,skeleton",
    )
    ap.add_argument("--write", metavar="MD", help="write the results as Markdown to this file")
    ap.add_argument(
        "--breakdown", action="store_true", help="also time the parts of the fast loop (one run)"
    )
    ap.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0

    path = args.file
    if not Path(path).is_file():
        print(f"generating {args.packets} packets into {path} ...", file=sys.stderr)
        counts: dict[str, int] = {}
        make_capture(path, args.packets, counts=counts)
    size = Path(path).stat().st_size
    _warm(path)
    packets = _count_packets(path)
    modes = [m for m in args.modes.split(",") if m]
    tshark = shutil.which("tshark")
    if "tshark" in modes and tshark is None:
        print("tshark not found: skipping it", file=sys.stderr)
        modes.remove("tshark")
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    calib = [_calibrate()]
    for i in range(args.repeat):
        for mode in modes:  # interleaved, so slow phases of the machine hit every mode
            r = _run_tshark(tshark, path) if mode == "tshark" else _run_child(mode, path)  # type: ignore[arg-type]
            if mode in ("fast", "stage", "pipeline") and r["packets"] != packets:
                raise SystemExit(f"{mode} counted {r['packets']} packets, file has {packets}")
            runs[mode].append(r)
            print(
                f"run {i + 1}/{args.repeat} {mode:8s} wall {r['wall_s']:6.2f} s  "
                f"cpu {r['cpu_s']:6.2f} s  {packets / r['wall_s']:>10,.0f} pkt/s  "
                f"rss {r['maxrss_mb']:.0f} MB",
                file=sys.stderr,
            )
    names = {
        "fast": "inspector fast loop (feed_spans + Ingest, dissect off)",
        "stage": "inspector fast loop, decoder + flow table only (no flow rows kept)",
        "walk": "floor: pure-Python pcap record walk, nothing else",
        "skeleton": "floor: walk + one IPv4 unpack + dict lookup + 5 counters per packet",
        "pipeline": "inspector pipeline.read_packets (dissect off)",
        "tshark": f"tshark {' '.join(TSHARK_ARGS)}",
    }
    calib.append(_calibrate())
    results = {names[m]: _summary(runs[m], packets) for m in modes}
    trace = ""
    if runs.get("stage"):
        points = runs["stage"][0]["rss_trace"]
        trace = "resident memory of the stage-only run, after N packets: " + ", ".join(
            f"{n // 1000}k: {mb:.0f} MB" for n, mb in points
        )
    table = _table(results)
    flows = next((r[0]["flows"] for r in runs.values() if r and "flows" in r[0]), None)
    speed = f"trivial Python loop: {calib[0]:.1f} ns/iteration before, {calib[1]:.1f} after"
    print(f"\n{packets:,} packets, {size / 1e6:.0f} MB, {flows} flows: {path}")
    print(f"{speed}\n")
    print(table)
    if trace:
        print("\n" + trace)
    breakdown = ""
    if args.breakdown:
        breakdown = _breakdown_text(_run_child("breakdown", path))
        print("\nwhere the fast loop's time goes (one run, wall clock, timers add overhead):\n")
        print(breakdown)
    if args.write:
        machine = _machine()
        tver = _tshark_version(tshark) if tshark else "not installed"
        cmd = "python benchmarks/bench_decode_flows.py " + " ".join(argv or sys.argv[1:])
        text = [
            "# Benchmark: source + decode + flows",
            "",
            f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{cmd.strip()}`.",
            "",
            f"* machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']},"
            f" {machine['platform']}",
            f"* tshark: {tver}, run as `tshark -r FILE {' '.join(TSHARK_ARGS)}`",
            f"* capture: `{path}`, {packets:,} packets, {size / 1e6:.0f} MB, {flows} flows"
            " (made by `python benchmarks/make_capture.py`, seed 1)",
            f"* best of {args.repeat} interleaved runs, each in a fresh process; packets/s ="
            " packets / best time",
            f"* machine speed at the time ({speed}; lower is faster)",
            "",
            table,
            "",
        ]
        if trace:
            text += [trace[0].upper() + trace[1:] + ".", ""]
        if breakdown:
            text += [
                "Where the fast loop's time goes (one run, wall clock; the timers add a little):",
                "",
                breakdown,
                "",
            ]
        target = Path(args.write)
        if target.is_file():  # keep the hand-written analysis below the marker
            kept = target.read_text(encoding="utf-8")
            if NOTES_MARKER in kept:
                text += [kept[kept.index(NOTES_MARKER) :]]
        target.write_text("\n".join(text), encoding="utf-8")
        print(f"\nwrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
