"""Differential checks against tshark with the same keys: decrypted TLS 1.3 bytes, HTTP/1.1 and
HTTP/2 requests (method, authority, path, status, body lengths per stream), and the decrypted
HTTP/3 streams of a QUIC capture. Runs where tshark and the shared captures are installed.

tshark 4.0 has no QPACK decoder, so for HTTP/3 the comparison is the decrypted bytes of every
request stream (``-z follow,quic``) and the body lengths their DATA frames add up to.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from inspector.config import Config
from inspector.dissect.http3 import DATA, pull_h3_frames
from inspector.dissect.keylog import KeyLog
from inspector.dissect.tlsdecrypt import decrypted_streams, make_dissector
from inspector.pipeline import Collected, flow_views, read_packets
from inspector.schema.http import HttpRow
from tests.conftest import real_dir

#: the default limits: flows whose secrets are logged are kept whole (FlowLimits.keyed_*), as
#: tshark keeps everything
DEFAULT = Config()

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")

CASES = [
    ("tls13-rfc8446.pcap", "tls13-rfc8446.keys"),
    ("tls13-20-chacha20poly1305.pcap", "tls13-20-chacha20poly1305.keys"),
    ("http2-data-reassembly.pcap", "http2-data-reassembly.keys"),
    ("http2_follow_multistream.pcapng", None),
]


def _paths(capture: str, keys: str | None) -> tuple[Path, Path | None]:
    base = real_dir() / "wireshark"
    cap = base / "captures" / capture
    if not cap.is_file():
        pytest.skip(f"{capture} not in the shared corpus")
    return cap, (base / "keys" / keys) if keys else None


def _tshark(cap: Path, keys: Path | None, *args: str) -> str:
    opts = ["-o", "tcp.reassemble_out_of_order:TRUE"]
    opts += ["-o", f"tls.keylog_file:{keys}"] if keys else []
    out = subprocess.run(
        ["tshark", "-r", str(cap), *opts, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return out.stdout


def _ours(cap: Path, keys: Path | None) -> list[HttpRow]:
    keylog = KeyLog([keys.read_text()] if keys else [])
    out = Collected()
    read_packets(str(cap), DEFAULT, out, [("tls_decrypt", make_dissector(keylog))], None, keylog)
    return [r for r in out.rows.get("http", []) if isinstance(r, HttpRow)]


def _multi(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """tshark's JSON repeats keys (one ``http2.header`` per field): keep them all as a list."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = [*_items(out[key]), value]
        else:
            out[key] = value
    return out


def _items(node: Any) -> list[Any]:
    return node if isinstance(node, list) else [node]


def _h2_streams(cap: Path, keys: Path | None) -> Counter[tuple[Any, ...]]:
    """(stream id, method, authority, path, status, request and response DATA octets) per
    HTTP/2 stream, from tshark's dissection."""
    text = _tshark(cap, keys, "-Y", "http2", "-T", "json", "-J", "tcp http2")
    packets = json.loads(text, object_pairs_hook=_multi)
    streams: dict[tuple[str, int], dict[str, Any]] = {}
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        tcp = layers["tcp"]
        conn, sport = tcp["tcp.stream"], tcp["tcp.srcport"]
        for layer in _items(layers.get("http2", [])):
            for frame in _items(layer.get("http2.stream", [])):
                if not isinstance(frame, dict) or "http2.streamid" not in frame:
                    continue
                sid, ftype = int(frame["http2.streamid"]), frame.get("http2.type")
                st = streams.setdefault(
                    (conn, sid), {"client": None, "h": {}, "req": 0, "resp": 0, "resp_h": False}
                )
                if ftype == "1":
                    headers = {
                        h["http2.header.name"]: h.get("http2.header.value", "")
                        for h in _items(frame.get("http2.header", []))
                        if isinstance(h, dict) and "http2.header.name" in h
                    }
                    if ":method" in headers:
                        st["client"] = sport
                    if ":status" in headers:
                        st["resp_h"] = True
                    st["h"].update(headers)
                elif ftype == "0":
                    length = int(frame["http2.length"])
                    if frame.get("http2.flags_tree", {}).get("http2.flags.padded") == "1":
                        length -= int(frame.get("http2.pad_length", 0)) + 1
                    st["req" if sport == st["client"] else "resp"] += length
    return Counter(
        (
            sid,
            st["h"].get(":method", ""),
            st["h"].get(":authority", ""),
            st["h"].get(":path", ""),
            int(st["h"][":status"]) if ":status" in st["h"] else None,
            st["req"],
            st["resp"] if st["resp_h"] else None,
        )
        for (_, sid), st in streams.items()
        if st["h"].get(":method")
    )


def _h1_requests(cap: Path, keys: Path | None) -> tuple[Counter[tuple[Any, ...]], Counter[Any]]:
    fields = ["http.request.method", "http.host", "http.request.uri", "http.response.code"]
    text = _tshark(
        cap,
        keys,
        "-Y",
        "http",
        "-T",
        "fields",
        *(a for f in fields for a in ("-e", f)),
        "-e",
        "http.content_length",
    )
    requests: Counter[tuple[Any, ...]] = Counter()
    responses: Counter[Any] = Counter()
    for line in text.splitlines():
        method, host, uri, code, length = (line.split("\t") + [""] * 5)[:5]
        if method:
            requests[(method, host, uri)] += 1
        elif code:
            responses[(int(code), int(length) if length else None)] += 1
    return requests, responses


@pytest.mark.parametrize(("capture", "keys"), CASES)
def test_http_equals_tshark(capture: str, keys: str | None) -> None:
    cap, key_path = _paths(capture, keys)
    ours = _ours(cap, key_path)
    h2 = [r for r in ours if r.version == "HTTP/2"]
    h1 = [r for r in ours if r.version.startswith("HTTP/1")]
    theirs_h2 = _h2_streams(cap, key_path)
    assert (
        Counter(
            (
                r.stream_id,
                r.method,
                r.host,
                r.uri,
                r.status,
                r.request_body_len,
                r.response_body_len,
            )
            for r in h2
        )
        == theirs_h2
    )
    requests, responses = _h1_requests(cap, key_path)
    assert Counter((r.method, r.host, r.uri) for r in h1) == requests
    assert Counter((r.status, r.response_body_len) for r in h1 if r.status) == responses
    assert all(r.inside_tls for r in ours)
    assert ours or capture.startswith("tls13-20"), "expected decrypted HTTP"


def _follow(cap: Path, keys: Path | None, proto: str, *index: int) -> tuple[bytes, bytes]:
    spec = ",".join(map(str, index))
    text = _tshark(cap, keys, "-q", "-z", f"follow,{proto},raw,{spec}")
    client, server = bytearray(), bytearray()
    body = text.split("=" * 67)[1] if "=" * 67 in text else ""
    for line in body.splitlines():
        if not re.fullmatch(r"\t?(?:[0-9a-f]{2})+", line):
            continue
        (server if line.startswith("\t") else client).extend(bytes.fromhex(line.strip()))
    return bytes(client), bytes(server)


@pytest.mark.parametrize(("capture", "keys"), CASES[:2])
def test_tls13_plaintext_equals_tshark(capture: str, keys: str) -> None:
    cap, key_path = _paths(capture, keys)
    assert key_path is not None
    keylog = KeyLog([key_path.read_text()])
    ours = set()
    for view in flow_views(str(cap), DEFAULT):
        got = decrypted_streams(view, keylog)
        if got is not None:
            ours.add(tuple(sorted((got[0].data, got[1].data))))
    # tshark names the side that sent first "node 0": compare the two directions unordered
    theirs = {tuple(sorted(_follow(cap, key_path, "tls", i))) for i in range(len(ours))}
    assert ours and ours == theirs


def test_http3_streams_equal_tshark() -> None:
    cap, _ = _paths("quic_follow_multistream.pcapng", None)
    rows = [r for r in _ours(cap, None) if r.version == "HTTP/3"]
    assert len(rows) >= 10
    for row in rows:
        assert row.stream_id is not None
        client, server = _follow(cap, None, "quic", 0, row.stream_id)
        req = pull_h3_frames(client)[0]
        resp = pull_h3_frames(server)[0]
        assert row.request_body_len == sum(len(p) for t, p, _ in req if t == DATA)
        if row.response_body_len is not None:
            assert row.response_body_len == sum(len(p) for t, p, _ in resp if t == DATA)


def test_keyed_quic_flow_is_read_whole_with_the_default_budgets() -> None:
    """The secrets in the pcapng make the flow keyed: it keeps datagrams past the default
    budget (FlowLimits.keyed_*), so every request stream tshark decrypts is read, byte-equal."""
    cap, _ = _paths("quic_follow_multistream.pcapng", None)
    keylog = KeyLog([])
    out = Collected()
    read_packets(str(cap), Config(), out, [("tls_decrypt", make_dissector(keylog))], None, keylog)
    rows = [r for r in out.rows.get("http", []) if isinstance(r, HttpRow)]
    ids = _tshark(
        cap, None, "-Y", "quic.stream.stream_id", "-T", "fields", "-e", "quic.stream.stream_id"
    )
    theirs = {int(i) for line in ids.split() for i in line.split(",") if int(i) % 4 == 0}
    assert len(theirs) == 22
    assert {r.stream_id for r in rows} == theirs
    for row in rows:
        client, server = _follow(cap, None, "quic", 0, row.stream_id)  # type: ignore[arg-type]
        req = pull_h3_frames(client)[0]
        resp = pull_h3_frames(server)[0]
        assert row.request_body_len == sum(len(p) for t, p, _ in req if t == DATA)
        assert row.response_body_len == sum(len(p) for t, p, _ in resp if t == DATA)
