"""Make a small, real TLS 1.3 capture of SDK-style telemetry, with its key log (synthetic, ours).

A fake app POSTs a Facebook-SDK-style app event (form body with ``advertiser_id``, the
``extinfo`` device array and a SHA-256-hashed e-mail as in Advanced Matching) and a gzip'd JSON
device report to a server named ``graph.facebook.com`` (SNI; certificate made here with
``cryptography``). Everything runs on 127.0.0.1: Python's ``ssl`` on both ends, the client
writing the NSS key log via ``keylog_filename``, ``dumpcap`` capturing the loopback interface.

Outputs (in OUTDIR, default ``captures/``):
  telemetry-tls13.pcapng       the capture, no secrets inside
  telemetry-tls13.keys         the client's key log (SSLKEYLOGFILE format)
  telemetry-tls13-dsb.pcapng   the same capture with the key log embedded as a pcapng
                               Decryption Secrets Block (editcap --inject-secrets)
  telemetry-known-values.txt   the user's own values planted in the traffic (--known-values)
  telemetry.har                the same two requests as a browser's HAR 1.2 export
  telemetry.mitm               the same two requests as a mitmproxy flow file (when the
                               mitmproxy package is installed)

``PLANTED`` lists the data categories the capture carries; tests check that ``data_shared``
finds exactly these. Run as root (dumpcap on ``lo``): ``python scripts/make_telemetry_capture.py``.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER_NAME = "graph.facebook.com"
EMAIL = "jane.doe@example.org"
ADVERTISER_ID = "5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921"
VENDOR_ID = "0F1E2D3C-4B5A-4697-8877-665544332211"
#: Facebook iOS SDK extinfo v2 (see inspector.privacy.detectors.EXTINFO)
EXTINFO = [
    "i2",
    "com.example.confapp",
    "5.0.2",
    "5.0.2",
    "13.3.1",
    "iPhone12,1",
    "en_US",
    "GMT+1",
    "ExampleTel",
    828,
    1792,
    "2.00",
    6,
    64,
    42,
    "Europe/Berlin",
]
#: every data category the two requests carry
PLANTED = frozenset(
    {
        "advertising_id",
        "vendor_id",
        "os_version",
        "device_model",
        "locale",
        "time_zone",
        "carrier",
        "screen_size",
        "cpu_cores",
        "disk_size",
        "memory_size",
        "known_value",
    }
)


def app_event_body() -> bytes:
    """The form body of an SDK app event (POST /v12.0/APP_ID/activities)."""
    fields = {
        "event": "CUSTOM_APP_EVENTS",
        "advertiser_id": ADVERTISER_ID,
        "advertiser_tracking_enabled": "1",
        "application_tracking_enabled": "1",
        "anon_id": "XZ7c1d0b1e-aaaa-bbbb",
        "extinfo": json.dumps(EXTINFO, separators=(",", ":")),
        "custom_events": json.dumps([{"_eventName": "fb_mobile_activate_app", "_logTime": 1}]),
        "ud": json.dumps({"em": hashlib.sha256(EMAIL.encode()).hexdigest()}),
    }
    return urllib.parse.urlencode(fields).encode()


def device_report_body() -> bytes:
    """A gzip'd JSON device report (another SDK call of the same app)."""
    report = {
        "sdk": "confapp-telemetry/1.0",
        "device": {"idfv": VENDOR_ID, "memory_size_gb": 4},
        "session": {"length_s": 1200, "meetings": 2},
    }
    return gzip.compress(json.dumps(report).encode(), mtime=0)


REQUESTS = (
    ("/v12.0/1234567890/activities", "application/x-www-form-urlencoded", "", app_event_body),
    ("/v12.0/1234567890/device_report", "application/json", "gzip", device_report_body),
)


def make_certificate(workdir: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def serve(listener: socket.socket, ctx: ssl.SSLContext, count: int) -> None:
    """Answer ``count`` requests on one TLS connection with a small JSON body."""
    conn, _ = listener.accept()
    with ctx.wrap_socket(conn, server_side=True) as tls:
        buf = b""
        for _ in range(count):
            while b"\r\n\r\n" not in buf:
                buf += tls.recv(65536)
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(rest) < length:
                rest += tls.recv(65536)
            buf = rest[length:]
            body = b'{"success":true}'
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )


def run_app(port: int, cafile: Path, keylog: Path, rounds: int = 1) -> None:
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.keylog_filename = str(keylog)
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        ctx.wrap_socket(raw, server_hostname=SERVER_NAME) as tls,
    ):
        for path, ctype, coding, make_body in REQUESTS * rounds:
            body = make_body()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
                f"User-Agent: FBiOSSDK.5.15.1\r\nContent-Type: {ctype}\r\n"
                + (f"Content-Encoding: {coding}\r\n" if coding else "")
                + f"Content-Length: {len(body)}\r\n\r\n"
            )
            tls.sendall(head.encode() + body)
            answer = b""
            while not answer.endswith(b'{"success":true}'):
                answer += tls.recv(65536)


def _request_parts() -> list[tuple[str, str, str, bytes, bytes]]:
    """(url, content type, coding, wire body, decoded body) of each request."""
    out = []
    for path, ctype, coding, make_body in REQUESTS:
        wire = make_body()
        decoded = gzip.decompress(wire) if coding == "gzip" else wire
        out.append((f"https://{SERVER_NAME}{path}", ctype, coding, wire, decoded))
    return out


def write_har(path: Path) -> None:
    """The requests as a HAR 1.2 log (bodies decoded, as developer tools show them)."""
    entries = []
    for i, (url, ctype, coding, _, decoded) in enumerate(_request_parts()):
        headers = [
            {"name": "Host", "value": SERVER_NAME},
            {"name": "User-Agent", "value": "FBiOSSDK.5.15.1"},
            {"name": "Content-Type", "value": ctype},
        ] + ([{"name": "Content-Encoding", "value": coding}] if coding else [])
        entries.append(
            {
                "startedDateTime": f"2026-01-01T00:00:0{i}.000Z",
                "time": 10,
                "request": {
                    "method": "POST",
                    "url": url,
                    "httpVersion": "HTTP/1.1",
                    "headers": headers,
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": len(decoded),
                    "postData": {"mimeType": ctype, "text": decoded.decode()},
                },
                "response": {
                    "status": 200,
                    "statusText": "OK",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                    "cookies": [],
                    "content": {"size": 16, "mimeType": "application/json"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 16,
                },
                "cache": {},
                "timings": {"send": 0, "wait": 10, "receive": 0},
            }
        )
    doc = {"log": {"version": "1.2", "creator": {"name": "make_telemetry_capture", "version": "1"}}}
    doc["log"]["entries"] = entries
    path.write_text(json.dumps(doc, indent=1) + "\n")


def write_mitm(path: Path) -> bool:
    """The requests as a mitmproxy flow file; False when mitmproxy is not installed."""
    try:
        from mitmproxy import http, io
        from mitmproxy.test import tflow
    except ImportError:
        return False
    with path.open("wb") as fh:
        writer = io.FlowWriter(fh)
        for url, ctype, coding, wire, _ in _request_parts():
            flow = tflow.tflow(resp=True)
            headers = {"Host": SERVER_NAME, "User-Agent": "FBiOSSDK.5.15.1", "Content-Type": ctype}
            if coding:
                headers["Content-Encoding"] = coding
            flow.request = http.Request.make("POST", url, b"", headers)
            flow.request.raw_content = wire
            flow.response = http.Response.make(
                200, b'{"success":true}', {"Content-Type": "application/json"}
            )
            writer.add(flow)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", default="captures")
    parser.add_argument(
        "--imports-only", action="store_true", help="write only the HAR and mitmproxy files"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="send the two requests this many times (a larger capture for benchmarks)",
    )
    args = parser.parse_args()
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    write_har(out / "telemetry.har")
    wrote_mitm = write_mitm(out / "telemetry.mitm")
    print(f"wrote {out}/telemetry.har" + (" and telemetry.mitm" if wrote_mitm else ""))
    if args.imports_only:
        return 0
    dumpcap, editcap = shutil.which("dumpcap"), shutil.which("editcap")
    if dumpcap is None or editcap is None:
        raise SystemExit("needs dumpcap and editcap (Wireshark) on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cert, key = make_certificate(work)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        server_ctx.load_cert_chain(cert, key)
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        raw_pcap = work / "raw.pcapng"
        capture = subprocess.Popen(
            [dumpcap, "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(raw_pcap)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(2.0)  # let dumpcap open the interface
            count = len(REQUESTS) * args.rounds
            server = threading.Thread(target=serve, args=(listener, server_ctx, count))
            server.start()
            keylog = work / "keys.txt"
            run_app(port, cert, keylog, args.rounds)
            server.join(timeout=60)
            time.sleep(1.0)
        finally:
            capture.terminate()
            capture.wait(timeout=10)
            listener.close()
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(raw_pcap, out / "telemetry-tls13.pcapng")
        shutil.copy(keylog, out / "telemetry-tls13.keys")
        subprocess.run(
            [
                editcap,
                "--inject-secrets",
                f"tls,{keylog}",
                str(raw_pcap),
                str(out / "telemetry-tls13-dsb.pcapng"),
            ],
            check=True,
        )
    (out / "telemetry-known-values.txt").write_text(
        f"# the user's own values (synthetic) for --known-values\nemail: {EMAIL}\n"
    )
    print(f"wrote {out}/telemetry-tls13.pcapng (+ .keys, -dsb.pcapng, known values)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
