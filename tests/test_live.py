"""inspector.live and inspector.source.live: live capture on the loopback interface.

The capture tests need Linux packet sockets and root (or CAP_NET_RAW) and skip otherwise. They
only ever send traffic to 127.0.0.1, on ports the test itself bound, and every capture has a
BPF filter for those ports and a bounded duration, so each run stops by itself.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import errno
import http.client
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from inspector.api import analyze, run_stages
from inspector.assess.helpers import helper_findings
from inspector.config import Config
from inspector.live import add_live_parser, render_findings, run_live
from inspector.pipeline import collect
from inspector.report.outputs import CONTRACT_TABLES, write_outputs
from inspector.report.text import safe_text
from inspector.source import live as source_live
from inspector.source import open_capture
from inspector.source.live import CaptureStats, PcapngWriter
from inspector.source.open import RawPacket
from inspector.tables import to_frame

ROOT = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")
SNI = "graph.facebook.com"
READY_S = 30.0  # imports + socket setup of the capture process, generous for a loaded CI box


# ----------------------------------------------------------------------------- helpers
def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inspector")
    add_live_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["live", *argv])


def capture_skip_reason() -> str:
    """Why live capture on lo cannot run here ("" when it can)."""
    if not LINUX:
        return "live capture tests use Linux packet sockets"
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except PermissionError:
        return "capturing on lo needs root or CAP_NET_RAW (run the tests as root)"
    except OSError as exc:
        return f"packet sockets are not available here ({exc})"
    sock.close()
    if "lo" not in source_live.interface_names():
        return "no loopback interface named lo"
    return bpf_skip_reason()


def bpf_skip_reason() -> str:
    try:
        source_live.check_filter("udp", "lo")
    except (source_live.InputError, OSError) as exc:
        return f"BPF filters cannot be compiled here ({exc})"
    return ""


@pytest.fixture(scope="module")
def can_capture() -> None:
    reason = capture_skip_reason()
    if reason:
        pytest.skip(reason)


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inspector-test.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsServer:
    """A TLS server on 127.0.0.1 (ephemeral port) answering each request with a small reply."""

    def __init__(self, folder: Path) -> None:
        cert, key = self_signed(folder)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(5)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(4096)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            except (OSError, ssl.SSLError):
                continue

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def tls_client(port: int, server_name: str) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        body = b'{"event":"app_launch"}'
        tls.sendall(
            b"POST /v19.0/123/activities HTTP/1.1\r\nHost: " + server_name.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        tls.recv(4096)


def rtp_stream(port: int, packets: int = 200) -> None:
    """RTP-like datagrams (V=2, PT 111, 20 ms of Opus-sized payload each) to 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for seq in range(packets):
            head = struct.pack(
                "!BBHII", 0x80, 111 | (0x80 if seq == 0 else 0), seq, seq * 960, 0x1234ABCD
            )
            udp.sendto(head + bytes((seq * 7 + i) & 0xFF for i in range(120)), ("127.0.0.1", port))
            if seq % 20 == 19:
                time.sleep(0.01)


@dataclass
class LiveProc:
    proc: subprocess.Popen[str]
    out: Path
    stdout_path: Path
    lines: list[str] = field(default_factory=list)
    rc: int | None = None

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def wait(self, timeout: float = 60) -> int:
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"live capture did not stop by itself:\n{self.stderr}")
        time.sleep(0.05)  # let the reader thread collect the last lines
        return self.rc

    def csv(self, table: str) -> list[dict[str, str]]:
        with (self.out / f"{table}.csv").open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    def summary(self) -> dict[str, object]:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))


def start_live(folder: Path, *argv: str) -> LiveProc:
    """``python -m inspector.live -i lo ...`` in a subprocess; returns once it captures."""
    out = folder / "out"
    stdout_path = folder / "stdout.txt"
    cmd = [sys.executable, "-m", "inspector.live", "-i", "lo", "-o", str(out), *argv]
    with stdout_path.open("w", encoding="utf-8") as stdout:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, encoding="utf-8"
        )
    live = LiveProc(proc, out, stdout_path)
    ready: queue.Queue[str] = queue.Queue()

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            live.lines.append(line)
            if line.startswith("capturing on"):
                ready.put(line)
        ready.put("")

    threading.Thread(target=reader, daemon=True).start()
    try:
        line = ready.get(timeout=READY_S)
    except queue.Empty:
        line = ""
    if not line:
        proc.kill()
        proc.wait(5)
        pytest.fail(f"live capture did not start:\n{live.stderr}")
    return live


@pytest.fixture
def live_procs() -> Iterator[list[LiveProc]]:
    """Kills (by pid) any capture process a failing test left running."""
    procs: list[LiveProc] = []
    yield procs
    for p in procs:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(5)


def udp_sink() -> socket.socket:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    return sink


def assert_complete_outputs(live: LiveProc) -> dict[str, object]:
    for table in (*CONTRACT_TABLES, "findings"):
        assert (live.out / f"{table}.csv").is_file(), table
    summary = live.summary()
    pk = summary["packets"]
    assert isinstance(pk, dict)
    assert pk["total"] == pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]
    cap = summary["capture"]
    assert isinstance(cap, dict)
    assert cap["packets_processed"] == pk["total"]
    return summary


def tshark_frames(path: Path, display_filter: str) -> list[int]:
    done = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(path),
            "-Y",
            display_filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [int(x) for x in done.stdout.split()]


# ----------------------------------------------------------------------------- main live run
@pytest.fixture(scope="module")
def main_run(can_capture: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProc]:
    """One 5-second capture: a TLS ClientHello for graph.facebook.com and an RTP-like stream."""
    folder = tmp_path_factory.mktemp("live_main")
    server, sink = TlsServer(folder), udp_sink()
    udp_port = sink.getsockname()[1]
    live = start_live(
        folder,
        "--bpf",
        f"tcp port {server.port} or udp port {udp_port}",
        "--duration",
        "5",
        "--refresh",
        "1",
        "--write",
        str(folder / "capture.pcapng"),
    )
    try:
        tls_client(server.port, SNI)
        rtp_stream(udp_port)
        tls_client(server.port, SNI)
        live.wait()
        yield live
    finally:
        if live.proc.poll() is None:
            live.proc.kill()
            live.proc.wait(5)
        server.close()
        sink.close()


def test_live_run_stops_by_duration_and_writes_every_output(main_run: LiveProc) -> None:
    assert main_run.rc == 0, main_run.stderr
    summary = assert_complete_outputs(main_run)
    cap = summary["capture"]
    assert isinstance(cap, dict)
    assert cap["stopped_by"] == "duration"
    assert 4.5 <= float(cap["duration_s"]) < 15
    assert "stopped by duration" in main_run.stdout
    assert "live on lo:" in main_run.stderr  # the periodic refresh ran
    assert (main_run.out.parent / "capture.pcapng").is_file()


def test_live_names_the_sni_of_the_client_hello(main_run: LiveProc) -> None:
    named = [r for r in main_run.csv("flows") if r["server_name"] == SNI]
    assert len(named) == 2
    assert {r["server_name_source"] for r in named} == {"tls_sni"}
    assert {r["proto"] for r in named} == {"tcp"}
    tls = main_run.csv("tls")
    assert SNI in {r.get("server_name", r.get("sni")) for r in tls}


def test_live_attributes_graph_facebook_without_an_app(main_run: LiveProc) -> None:
    """graph.facebook.com is Meta's; with no app identified on the client its party is unknown
    (first party for Meta's own apps, third for others: issue 12), so no telemetry finding."""
    flows = [r for r in main_run.csv("flows") if r["server_name"] == SNI]
    assert len(flows) == 2
    for r in flows:
        assert r["entity"] == "Meta" and r["category"] == "social_sdk"
        assert (r["party"], r["party_reason"].split(":")[0]) == ("unknown", "no-app")
    rows = [r for r in main_run.csv("findings") if r["finding"].endswith("party_telemetry")]
    assert rows == []


def test_live_sees_the_whole_udp_stream_and_reports_packet_counts(main_run: LiveProc) -> None:
    udp = [r for r in main_run.csv("flows") if r["proto"] == "udp"]
    assert len(udp) == 1
    assert int(udp[0]["orig_pkts"]) + int(udp[0]["resp_pkts"]) == 200
    cap = main_run.summary()["capture"]
    assert isinstance(cap, dict)
    assert cap["packets_dropped_by_kernel"] == 0  # Linux reports it
    assert cap["kernel_drops"] == "0"
    # the kernel drops the outgoing copy of each loopback packet (socket filter prefix), so it
    # counts each packet once and every packet it counted was processed
    assert cap["packets_seen"] == cap["packets_processed"] > 200
    assert cap["loopback_duplicates_ignored"] == 0
    assert cap["packets_unread_at_stop"] == 0
    assert "dropped by the kernel: 0" in main_run.stdout


def test_live_and_offline_give_the_same_tables(main_run: LiveProc, tmp_path: Path) -> None:
    capture = main_run.out.parent / "capture.pcapng"
    result = analyze(capture)
    offline = tmp_path / "offline"
    write_outputs(result, offline)
    live_summary = main_run.summary()
    assert result.summary["packets"] == live_summary["packets"]
    for path in sorted(main_run.out.glob("*.csv")):
        assert path.read_bytes() == (offline / path.name).read_bytes(), path.name
    flows = result.tables["flows"]
    assert set(flows[flows.server_name == SNI].entity) == {"Meta"}


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_written_capture_is_read_by_tshark(main_run: LiveProc) -> None:
    capture = main_run.out.parent / "capture.pcapng"
    cap = main_run.summary()["capture"]
    assert isinstance(cap, dict)
    assert len(tshark_frames(capture, "frame")) == cap["packets_processed"]
    hello = tshark_frames(capture, f'tls.handshake.extensions_server_name == "{SNI}"')
    assert len(hello) == 2
    for row in main_run.csv("findings"):
        frames = [int(x) for x in row["frames"].split(";") if x]
        assert set(frames) <= set(tshark_frames(capture, row["evidence_filter"])), row


# ----------------------------------------------------------------------------- stopping
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_capture_still_writes_complete_outputs(
    can_capture: None, tmp_path: Path, live_procs: list[LiveProc], sig: signal.Signals
) -> None:
    server, sink = TlsServer(tmp_path), udp_sink()
    udp_port = sink.getsockname()[1]
    capture = tmp_path / "capture.pcapng"
    try:
        live = start_live(
            tmp_path,
            "--bpf",
            f"tcp port {server.port} or udp port {udp_port}",
            "--duration",
            "30",  # only a bound: the signal stops it
            "--write",
            str(capture),
        )
        live_procs.append(live)
        started = time.monotonic()
        tls_client(server.port, SNI)
        rtp_stream(udp_port, 50)
        time.sleep(max(0.0, (3.0 if sig == signal.SIGINT else 1.5) - (time.monotonic() - started)))
        live.proc.send_signal(sig)
        assert live.wait(30) == 0, live.stderr
    finally:
        server.close()
        sink.close()
    summary = assert_complete_outputs(live)
    cap = summary["capture"]
    assert isinstance(cap, dict)
    assert cap["stopped_by"] == sig.name
    assert float(cap["duration_s"]) < 20
    flows = live.csv("flows")
    assert any(r["server_name"] == SNI for r in flows)
    assert any(r["proto"] == "udp" and r["orig_pkts"] == "50" for r in flows)
    assert sum(1 for _ in open_capture(capture)) == cap["packets_processed"]
    assert f"stopped by {sig.name}" in live.stdout


# ----------------------------------------------------------------------------- local helper
class _Helper(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"GIF89a"
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_website_calling_a_local_helper_port_is_found(
    can_capture: None, tmp_path: Path, live_procs: list[LiveProc]
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Helper)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    capture = tmp_path / "capture.pcapng"
    try:
        live = start_live(
            tmp_path, "--bpf", f"tcp port {port}", "--duration", "3", "--write", str(capture)
        )
        live_procs.append(live)
        calls: list[dict[str, str]] = [
            {"Origin": "https://evil.example"},
            {"Referer": "https://evil.example/join?confno=123"},
            {"Origin": f"http://localhost:{port}"},  # the helper's own page: not a finding
        ]
        for headers in calls:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/launch?action=join&confno=123", headers=headers)
            conn.getresponse().read()
            conn.close()
        assert live.wait(30) == 0, live.stderr
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    http_rows = live.csv("http")
    assert len(http_rows) == 3
    assert {r["origin"] for r in http_rows} == {
        "https://evil.example",
        f"http://localhost:{port}",
        "",
    }
    collected = collect([capture])
    run_stages(collected, Config())
    (row,) = helper_findings(collected.rows["flows"], collected.rows["http"])
    assert row.finding == "local_helper"
    assert row.destination == f"127.0.0.1:{port}"
    assert row.severity == "high"  # the helper answered 200
    assert row.flows == 2
    assert "https://evil.example (Origin, Referer header)" in row.evidence
    assert row.explanation.startswith(
        f"A website (https://evil.example) sent 2 requests to a local helper service on "
        f"127.0.0.1:{port}"
    )
    live_helper = [r for r in live.csv("findings") if r["finding"] == "local_helper"]
    if live_helper:  # once api.run_stages calls helper_findings, live shows it too
        assert [r["destination"] for r in live_helper] == [row.destination]
    if shutil.which("tshark"):
        frames = {int(x) for x in row.frames.split(";")}
        assert len(frames) == 2
        assert frames <= set(tshark_frames(capture, row.evidence_filter))


# ----------------------------------------------------------------------------- "any" (cooked)
SENDER = """
import socket, sys, time
port = int(sys.argv[1])
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", port))
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
    for i in range(30):
        udp.sendto(b"ping %d" % i, ("127.0.0.1", port))
"""


@pytest.fixture
def netns(can_capture: None) -> Iterator[str]:
    """A network namespace of this test's own (only its loopback interface), deleted after."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) not installed")
    name = f"inspector-test-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=10)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def test_any_interface_gives_linux_cooked_frames(netns: str, tmp_path: Path) -> None:
    out, capture = tmp_path / "out", tmp_path / "any.pcapng"
    proc = subprocess.Popen(
        [
            *("ip", "netns", "exec", netns, sys.executable, "-m", "inspector.live", "-i", "any"),
            *("-o", str(out), "--bpf", "udp port 40123", "--duration", "4"),
            *("--write", str(capture)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "capturing on any ..." once the socket is open
        assert line.startswith("capturing on any"), line
        sent = subprocess.run(
            ["ip", "netns", "exec", netns, sys.executable, "-c", SENDER, "40123"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sent.returncode == 0, sent.stderr
        _stdout, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["capture"]["linktype"] == 113
    assert summary["packets"]["decoded"] == 30  # each loopback packet once
    with (out / "flows.csv").open(newline="", encoding="utf-8") as fh:
        (flow,) = list(csv.DictReader(fh))
    assert (flow["proto"], flow["resp_p"], flow["orig_pkts"]) == ("udp", "40123", "30")
    assert analyze(capture).flows["uid"].tolist() == [flow["uid"]]
    if shutil.which("tshark"):
        assert len(tshark_frames(capture, "sll && udp.dstport == 40123")) == 30


# ----------------------------------------------------------------------------- errors
def test_unknown_interface_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_live(parse("-i", "nosuch-if0", "-o", str(tmp_path / "out"))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("inspector: error: unknown interface 'nosuch-if0' (available: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not LINUX, reason="interface names differ")
@pytest.mark.parametrize(
    ("bpf", "detail"),
    [("udpp port 5", "syntax error"), ("port 99999", "illegal port number")],
)
def test_bad_bpf_filter_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bpf: str, detail: str
) -> None:
    reason = bpf_skip_reason()
    if reason:
        pytest.skip(reason)
    assert run_live(parse("-i", "lo", "-o", str(tmp_path / "out"), "--bpf", bpf)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"inspector: error: bad BPF filter {bpf!r}: ")
    assert detail in err


@pytest.mark.skipif(not LINUX, reason="Linux packet sockets")
def test_missing_privileges_name_the_capability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(kind: int, proto: int) -> socket.socket:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(source_live, "_packet_socket", denied)
    assert run_live(parse("-i", "lo", "-o", str(tmp_path / "out"), "--duration", "1")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs root or CAP_NET_RAW" in err and "setcap cap_net_raw" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    not LINUX or shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="needs root and setpriv to drop CAP_NET_RAW",
)
def test_real_capture_without_cap_net_raw_exits_2(tmp_path: Path) -> None:
    drop = "-net_raw,-net_admin"
    done = subprocess.run(
        [
            *("setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", "--", sys.executable),
            *("-m", "inspector.live", "-i", "lo", "-o", str(tmp_path / "out"), "--duration", "1"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("inspector: error: capturing needs root or CAP_NET_RAW")


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf"])
def test_duration_must_be_positive_seconds(value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        parse("-i", "lo", "-o", "out", "--duration", value)
    assert exc.value.code == 2


def test_parser_defaults() -> None:
    args = parse("-i", "eth0", "-o", "out")
    assert (args.interface, args.outdir, args.bpf, args.duration, args.write) == (
        "eth0",
        "out",
        "",
        None,
        "",
    )
    assert args.refresh == 3.0


# ----------------------------------------------------------------------------- pcapng writer
def frames() -> list[RawPacket]:
    base = 1_795_000_000_123_456
    out = []
    for i, size in enumerate((60, 61, 62, 63, 1514)):
        ticks = base + i * 1_000_001
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        out.append(RawPacket(ticks * 1e-6, 1, data, size + (4 if i == 2 else 0)))
    return out


def test_pcapng_writer_round_trips_through_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "w.pcapng"
    writer = PcapngWriter(path, 1, "eth0", "udp port 53")
    for f in frames():
        writer.write(f)
    writer.close(CaptureStats(received=5, kernel_received=7, kernel_dropped=2))
    cap = open_capture(path)
    got = list(cap)
    assert [tuple(r) for r in got] == [tuple(f) for f in frames()]  # same ts floats exactly
    assert cap.format == "pcapng" and not cap.truncated and not cap.warnings
    assert cap.skipped_blocks == {"interface_statistics": 1}


def test_pcapng_writer_without_stats_writes_no_statistics_block(tmp_path: Path) -> None:
    path = tmp_path / "w.pcapng"
    writer = PcapngWriter(path, 101, "tun0")
    writer.close(CaptureStats(received=0))
    cap = open_capture(path)
    assert list(cap) == []
    assert cap.skipped_blocks == {} and cap.linktypes == {101}


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_pcapng_writer_output_is_read_by_tshark(tmp_path: Path) -> None:
    path = tmp_path / "w.pcapng"
    writer = PcapngWriter(path, 1, "eth0", "udp")
    for f in frames():
        writer.write(f)
    writer.close(CaptureStats(received=5, kernel_received=5, kernel_dropped=0))
    done = subprocess.run(
        [
            *("tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch"),
            *("-e", "frame.len", "-e", "frame.cap_len"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [(float(r[0]), int(r[1]), int(r[2])) for r in rows] == [
        (pytest.approx(f.ts, abs=1e-6), f.wirelen, len(f.data)) for f in frames()
    ]


def test_unwritable_capture_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(source_live.InputError, match="cannot write"):
        PcapngWriter(tmp_path / "missing" / "x.pcapng", 1, "lo")


# ----------------------------------------------------------------------------- terminal
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("graph.facebook.com", "graph.facebook.com"),
        ("evil\x1b[31m.example", "evil\\x1b[31m.example"),
        ("a\nb\tc\x7f", "a\\nb\\tc\\x7f"),
        ("moc.elgoog\u202e", "moc.elgoog\\u202e"),
        ("caf\u00e9", "caf\u00e9"),
    ],
)
def test_terminal_text_escapes_control_characters(text: str, shown: str) -> None:
    assert safe_text(text) == shown


def _render(findings_rows: list[object], header: str) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_findings(to_frame("findings", findings_rows), header))
    return console.export_text()


def test_render_findings_shows_strings_from_packets_escaped() -> None:
    from inspector.schema.findings import FindingRow

    fields = {f: "" for f in FindingRow.__dataclass_fields__}
    fields.update(
        finding_id="F0001",
        finding="third_party_telemetry",
        severity="high",
        destination="[red]evil\x1b[2J.example",
        organisation="Meta Platforms, Inc.",
        flows=1,
        bytes_to_server=1234,
        bytes_from_server=10,
        first_seen=1.0,
        last_seen=2.0,
    )
    text = _render([FindingRow(**fields)], "live on lo: 3 s")  # type: ignore[arg-type]
    assert "live on lo: 3 s" in text
    assert "[red]evil\\x1b[2J.example" in text  # markup not interpreted, escape shown
    assert "\x1b" not in text
    assert "third_party_telemetry" in text and "1234" in text


def test_render_findings_without_findings() -> None:
    assert "no findings yet" in _render([], "live on lo: starting")


def test_stats_text_when_the_platform_does_not_report_drops() -> None:
    assert CaptureStats(received=3).drops_text == "not reported by this platform"
    assert CaptureStats(received=3, kernel_received=3, kernel_dropped=1).drops_text == "1"


def test_unread_is_what_the_kernel_counted_but_nobody_read() -> None:
    stats = CaptureStats(received=5, loopback_duplicates=1, kernel_received=10, kernel_dropped=2)
    assert stats.unread == 2
    assert CaptureStats(received=3).unread is None


def test_a_stopped_capture_takes_nothing_more_and_drains_what_it_counted(
    can_capture: None,
) -> None:
    sink = udp_sink()
    port = sink.getsockname()[1]
    cap = source_live.open_live("lo", f"udp port {port}")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for i in range(20):
                udp.sendto(b"before %d" % i, ("127.0.0.1", port))
            cap.stop()
            for i in range(30):
                udp.sendto(b"after %d" % i, ("127.0.0.1", port))
        got = cap.drain()
    finally:
        cap.close()
        sink.close()
    assert [p.data.split(b" ")[-1] for p in got] == [b"%d" % i for i in range(20)]
    assert all(b"before" in p.data for p in got)
    stats = cap.stats()
    assert (stats.kernel_received, stats.received, stats.loopback_duplicates) == (20, 20, 0)
    assert stats.kernel_dropped == 0 and stats.unread == 0


# ----------------------------------------------------------------------------- shared options
def test_live_takes_the_options_analyze_takes(
    can_capture: None, tmp_path: Path, live_procs: list[LiveProc], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--lists, --keylog (a key log the client fills while the capture runs) and --pseudonymize
    on a real capture of the loopback interface; then `evidence` on the pseudonymised OUTDIR."""
    from inspector.cli import main
    from inspector.report.addrtext import Scanner

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = SNI  # a third party by the bundled database: it gives a finding to export
    lists = tmp_path / "hosts.txt"
    lists.write_text(f"0.0.0.0 {name}\n", encoding="utf-8")
    keylog = tmp_path / "keys.log"
    keylog.write_text("", encoding="utf-8")  # empty at the start: the client writes it later
    server = TlsServer(tmp_path)
    capture = tmp_path / "capture.pcapng"
    try:
        live = start_live(
            tmp_path,
            *("--bpf", f"tcp port {server.port}", "--duration", "4", "--refresh", "1"),
            *("--write", str(capture), "--lists", str(lists), "--keylog", str(keylog)),
            "--pseudonymize",
        )
        live_procs.append(live)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.keylog_filename = str(keylog)
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=name) as tls,
        ):
            body = b'{"event":"live_option_test","email":"alice@example.com"}'
            tls.sendall(
                b"POST /collect/v1 HTTP/1.1\r\nHost: " + name.encode() + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            tls.recv(4096)
        assert live.wait(60) == 0, live.stderr
    finally:
        server.close()
    assert keylog.read_text(encoding="utf-8").strip()  # the keys came after the start
    assert_complete_outputs(live)
    (flow,) = [r for r in live.csv("flows") if r["server_name"] == name]
    assert name in flow["list_hits"]  # --lists
    requests = [r for r in live.csv("http") if r["uid"] == flow["uid"]]
    assert [(r["method"], r["host"]) for r in requests] == [("POST", name)]  # --keylog
    assert "/collect/v1" in requests[0]["uri"]
    assert [r["category"] for r in live.csv("data_shared")] == ["email"]  # read in the request
    # --pseudonymize: the loopback address is a local one; no output names it
    assert flow["orig_h"].startswith(("192.0.2.", "198.51.100."))
    summary = live.summary()
    assert isinstance(summary["pseudonymized"], dict)
    scanner = Scanner({"127.0.0.1"})
    for path in live.out.iterdir():
        assert scanner.find(path.read_bytes()) == [], path.name
    # and the packets `evidence` exports from it are pseudonymised the same way
    finding = next(r for r in live.csv("findings") if flow["uid"] in r["uids"].split(";"))
    pcap = tmp_path / "evidence.pcap"
    assert main(["evidence", str(live.out), finding["finding_id"], "-o", str(pcap), "-q"]) == 0
    assert scanner.find(pcap.read_bytes()) == []
    if shutil.which("tshark"):
        assert tshark_frames(pcap, finding["evidence_filter"])
