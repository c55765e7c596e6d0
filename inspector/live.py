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
from inspector.report.text import safe_text

__all__ = ["LIVE_EPILOG", "add_live_parser", "main", "render_findings", "run_live"]

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

MAX_ROWS = 20
_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}


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
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    return p


# ----------------------------------------------------------------------------- terminal
def _cell(value: Any, style: str = "") -> Any:
    import pandas as pd
    from rich.text import Text

    try:
        missing = value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        missing = False
    text = "" if missing else str(value)
    return Text(safe_text(text), style=style)  # Text: never parsed as markup


def render_findings(findings: Any, header: str) -> Any:
    """A rich renderable: one header line and a compact findings table (most severe first)."""
    from rich.console import Group
    from rich.table import Table

    table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    for name, justify in (
        ("severity", "left"),
        ("finding", "left"),
        ("destination", "left"),
        ("organisation", "left"),
        ("verdict", "left"),
        ("flows", "right"),
        ("bytes out", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    records = findings.to_dict("records") if len(findings) else []
    records.sort(key=lambda r: (_SEVERITY_RANK.get(str(r.get("severity")), 9), r.get("finding")))
    for r in records[:MAX_ROWS]:
        sev = str(r.get("severity") or "")
        table.add_row(
            _cell(sev, _SEVERITY_STYLE.get(sev, "")),
            _cell(r.get("finding")),
            _cell(r.get("destination")),
            _cell(r.get("organisation")),
            _cell(r.get("verdict")),
            _cell(r.get("flows")),
            _cell(r.get("bytes_to_server")),
        )
    parts: list[Any] = [_cell(header, "bold")]
    if records:
        parts.append(table)
        if len(records) > MAX_ROWS:
            parts.append(_cell(f"... and {len(records) - MAX_ROWS} more in findings.csv", "dim"))
    else:
        parts.append(_cell("no findings yet", "dim"))
    return Group(*parts)


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


def _run(args: argparse.Namespace, stop: _Stop) -> int:
    from inspector.api import run_stages
    from inspector.config import Config
    from inspector.dissect.registry import load_dissectors
    from inspector.pipeline import Collected, Ingest
    from inspector.report.outputs import write_outputs
    from inspector.source import RawPacket
    from inspector.source.live import (
        CaptureStats,
        PcapngWriter,
        check_filter,
        check_interface,
        open_live,
    )

    iface: str = args.interface
    check_interface(iface)
    check_filter(args.bpf, iface)
    outdir = Path(args.outdir)
    quiet: bool = args.quiet
    from rich.console import Console

    console = Console(stderr=True)
    if _interface_down(iface) and not quiet:
        print(f"inspector: warning: interface {iface!r} is down", file=sys.stderr)

    config = Config(client=args.client)
    collected = Collected()
    collected.rows.setdefault("flows", [])
    label = os.path.basename(args.write) if args.write else iface
    ingest = Ingest(config, collected, label, load_dissectors() if config.dissect else [])
    writer: PcapngWriter | None = None
    stats = CaptureStats()
    cap = None
    live_view: Any = None

    def take(batch: list[RawPacket]) -> None:
        for pkt in batch:
            if writer is not None:
                writer.write(pkt)
            ingest.feed(pkt.ts, pkt.linktype, pkt.data)

    try:
        cap = open_live(iface, args.bpf)
        linktype = cap.linktype
        _make_outdir(outdir)
        if args.write:
            writer = PcapngWriter(args.write, cap.linktype, iface, args.bpf)
        if not quiet:
            until = f"for {args.duration:g} s or " if args.duration else ""
            print(
                f"capturing on {iface}"
                + (f" with filter {args.bpf!r}" if args.bpf else "")
                + f" {until}until Ctrl-C",
                file=sys.stderr,
                flush=True,
            )
        started_wall, started = time.time(), time.monotonic()
        deadline = started + args.duration if args.duration else None
        next_refresh = started + args.refresh
        header = f"live on {iface}: starting"
        shown: Any = render_findings(_empty_findings(), header)
        if console.is_terminal and not quiet:
            from rich.live import Live

            live_view = Live(shown, console=console, auto_refresh=False, transient=False)
            stop.view = live_view
            live_view.start()
        while not stop.reason:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                stop.reason = "duration"
                break
            wait = min(0.25, max(next_refresh - now, 0.0))
            if deadline is not None:
                wait = min(wait, max(deadline - now, 0.0))
            try:
                batch = cap.read(wait)
            except InputError as exc:  # the interface went away: keep what was captured
                print(f"inspector: warning: {exc}; stopping", file=sys.stderr)
                stop.reason, batch = "capture_error", []
            take(batch)
            if time.monotonic() >= next_refresh and not stop.reason:
                t0 = time.monotonic()
                snap = run_stages(ingest.snapshot(), config)
                drops = cap.stats().drops_text
                line = _status(iface, t0 - started, ingest.frame, drops, snap)
                if live_view is not None:
                    live_view.update(render_findings(snap.tables["findings"], line), refresh=True)
                elif not quiet:
                    print(line, file=sys.stderr, flush=True)
                cost = time.monotonic() - t0
                next_refresh = time.monotonic() + max(args.refresh, 4 * cost)
        with contextlib.suppress(InputError):  # already warned by the loop
            take(cap.drain())
        elapsed = time.monotonic() - started
    finally:
        if cap is not None:
            cap.close()
            stats = cap.stats()
        if writer is not None:
            writer.close(stats)
    # the frames are all in: a Ctrl-C from here on is a second one only if one came before
    ingest.finish()
    seen = (
        stats.kernel_received - stats.loopback_duplicates
        if stats.kernel_received is not None
        else stats.received
    )
    collected.inputs.append(
        {
            "path": args.write or iface,
            "interface": iface,
            "format": "live",
            "compressed": False,
            "linktypes": [linktype],
            "packets": ingest.frame,
            "truncated": False,
            "pcapng_blocks_without_packets": {},
        }
    )
    result = run_stages(collected, config)
    result.summary["capture"] = {
        "interface": iface,
        "bpf": args.bpf,
        "linktype": linktype,
        "started": round(started_wall, 6),
        "duration_s": round(elapsed, 3),
        "stopped_by": stop.reason,
        "packets_seen": seen,
        "packets_processed": ingest.frame,
        "packets_dropped_by_kernel": stats.kernel_dropped,
        "kernel_drops": stats.drops_text,
        "loopback_duplicates_ignored": stats.loopback_duplicates,
        "written_to": args.write,
    }
    write_outputs(result, outdir)
    if live_view is not None:
        line = f"live on {iface}: stopped ({stop.reason}) after {elapsed:.1f} s"
        live_view.update(render_findings(result.tables["findings"], line), refresh=True)
        live_view.stop()
    for w in result.warnings:
        print(f"inspector: warning: {w}", file=sys.stderr)
    if not quiet:
        s = result.summary
        pk = s["packets"]
        print(
            f"capture on {iface} stopped by {stop.reason} after {elapsed:.1f} s: {seen} packets "
            f"seen, {ingest.frame} processed, dropped by the kernel: {stats.drops_text}"
        )
        print(
            f"{pk['total']} packets: {pk['decoded']} decoded, {pk['skipped_total']} skipped, "
            f"{pk['malformed_total']} malformed"
        )
        tables = ", ".join(f"{k} {v}" for k, v in s["tables"].items() if k != "flows" and v)
        print(f"{s['flows']} flows" + (f"; {tables}" if tables else ""))
        if args.write:
            print(f"capture written to {args.write}")
        print(f"outputs written to {outdir}")
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
