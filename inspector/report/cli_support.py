"""What the command line calls for reports: terminal output and the ``evidence`` subcommand."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from inspector.api import Result
from inspector.errors import InputError
from inspector.report.jsonout import dumps, records
from inspector.report.terminal import make_console, print_report, safe_text

__all__ = ["EVIDENCE_EPILOG", "add_evidence_parser", "render_terminal", "run_evidence"]

EVIDENCE_EPILOG = """\
examples:
  inspector analyze captures/zoom-2020.pcap -o out
  inspector evidence out F0001 -o F0001.pcap       # then open F0001.pcap in Wireshark
  inspector evidence out F0003 -o f3.pcapng --capture /elsewhere/zoom-2020.pcap

The capture is found through OUTDIR/summary.json (where `analyze` read it); pass --capture when
it has moved. From a pseudonymised OUTDIR (analyze --pseudonymize) the packets are written with
the same pseudonyms as the report (addresses, MACs, checksums fixed), using the private map kept
in ~/.local/state/conference-inspector (or --map FILE); without the map nothing is written.
The output is a pcap (pcapng when FILE ends in .pcapng or link types differ).
exit codes: 0 written, 2 bad OUTDIR, unknown FINDING_ID or capture not found.
"""


def render_terminal(
    result: Result,
    stream: TextIO,
    quiet: bool = False,
    as_json: bool = False,
    outdir: str | None = None,
) -> None:
    """What ``inspector analyze`` prints on ``stream``.

    ``as_json``: one JSON document (``summary``, ``sessions``, ``findings``) for scripts;
    ``quiet``: nothing; otherwise the accounting and a findings table per session.
    """
    if as_json:
        doc: dict[str, Any] = {
            "summary": result.summary,
            "sessions": records(result.tables["sessions"]) if "sessions" in result.tables else [],
            "findings": records(result.tables["findings"]) if "findings" in result.tables else [],
        }
        if outdir is not None:
            doc["outdir"] = outdir
        stream.write(dumps(doc) + "\n")
        return
    if quiet:
        return
    print_report(result, make_console(stream), outdir)


def add_evidence_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``evidence`` subcommand to the CLI's subparsers."""
    e = subparsers.add_parser(
        "evidence",
        help="write the packets behind one finding to a pcap",
        description="Write the packets behind one finding (from an `analyze` OUTDIR) to a pcap "
        "file, ready to open in Wireshark or to hand to a reviewer.",
        epilog=EVIDENCE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("outdir", metavar="OUTDIR", help="output folder of `inspector analyze`")
    e.add_argument("finding_id", metavar="FINDING_ID", help="finding id, e.g. F0001")
    e.add_argument("-o", "--output", required=True, metavar="FILE", help="pcap file to write")
    e.add_argument(
        "--capture",
        metavar="PATH",
        default=None,
        help="the capture file, when it is no longer where `analyze` read it",
    )
    e.add_argument(
        "--map",
        metavar="FILE",
        default=None,
        help="the private pseudonym map of a pseudonymised OUTDIR, when it is not in this "
        "user's state folder (where `analyze --pseudonymize` keeps it)",
    )
    e.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return e


def run_evidence(
    args: argparse.Namespace, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``inspector evidence``; 0 on success, 2 with one line on stderr otherwise."""
    from inspector.report.evidence import export_evidence

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        done = export_evidence(
            args.outdir, args.finding_id, args.output, args.capture, getattr(args, "map", None)
        )
    except InputError as exc:
        err.write(f"inspector: error: {safe_text(exc)}\n")
        return 2
    if not getattr(args, "quiet", False):
        out.write(
            safe_text(
                f"{done.finding_id}: {done.packets} packets from {done.capture} written to "
                f"{done.output} ({done.format})"
            )
            + "\n"
        )
    if done.note and (done.warn or not getattr(args, "quiet", False)):
        err.write(f"inspector: note: {safe_text(done.note)}\n")
    return 0
