"""Command line: arguments -> pipeline -> reports. No analysis logic lives here."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from inspector import __version__
from inspector.errors import InputError, OutputError
from inspector.live import add_live_parser, run_live

if TYPE_CHECKING:
    from inspector.api import Result

__all__ = ["main"]

DESCRIPTION = """\
Show what a video-conferencing client really does on the network: every flow, who is on
the other end and on what evidence, third-party telemetry, and how the content is protected.
"""

ANALYZE_EPILOG = """\
examples:
  inspector analyze captures/zoom-2020.pcap -o out
  inspector analyze ~/captures/ -o out          # every .pcap/.pcapng(.gz) in the folder
  inspector analyze a.pcap b.pcapng.gz -o out

outputs (in OUTDIR):
{outputs}
  summary.json     packet accounting: total = decoded + skipped + malformed
  <table>.json     every table again as JSON records (missing values are null)
  report.html      one self-contained page for people: summary, findings, charts, caveats
  report.csv       the findings for a spreadsheet, plain column names (Windows-1252, for
                   a double-click in LibreOffice or Excel; exact UTF-8 in findings.csv)
Column reference: docs/schema.md.
Packets behind a finding: inspector evidence OUTDIR F0001 -o F0001.pcap

several captures: each is analysed on its own (its own client, sessions, findings); the
tables are their union with a `file` column; session ids get the capture's number (3:S1),
finding ids run through the whole run. --merge reads the files as one capture instead (a
capture split by a ring buffer), in the time order of their first packets. Re-running into the
same OUTDIR reuses the results of unchanged captures (OUTDIR/.inspector-cache; --no-resume).
  inspector analyze ~/captures/ -o out --jobs 2      # two worker processes
  inspector analyze /shared/caps -o out --scheduler tcp://10.0.0.5:8786   # a Dask cluster
  inspector analyze ~/captures/ -o out --format csv,parquet

decrypted traffic (docs/decryption.md): --keylog FILE decrypts TLS 1.2/1.3 and QUIC of your
own client; --har FILE and --mitm FILE add the requests of a browser's HAR export or a
mitmproxy flow file to the http and data_shared tables (column `source` says which file):
  inspector analyze call.pcapng --keylog keys.log --known-values me.txt -o out
  inspector analyze call.pcapng --har web.har --mitm phone.flows -o out

exit codes: 0 done (a file cut short is analysed up to the cut, with a warning); 3 done, but
some inputs could not be read (listed with their reason in summary.json `files` and
report.html); 2 bad usage or no readable input (checked before any packet is read: OUTDIR
a file or not writable, --client not an address, a --keylog with no key log line, a --har
or --mitm file that does not read as one, a .gz broken before its first packet; a --client
address that is in no flow is refused after reading, before anything is written); 1 internal
error; 4 outputs could not be written (disk full, permission); 130 interrupted (Ctrl-C); 143
terminated (SIGTERM).
Outputs are written all or nothing: after exit 4, 130 or 143 OUTDIR is as it was before.
"""


#: Exit code when the outputs could not be written (3 means "some inputs could not be read").
EXIT_OUTPUT_ERROR = 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"inspector: error: {message} (see 'inspector --help')\n")


def outputs_help(width: int = 68) -> str:
    """The tables of OUTDIR, one line each: the first clause of its schema doc (the same
    declarations ``inspector schema`` prints), cut at a word with an ellipsis."""
    import re

    from inspector.schema import load_all

    first = ("flows", "destinations", "findings", "sessions")
    specs = load_all()
    names = [n for n in first if n in specs] + sorted(set(specs) - set(first))
    lines = []
    for name in names:
        clause = re.split(r": | \(|; |, (?=[a-z]+ )", specs[name].doc)[0].rstrip(".")
        if len(clause) > width:
            clause = clause[: width - 1].rsplit(" ", 1)[0] + "…"
        lines.append(f"  {name + '.csv':<16} {clause}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="inspector",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"inspector {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    a = sub.add_parser(
        "analyze",
        help="analyse capture files offline",
        description="Analyse pcap / pcapng / gzip captures, or folders of them.",
        epilog=ANALYZE_EPILOG.replace("{outputs}", outputs_help()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_analyze_arguments(a)
    add_live_parser(sub)
    sub.add_parser("schema", help="print the column reference of every output table")
    from inspector.report.cli_support import add_evidence_parser
    from inspector.report.compare import add_compare_parser

    add_evidence_parser(sub)
    add_compare_parser(sub)
    return p


def _add_analyze_arguments(a: argparse.ArgumentParser) -> None:
    a.add_argument("paths", nargs="+", metavar="PATH", help="capture file or folder")
    a.add_argument(
        "-o",
        "--outdir",
        required=True,
        metavar="OUTDIR",
        help="folder for the output tables (created if missing)",
    )
    a.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    a.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    a.add_argument(
        "--client",
        default="",
        metavar="ADDR",
        help="address of the client under study (default: the busiest local address)",
    )
    a.add_argument(
        "--lists",
        action="append",
        default=[],
        metavar="FILE",
        help="a tracker list to match names against (Disconnect services.json, "
        "DuckDuckGo TDS, Exodus trackers.json, X-Ray, hosts file or domain "
        "list; format recognised, or force it as KIND:FILE); repeatable",
    )
    a.add_argument(
        "--keylog",
        action="append",
        default=[],
        metavar="FILE",
        help="TLS key log (SSLKEYLOGFILE format) to decrypt TLS 1.2, TLS 1.3 and QUIC "
        "connections of your own client and read the HTTP/1.1, HTTP/2 and HTTP/3 inside; "
        "secrets embedded in a pcapng are used too; repeatable (see docs/decryption.md)",
    )
    a.add_argument(
        "--har",
        action="append",
        default=[],
        metavar="FILE",
        help="a HAR file (browser developer tools: Network, 'Save all as HAR') whose requests "
        "join the http and data_shared tables (source har:FILE); repeatable",
    )
    a.add_argument(
        "--mitm",
        action="append",
        default=[],
        metavar="FILE",
        help="a mitmproxy flow file (mitmdump -w FILE) whose requests join the http and "
        "data_shared tables (source mitmproxy:FILE); needs "
        "pip install 'conference-inspector[mitmproxy]'; repeatable",
    )
    a.add_argument(
        "--known-values",
        action="append",
        default=[],
        metavar="FILE",
        help="a file of your own values (one per line, or LABEL: value) to look for in "
        "decrypted requests, also hashed (MD5/SHA-1/SHA-256), base64- or URL-encoded; "
        "repeatable",
    )
    a.add_argument(
        "--show-values",
        action="store_true",
        help="write the personal-data values found (data_shared.value) unmasked",
    )
    a.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    a.add_argument(
        "--json",
        action="store_true",
        help="print the summary, sessions and findings as one JSON document (for scripts)",
    )
    a.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace the device's own, local and peer addresses and MACs with documentation "
        "addresses (192.0.2.x, 198.51.100.x, 203.0.113.x, 2001:db8::) and documentation "
        "MACs (00:00:5e:00:53:xx), .local names with host-N, in every output and in the packets "
        "`inspector evidence` exports; public server addresses are kept as evidence",
    )
    _add_batch_arguments(a)


def _add_batch_arguments(a: argparse.ArgumentParser) -> None:
    a.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes (default: the machine's cores); one large capture is split "
        "across them by flow, with the same results as one process",
    )
    a.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (e.g. tcp://host:8786); every worker must be "
        "able to read the capture paths (shared storage) and have conference-inspector installed",
    )
    a.add_argument(
        "--merge",
        action="store_true",
        help="treat the files as one capture split by a ring buffer (read in time order)",
    )
    a.add_argument(
        "--format",
        type=_formats,
        default=("csv",),
        metavar="LIST",
        help="table formats: csv (CSV + JSON, default), parquet (a dataset per table, "
        "partitioned by file), or csv,parquet",
    )
    a.add_argument(
        "--no-resume",
        action="store_true",
        help="analyse every capture again, ignoring results kept in OUTDIR from an earlier run",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _formats(text: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(t.strip().lower() for t in text.split(",") if t.strip()))
    bad = [t for t in items if t not in ("csv", "parquet")]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"{text!r}: choose csv, parquet or csv,parquet")
    return items


def _progress_bar(files: int):  # type: ignore[no-untyped-def]
    """A rich progress bar on stderr (terminals only): captures done, packets, ETA by bytes."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(f"0/{files} captures", total=None)

    def update(done: int, total: int, done_bytes: int, packets: int, size: int = 0) -> None:
        bar.update(
            task,
            description=f"{done}/{total} captures, {packets:,} packets",
            completed=done_bytes,
            total=size or None,
        )

    return bar, update


def _analyze(args: argparse.Namespace) -> int:
    import os

    from inspector.batch import CACHE_FOLDER, run_batch
    from inspector.config import Config
    from inspector.report.outputs import write_outputs
    from inspector.source import expand_paths
    from inspector.source.checks import (
        check_captures,
        check_client,
        check_imports,
        check_keylogs,
        check_outdir,
    )
    from inspector.source.known_values import read_known_values

    files = expand_paths(args.paths)  # fail early, with exit 2, on a missing path
    read_known_values(args.known_values)  # likewise for an unreadable --known-values file
    check_outdir(args.outdir)  # every check below runs before any packet is read
    args.client = check_client(args.client)
    check_keylogs(args.keylog)
    check_imports(args.har, args.mitm)
    check_captures(files)
    if "parquet" in args.format:
        from inspector.report.parquet import require_pyarrow

        require_pyarrow()
    config = Config(
        client=args.client,
        tracker_lists=tuple(args.lists),
        keylogs=tuple(args.keylog),
        known_values=tuple(args.known_values),
        har=tuple(args.har),
        mitm=tuple(args.mitm),
        show_values=args.show_values,
    )
    before = _snapshot(args.outdir)
    silent = args.no_progress or args.quiet or args.json
    bar, update = (None, None) if silent else _progress_bar(len(files))
    size = sum(os.path.getsize(f) for f in files)
    kwargs = {
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "merge": args.merge,
        # the workers render the per-capture pages, unless the outputs are rewritten first
        "pages": None if args.pseudonymize else str(args.outdir),
        # a pseudonymised OUTDIR keeps no cache: its results carry the real addresses
        "cache_dir": None
        if args.no_resume or args.pseudonymize
        else os.path.join(args.outdir, CACHE_FOLDER),
    }
    if bar is not None and update is not None:
        with bar:
            update(0, len(files), 0, 0, size)
            batch = run_batch(files, config, progress=lambda *a: update(*a, size=size), **kwargs)
    else:
        batch = run_batch(files, config, **kwargs)
    result = batch.result
    try:
        _check_client_seen(args.client, result)
    except InputError:
        _undo_cache(args.outdir, kwargs["cache_dir"], before)
        raise
    if args.pseudonymize:
        from inspector.report.pseudomap import publish

        result = publish(result)
        for entry in result.summary.get("files", []):
            entry.pop("path", None)
            entry.pop("merged", None)
    prebuilt = None if args.pseudonymize else batch.prebuilt
    write_outputs(result, args.outdir, args.format, jobs=batch.jobs, prebuilt=prebuilt)
    from inspector.report.cli_support import render_terminal
    from inspector.report.text import safe_text

    for w in result.warnings:  # on stderr only: the terminal report below does not repeat them
        print(f"inspector: warning: {safe_text(w)}", file=sys.stderr)
    for o in batch.outcomes:
        if o.status == "failed":
            line = f"inspector: {o.status}: {safe_text(o.file)}: {safe_text(o.reason)}"
            print(line, file=sys.stderr)
    shown = dataclasses.replace(result, warnings=[])
    render_terminal(shown, sys.stdout, quiet=args.quiet, as_json=args.json, outdir=args.outdir)
    return batch.exit_code


def _snapshot(outdir: str) -> set[str] | None:
    """Paths under ``outdir`` now (None: it does not exist), to undo what a refused run cached."""
    import os

    if not os.path.isdir(outdir):
        return None
    return {os.path.join(d, n) for d, dirs, files in os.walk(outdir) for n in dirs + files}


def _undo_cache(outdir: str, cache_dir: object, before: set[str] | None) -> None:
    """Remove what this run added to OUTDIR's cache, so a refused run leaves OUTDIR as it was."""
    import os
    import shutil

    if cache_dir is None or not os.path.isdir(outdir):
        return
    if before is None:
        shutil.rmtree(outdir, ignore_errors=True)
        return
    now = _snapshot(outdir) or set()
    for path in sorted(now - before, key=len, reverse=True):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)


def _check_client_seen(client: str, result: Result) -> None:
    """A ``--client`` address in no flow of the capture: exit 2 before any output is written.

    This can only be known after reading the packets; refusing (rather than orienting every flow
    from an address that is not there) keeps OUTDIR as it was and the report honest.
    """
    from inspector.source.checks import client_seen

    flows = result.tables.get("flows")
    if not client or flows is None or len(flows) == 0:
        return
    ends = [*flows["orig_h"].astype(str), *flows["resp_h"].astype(str)]
    if not client_seen(client, ends):
        raise InputError(
            f"--client {client} is not an endpoint of any flow in the capture; "
            "omit --client to use the busiest local address"
        )


def _schema() -> int:
    from inspector.schema.docs import render_markdown

    sys.stdout.write(render_markdown())
    return 0


class Terminated(BaseException):
    """SIGTERM, raised where the program is so that cleanup (temporary outputs) runs."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


class _Peek(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _start_workers(argv: Sequence[str]) -> None:
    """``analyze`` of several captures with worker processes: start their server (it imports
    the analysis modules) before this process imports them, so that both import at once. Any
    doubt (a usage error, one file) leaves it to :func:`inspector.batch.run_batch`."""
    if list(argv[:1]) != ["analyze"]:
        return
    peek = _Peek(add_help=False)
    _add_analyze_arguments(peek)
    try:
        args = peek.parse_args(argv[1:])
    except (ValueError, SystemExit):
        return
    from inspector.workers import start_server, worth_workers

    if args.scheduler is None and worth_workers(args.paths, args.jobs):
        with contextlib.suppress(OSError, ValueError):
            start_server()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _start_workers(argv)
    args = _parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "live":
            return run_live(args)
        if args.command == "schema":
            return _schema()
        if args.command == "evidence":
            from inspector.report.cli_support import run_evidence

            return run_evidence(args)
        if args.command == "compare":
            from inspector.report.compare import run_compare

            return run_compare(args)
        _parser().print_help()
        return 2
    except InputError as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT_ERROR
    except KeyboardInterrupt:
        print("inspector: interrupted; outputs not written, OUTDIR left as it was", file=sys.stderr)
        return 130
    except Terminated:
        print("inspector: terminated; outputs not written, OUTDIR left as it was", file=sys.stderr)
        return 143
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, exit 1, no traceback unless --debug
        if getattr(args, "debug", False):
            raise
        print(
            f"inspector: internal error: {type(exc).__name__}: {exc} "
            "(please report it with the capture if you can share it)",
            file=sys.stderr,
        )
        return 1
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
