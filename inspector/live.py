"""Live mode: capture from an interface, show the findings as they appear, write outputs at the end.

The frames go through the very pipeline the offline mode uses (:class:`inspector.pipeline.Ingest`),
so the same packets give the same tables; ``--write`` keeps them in a pcapng file to check that.
Every few seconds a snapshot (open flows included, provisionally) is run through the later stages
and the findings table is redrawn. The run ends after ``--duration`` seconds, on Ctrl-C (SIGINT)
or on SIGTERM; in each case the frames already queued are analysed and every output is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from inspector.errors import InputError

__all__ = ["LIVE_EPILOG", "add_live_parser", "main", "render_findings", "run_live"]

#: at most this long to analyse what is still queued when the capture stops
DRAIN_S = 60.0

LIVE_EPILOG = """\
examples:
  sudo inspector live -i eth0 -o out                       # until Ctrl-C
  sudo inspector live -i wlan0 -o out --duration 600 --write call.pcapng
  sudo inspector live -i any -o out --bpf "not port 22"

Ctrl-C (SIGINT) or SIGTERM stops the capture; the packets already captured are analysed and
every output is written (the same files as `inspector analyze`, plus the capture with --write).
Capturing needs root or CAP_NET_RAW (CAP_NET_ADMIN too for --bpf).

exit codes: 0 done, 2 unknown interface, missing privileges, bad filter or bad usage,
1 internal error, 130 a second Ctrl-C aborted the run before the outputs were written.
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def add_live_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``live`` command to an ``argparse`` sub-parser collection."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "live",
        help="capture from a network interface and analyse as it runs",
        description="Capture from a network interface, show the findings as they appear, and "
        "write every output when the capture stops.",
        epilog=LIVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-i", "--interface", required=True, metavar="IFACE", help="interface to capture on"
    )
    p.add_argument(
        "-o",
        "--outdir",
        required=True,
        metavar="OUTDIR",
        help="folder for the output tables (created if missing)",
    )
    p.add_argument(
        "--bpf", default="", metavar="FILTER", help='capture filter, e.g. "udp or tcp port 443"'
    )
    p.add_argument(
        "--duration", type=_seconds, default=None, metavar="S", help="stop after S seconds"
    )
    p.add_argument(
        "--write", default="", metavar="FILE", help="also save the captured frames as pcapng"
    )
    p.add_argument(
        "--refresh",
        type=_seconds,
        default=3.0,
        metavar="S",
        help="redraw the findings every S seconds (default 3)",
    )
    p.add_argument(
        "--client",
        default="",
        metavar="ADDR",
        help="address of the client under study (default: the busiest local address)",
    )
    p.add_argument(
        "--lists",
        action="append",
        default=[],
        metavar="FILE",
        help="a tracker list to match names against (as for analyze); repeatable",
    )
    p.add_argument(
        "--keylog",
        action="append",
        default=[],
        metavar="FILE",
        help="TLS key log (SSLKEYLOGFILE format) to decrypt your own client's TLS/QUIC "
        "(as for analyze; lines the client appends during the capture are read too); "
        "repeatable",
    )
    p.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace the device's own, local and peer addresses and MACs with documentation "
        "addresses and documentation MACs in every output (as for analyze)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    return p


# ----------------------------------------------------------------------------- terminal
def render_findings(findings: Any, header: str) -> Any:
    """The live view (``report.terminal.live_panel``): a header line and the findings."""
    from inspector.report.terminal import live_panel

    return live_panel(findings, header)


# ----------------------------------------------------------------------------- stopping
@dataclass
class _Stop:
    """Signal handler: the first SIGINT/SIGTERM asks for a clean stop, a second Ctrl-C aborts."""

    reason: str = ""
    sigints: int = 0
    view: Any = None  #: the rich Live display, stopped whatever happens

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            self.sigints += 1
            if self.sigints > 1:
                raise KeyboardInterrupt
        if not self.reason:
            self.reason = signal.Signals(signum).name


def _install(stop: _Stop) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to ``stop``; returns the function that restores the old ones."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, h in old.items():
            signal.signal(s, h)

    return restore


def _interface_down(iface: str) -> bool:
    try:
        flags = int(Path("/sys/class/net", iface, "flags").read_text().strip(), 16)
    except (OSError, ValueError):
        return False
    return not flags & 1


# ----------------------------------------------------------------------------- the run
def _status(iface: str, elapsed: float, seen: int, drops: str, result: Any) -> str:
    s = result.summary
    findings = result.tables["findings"]
    high = int((findings["severity"] == "high").sum()) if len(findings) else 0
    dropped = f" ({drops} dropped by the kernel)" if drops.isdigit() and drops != "0" else ""
    return (
        f"live on {iface}: {elapsed:.0f} s, {seen} packets{dropped}, {s['flows']} flows, "
        f"{len(findings)} findings ({high} high)"
    )


@dataclass
class _KeyLogTail:
    """The lines added to the ``--keylog`` files since the capture started (a browser or an
    app run with SSLKEYLOGFILE writes its keys while the capture runs); ``texts`` grows."""

    paths: tuple[str, ...]
    texts: list[str]
    offsets: list[int]

    @classmethod
    def start(cls, paths: tuple[str, ...]) -> _KeyLogTail:
        sizes = []
        for p in paths:
            try:
                sizes.append(os.path.getsize(p))
            except OSError:
                sizes.append(0)
        return cls(paths, [], sizes)

    def poll(self) -> None:
        for i, path in enumerate(self.paths):
            try:
                if os.path.getsize(path) <= self.offsets[i]:
                    continue
                with open(path, "rb") as fh:
                    fh.seek(self.offsets[i])
                    data = fh.read()
            except OSError:
                continue
            whole = data[: data.rfind(b"\n") + 1]  # a line still being written waits
            if whole:
                self.offsets[i] += len(whole)
                self.texts.append(whole.decode("utf-8", "replace"))


@dataclass
class _Capture:
    """One live run: the open capture, the ingest it feeds, where it writes."""

    args: argparse.Namespace
    config: Any
    ingest: Any
    collected: Any
    cap: Any = None
    writer: Any = None
    view: Any = None
    linktype: int = 0
    started_wall: float = 0.0
    started: float = 0.0
    elapsed: float = 0.0
    keys: _KeyLogTail | None = None

    def take(self, batch: list[Any]) -> None:
        if self.keys is not None and batch:
            self.keys.poll()  # before the packets: a flow they end is decrypted at once
        for pkt in batch:
            if self.writer is not None:
                self.writer.write(pkt)
            self.ingest.feed(pkt.ts, pkt.linktype, pkt.data)

    def show(self, findings: Any, line: str) -> None:
        if self.view is not None:
            self.view.update(render_findings(findings, line), refresh=True)
        elif not self.args.quiet:
            print(line, file=sys.stderr, flush=True)


def _prepare(args: argparse.Namespace) -> _Capture:
    """Check the interface and filter, then set up the pipeline (nothing captured yet)."""
    from inspector.config import Config
    from inspector.pipeline import Collected, Ingest
    from inspector.source.live import check_filter, check_interface

    check_interface(args.interface)
    check_filter(args.bpf, args.interface)
    if _interface_down(args.interface) and not args.quiet:
        print(f"inspector: warning: interface {args.interface!r} is down", file=sys.stderr)
    from inspector.batch_shard import live_dissectors
    from inspector.source.checks import check_client, check_keylogs

    check_keylogs(getattr(args, "keylog", []), allow_empty=True)
    config = Config(
        client=check_client(args.client),
        tracker_lists=tuple(getattr(args, "lists", [])),
        keylogs=tuple(getattr(args, "keylog", [])),
    )
    collected = Collected()
    collected.rows.setdefault("flows", [])
    label = os.path.basename(args.write) if args.write else args.interface
    keys = _KeyLogTail.start(config.keylogs) if config.keylogs else None
    dissectors, keyed = live_dissectors(config, keys.texts if keys is not None else None)
    ingest = Ingest(config, collected, label, dissectors, keyed)
    return _Capture(args, config, ingest, collected, keys=keys)


def _start(run: _Capture, stop: _Stop) -> None:
    from rich.console import Console

    from inspector.source.live import PcapngWriter, open_live

    args = run.args
    run.cap = open_live(args.interface, args.bpf)
    run.linktype = run.cap.linktype
    _make_outdir(Path(args.outdir))
    if args.write:
        run.writer = PcapngWriter(args.write, run.cap.linktype, args.interface, args.bpf)
    if not args.quiet:
        until = f"for {args.duration:g} s or " if args.duration else ""
        bpf = f" with filter {args.bpf!r}" if args.bpf else ""
        print(
            f"capturing on {args.interface}{bpf} {until}until Ctrl-C", file=sys.stderr, flush=True
        )
    console = Console(stderr=True)
    if console.is_terminal and not args.quiet:
        from rich.live import Live

        shown = render_findings(_empty_findings(), f"live on {args.interface}: starting")
        run.view = Live(shown, console=console, auto_refresh=False, transient=False)
        stop.view = run.view
        run.view.start()
    run.started_wall, run.started = time.time(), time.monotonic()


def _refresh(run: _Capture) -> float:
    """Run the later stages on a snapshot and redraw; returns what it cost in seconds."""
    from inspector.api import run_stages

    t0 = time.monotonic()
    snap = run_stages(run.ingest.snapshot(), run.config)
    drops = run.cap.stats().drops_text
    run.show(
        snap.tables["findings"],
        _status(run.args.interface, t0 - run.started, run.ingest.frame, drops, snap),
    )
    return time.monotonic() - t0


def _read(run: _Capture, stop: _Stop, wait: float) -> None:
    try:
        batch = run.cap.read(wait)
    except InputError as exc:  # the interface went away: keep what was captured
        print(f"inspector: warning: {exc}; stopping", file=sys.stderr)
        stop.reason, batch = "capture_error", []
    run.take(batch)


def _loop(run: _Capture, stop: _Stop) -> None:
    """Capture until the duration, a signal or a capture error; refresh the view meanwhile."""
    args = run.args
    deadline = run.started + args.duration if args.duration else None
    next_refresh = run.started + args.refresh
    while not stop.reason:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            stop.reason = "duration"
            break
        wait = min(0.25, max(next_refresh - now, 0.0))
        if deadline is not None:
            wait = min(wait, max(deadline - now, 0.0))
        _read(run, stop, wait)
        if time.monotonic() >= next_refresh and not stop.reason:
            cost = _refresh(run)
            next_refresh = time.monotonic() + max(args.refresh, 4 * cost)
    run.elapsed = time.monotonic() - run.started
    with contextlib.suppress(InputError):  # already warned by the loop
        _drain(run)


def _drain(run: _Capture, max_seconds: float = DRAIN_S) -> None:
    """Stop taking packets, then analyse what is queued: every packet the kernel counted is
    then processed or dropped (the queue is finite once stopped; the bound is a safeguard)."""
    run.cap.stop()
    end = time.monotonic() + max_seconds
    while time.monotonic() < end and (batch := run.cap.read(0.0)):
        run.take(batch)


def _capture_summary(run: _Capture, stop: _Stop, stats: Any) -> dict[str, Any]:
    seen = (
        stats.kernel_received - stats.loopback_duplicates
        if stats.kernel_received is not None
        else stats.received
    )
    return {
        "interface": run.args.interface,
        "bpf": run.args.bpf,
        "linktype": run.linktype,
        "started": round(run.started_wall, 6),
        "duration_s": round(run.elapsed, 3),
        "stopped_by": stop.reason,
        "packets_seen": seen,
        "packets_processed": run.ingest.frame,
        "packets_dropped_by_kernel": stats.kernel_dropped,
        "packets_unread_at_stop": stats.unread,
        "kernel_drops": stats.drops_text,
        "loopback_duplicates_ignored": stats.loopback_duplicates,
        "written_to": run.args.write,
    }


def _finish(run: _Capture, stop: _Stop, stats: Any) -> Any:
    """Every frame is in: end the flows, run the later stages, write every output."""
    from inspector.api import run_stages
    from inspector.report.outputs import write_outputs

    if run.keys is not None:
        run.keys.poll()
    run.ingest.finish()
    args = run.args
    run.collected.inputs.append(
        {
            "path": args.write or args.interface,
            "interface": args.interface,
            "format": "live",
            "compressed": False,
            "linktypes": [run.linktype],
            "packets": run.ingest.frame,
            "truncated": False,
            "pcapng_blocks_without_packets": {},
        }
    )
    result = run_stages(run.collected, run.config)
    result.summary["capture"] = _capture_summary(run, stop, stats)
    if getattr(args, "pseudonymize", False):
        from inspector.report.pseudomap import publish

        result = publish(result)
    write_outputs(result, Path(args.outdir))
    if run.view is not None:
        line = f"live on {args.interface}: stopped ({stop.reason}) after {run.elapsed:.1f} s"
        run.view.update(render_findings(result.tables["findings"], line), refresh=True)
        run.view.stop()
    return result


def _report(run: _Capture, stop: _Stop, result: Any) -> None:
    from inspector.report.text import count

    args = run.args
    for w in result.warnings:
        print(f"inspector: warning: {w}", file=sys.stderr)
    if args.quiet:
        return
    s, cap = result.summary, result.summary["capture"]
    pk = s["packets"]
    print(
        f"capture on {args.interface} stopped by {stop.reason} after {run.elapsed:.1f} s: "
        f"{cap['packets_seen']} packets seen, {run.ingest.frame} processed, dropped by the "
        f"kernel: {cap['kernel_drops']}"
    )
    print(
        f"{pk['total']} packets: {pk['decoded']} decoded, {pk['skipped_total']} skipped, "
        f"{pk['malformed_total']} malformed"
    )
    tables = ", ".join(f"{k} {v}" for k, v in s["tables"].items() if k != "flows" and v)
    print(count(int(s["flows"]), "flow") + (f"; {tables}" if tables else ""))
    if args.write:
        print(f"capture written to {args.write}")
    print(f"outputs written to {args.outdir}")


def _run(args: argparse.Namespace, stop: _Stop) -> int:
    from inspector.source.live import CaptureStats

    run = _prepare(args)
    stats = CaptureStats()
    try:
        _start(run, stop)
        _loop(run, stop)
    finally:
        if run.cap is not None:
            run.cap.close()
            stats = run.cap.stats()
        if run.writer is not None:
            run.writer.close(stats)
    # the frames are all in: a Ctrl-C from here on is a second one only if one came before
    _report(run, stop, _finish(run, stop, stats))
    return 0


def _make_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{outdir}: cannot create ({exc.strerror or exc})") from exc
    if not os.access(outdir, os.W_OK):
        raise InputError(f"{outdir}: not writable")


def _empty_findings() -> Any:
    from inspector.tables import to_frame

    return to_frame("findings", [])


def run_live(args: argparse.Namespace) -> int:
    """Run ``inspector live`` with parsed arguments; the exit code (0, 2, or 130)."""
    stop = _Stop()
    restore = _install(stop)
    try:
        return _run(args, stop)
    except InputError as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inspector: aborted; outputs were not written", file=sys.stderr)
        return 130
    finally:
        if stop.view is not None:
            stop.view.stop()
        restore()


def main(argv: list[str] | None = None) -> int:
    """``python -m inspector.live ...``: the ``live`` command on its own."""
    parser = argparse.ArgumentParser(prog="inspector")
    sub = parser.add_subparsers(dest="command", required=True)
    add_live_parser(sub)
    args = parser.parse_args(["live", *(sys.argv[1:] if argv is None else argv)])
    return run_live(args)


if __name__ == "__main__":
    raise SystemExit(main())
