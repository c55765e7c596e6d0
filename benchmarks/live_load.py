"""Live mode under load: UDP at a fixed packet rate through ``inspector live``, and its checks.

    sudo .venv/bin/python benchmarks/live_load.py --seconds 60 --pps 20000 --report load.json

A network namespace of its own (deleted after) keeps the traffic off every other interface:
``inspector live -i lo`` runs inside it, and a paced sender in it sends RTP-like datagrams of
``--flows`` flows to bound sinks on its loopback for ``--seconds`` seconds. Meanwhile the live
process's RSS is sampled from ``/proc`` every 0.25 s. The checks (``problems``, also run by
tests/test_live_load.py at a lower volume):

- RSS after the warm-up (the first half of the run, at most 15 s), up to the end of the
  traffic, stays within ``--rss-band`` (10 %) of its minimum;
- the kernel's drop counter is reported, in summary.json and on stdout;
- summary.json accounts for every packet: total = decoded + skipped + malformed,
  processed = total, and what the kernel saw = processed + dropped + unread at the stop
  (``packets_seen``), with nothing left unread;
- every datagram the sender sent is seen by the kernel exactly once (``packets_seen`` = sent:
  the namespace carries nothing else, and the outgoing copies on loopback are not counted).

Needs root (network namespaces and packet sockets) and iproute2; exit 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: the sender: ``seconds pps flows size``; paced in 1 ms steps against the monotonic clock
SENDER = r"""
import json, socket, struct, sys, time
seconds, pps, flows, size = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sinks, socks = [], []
for i in range(flows):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # never read: the kernel drops
    sink.bind(("127.0.0.1", 0))
    sinks.append(sink)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(sink.getsockname())
    socks.append(s)
body = bytes(range(256)) * (size // 256 + 1)
seq = [0] * flows
sent, t0 = 0, time.monotonic()
while True:
    now = time.monotonic() - t0
    if now >= seconds:
        break
    due = min(int(now * pps), sent + pps // 50)  # a late sender catches up in bursts of 20 ms
    while sent < due:
        i = sent % flows
        n = seq[i] = seq[i] + 1
        head = struct.pack("!BBHII", 0x80, 111, n & 0xFFFF, n * 960, 0x1000 + i)
        try:
            socks[i].send(head + body[: size - 12])
        except OSError:
            pass  # a full loopback queue: the packet was not sent and is not counted
        else:
            sent += 1
    time.sleep(0.001)
elapsed = time.monotonic() - t0
print(json.dumps({"sent": sent, "elapsed_s": round(elapsed, 3), "pps": round(sent / elapsed)}))
"""


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def skip_reason() -> str:
    """Why the load run cannot run here ("" when it can)."""
    if not sys.platform.startswith("linux"):
        return "needs Linux network namespaces and packet sockets"
    if os.geteuid() != 0:
        return "needs root (network namespace, packet socket)"
    if subprocess.run(["which", "ip"], capture_output=True).returncode:
        return "iproute2 (ip) not installed"
    return ""


class Namespace:
    def __init__(self) -> None:
        self.name = f"inspector-load-{os.getpid()}"
        made = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if made.returncode:
            raise RuntimeError(f"cannot create a network namespace: {made.stderr.strip()}")
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True, timeout=10)

    def cmd(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def _start_live(ns: Namespace, out: Path, duration: float, log: Path) -> subprocess.Popen[str]:
    cmd = ns.cmd(sys.executable, "-m", "inspector.live", "-i", "lo", "-o", str(out))
    cmd += ["--duration", f"{duration:g}", "--bpf", "udp"]
    with log.open("w") as stdout:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, encoding="utf-8"
        )
    return proc


def _wait_ready(proc: subprocess.Popen[str], lines: list[str], timeout: float) -> bool:
    ready: queue.Queue[bool] = queue.Queue()

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("capturing on"):
                ready.put(True)
        ready.put(False)

    threading.Thread(target=reader, daemon=True).start()
    try:
        return ready.get(timeout=timeout)
    except queue.Empty:
        return False


def run(
    seconds: float, pps: int, folder: Path, flows: int = 32, size: int = 172, margin: float = 4.0
) -> dict[str, Any]:
    """One load run; a report with the sender's figures, RSS samples and summary.json.

    The traffic starts ``margin`` seconds after the capture (after its first refresh, which
    loads the later stages) and the capture runs ``margin`` seconds longer than the traffic.
    """
    ns = Namespace()
    out = folder / "out"
    proc = None
    try:
        proc = _start_live(ns, out, seconds + 2 * margin, folder / "stdout.txt")
        lines: list[str] = []
        if not _wait_ready(proc, lines, 60):
            proc.kill()
            raise RuntimeError("live capture did not start:\n" + "".join(lines))
        time.sleep(margin)
        started = time.monotonic()
        sender = subprocess.Popen(
            ns.cmd(sys.executable, "-c", SENDER, str(seconds), str(pps), str(flows), str(size)),
            stdout=subprocess.PIPE,
            text=True,
        )
        samples: list[tuple[float, int]] = []
        while sender.poll() is None:
            kb = rss_kb(proc.pid)
            if kb is not None:
                samples.append((round(time.monotonic() - started, 2), kb))
            time.sleep(0.25)
        sent = json.loads(sender.communicate(timeout=30)[0])
        rc = proc.wait(timeout=seconds + 120)
        time.sleep(0.1)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)
        ns.close()
    written = out / "summary.json"
    summary = json.loads(written.read_text()) if written.exists() else {}
    return {
        "seconds": seconds,
        "pps_asked": pps,
        "sender": sent,
        "exit": rc,
        "rss_kb": samples,
        "warmup_s": warmup(seconds),
        "summary": {k: summary.get(k) for k in ("packets", "capture", "flows")},
        "stdout": (folder / "stdout.txt").read_text(),
        "stderr": "".join(lines),
    }


def warmup(seconds: float) -> float:
    return min(15.0, seconds / 2)


def rss_band(report: dict[str, Any]) -> tuple[int, int]:
    after = [kb for t, kb in report["rss_kb"] if t >= report["warmup_s"]]
    return (min(after), max(after)) if after else (0, 0)


def problems(report: dict[str, Any], band: float = 0.10) -> list[str]:
    """Every check of the module docstring that fails (empty: all hold)."""
    out = []
    if report["exit"] != 0:
        out.append(f"exit {report['exit']}: {report['stderr'][-2000:]}")
        return out
    lo, hi = rss_band(report)
    if not lo or (hi - lo) > band * lo:
        out.append(f"RSS after warm-up {lo}..{hi} kB: not within {band:.0%}")
    pk, cap = report["summary"]["packets"], report["summary"]["capture"]
    if pk["total"] != pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]:
        out.append(f"total != decoded + skipped + malformed: {pk}")
    if cap["packets_processed"] != pk["total"]:
        out.append(f"processed {cap['packets_processed']} != total {pk['total']}")
    if not isinstance(cap.get("packets_dropped_by_kernel"), int):
        out.append(f"kernel drops not reported: {cap.get('packets_dropped_by_kernel')!r}")
    elif f"dropped by the kernel: {cap['packets_dropped_by_kernel']}" not in report["stdout"]:
        out.append("kernel drops not on stdout")
    unread = cap.get("packets_unread_at_stop")
    accounted = cap["packets_processed"] + (cap.get("packets_dropped_by_kernel") or 0)
    if cap["packets_seen"] != accounted + (unread or 0) or unread:
        out.append(
            f"seen {cap['packets_seen']} != processed {cap['packets_processed']} + dropped "
            f"{cap.get('packets_dropped_by_kernel')} (unread at stop: {unread!r})"
        )
    if cap["packets_seen"] != report["sender"]["sent"]:  # the namespace carries nothing else
        out.append(f"seen {cap['packets_seen']} != sent {report['sender']['sent']}")
    return out


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one run."""
    lo, hi = rss_band(report)
    cap = report["summary"]["capture"] or {}
    return {
        "sent": report["sender"]["sent"],
        "pps_achieved": report["sender"]["pps"],
        "rss_after_warmup_kb": [lo, hi],
        "rss_spread": round((hi - lo) / lo, 4) if lo else None,
        "seen": cap.get("packets_seen"),
        "processed": cap.get("packets_processed"),
        "dropped_by_kernel": cap.get("packets_dropped_by_kernel"),
        "unread_at_stop": cap.get("packets_unread_at_stop"),
        "packets": report["summary"]["packets"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--pps", type=int, default=20000)
    p.add_argument("--flows", type=int, default=32)
    p.add_argument("--rss-band", type=float, default=0.10)
    p.add_argument("--report", default="")
    args = p.parse_args(argv)
    reason = skip_reason()
    if reason:
        print(f"live_load: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.seconds, args.pps, Path(tmp), args.flows)
    found = problems(report, args.rss_band)
    result = {"figures": figures(report), "problems": found, "run": report}
    if args.report:
        Path(args.report).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"figures": result["figures"], "problems": found}, indent=1))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
