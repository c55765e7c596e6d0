"""TLS 1.3 decryption: RFC 8448 key-schedule vectors, every suite round trip, 0-RTT, KeyUpdate,
HelloRetryRequest, and a whole-flow check through the decrypting dissector."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.keylog import DecryptedMark, KeyLog
from inspector.dissect.tls13 import (
    SUITES,
    Epochs,
    decrypt_stream,
    hkdf_expand_label,
    next_traffic_secret,
    traffic_keys,
)
from inspector.dissect.tlsdecrypt import has_keys, make_dissector, make_key_check
from inspector.flows.view import FlowView
from inspector.privacy.request import RequestSeen
from inspector.schema.http import HttpRow
from tests.dissect.tls_factory import (
    client_hello_body,
    ext,
    handshake,
    record,
    server_hello_body,
    stream,
    tcp_view,
    versions_ext,
)

# RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256.
HANDSHAKE_SECRET = "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"
HELLO_HASH = "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"
C_HS = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
S_HS = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
MASTER = "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919"
FIN_HASH = "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13"
C_AP = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"
S_AP = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"


def test_rfc8448_section3_handshake_traffic_secrets() -> None:
    hs = bytes.fromhex(HANDSHAKE_SECRET)
    ctx = bytes.fromhex(HELLO_HASH)
    assert hkdf_expand_label(hs, "c hs traffic", ctx, 32).hex() == C_HS
    assert hkdf_expand_label(hs, "s hs traffic", ctx, 32).hex() == S_HS


def test_rfc8448_section3_application_traffic_secrets() -> None:
    master, ctx = bytes.fromhex(MASTER), bytes.fromhex(FIN_HASH)
    assert hkdf_expand_label(master, "c ap traffic", ctx, 32).hex() == C_AP
    assert hkdf_expand_label(master, "s ap traffic", ctx, 32).hex() == S_AP


def test_rfc8448_section3_write_keys() -> None:
    key, iv = traffic_keys(bytes.fromhex(S_HS), 0x1301)
    assert (key.hex(), iv.hex()) == ("3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30")
    key, iv = traffic_keys(bytes.fromhex(C_HS), 0x1301)
    assert (key.hex(), iv.hex()) == ("dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f")
    key, iv = traffic_keys(bytes.fromhex(S_AP), 0x1301)
    assert (key.hex(), iv.hex()) == ("9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984")
    key, _ = traffic_keys(bytes.fromhex(C_AP), 0x1301)
    assert key.hex() == "17422dda596ed5d9acd890e3c63f5051"


def test_key_update_follows_rfc8446_section_7_2() -> None:
    secret = bytes.fromhex(C_AP)
    expected = hmac.digest(
        secret, b"\x00\x20\x11tls13 traffic upd\x00\x01", hashlib.sha256
    )  # HKDF-Expand with one block: T(1) = HMAC(PRK, info | 0x01)
    assert next_traffic_secret(secret, 0x1301) == expected
    assert len(next_traffic_secret(b"s" * 48, 0x1302)) == 48


# -- a record builder (the inverse of decrypt_stream) ------------------------------------------


class Sealer:
    def __init__(self, secret: bytes, suite: int) -> None:
        key, self.iv = traffic_keys(secret, suite)
        self.aead = SUITES[suite].aead(key)
        self.seq = 0

    def seal(self, ctype: int, content: bytes, pad: int = 0) -> bytes:
        inner = content + bytes([ctype]) + b"\x00" * pad
        length = len(inner) + SUITES_TAG[self.suite_tag]
        header = b"\x17\x03\x03" + length.to_bytes(2, "big")
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big"), strict=True))
        self.seq += 1
        return header + self.aead.encrypt(nonce, inner, header)  # type: ignore[attr-defined]


SUITES_TAG = {code: s.tag_len for code, s in SUITES.items()}


def sealer(secret: bytes, suite: int) -> Sealer:
    s = Sealer(secret, suite)
    s.suite_tag = suite  # type: ignore[attr-defined]
    return s


def _secret(name: str, suite: int) -> bytes:
    size = 48 if SUITES[suite].hash_name == "sha384" else 32
    return hashlib.shake_256(name.encode()).digest(size)


FINISHED = handshake(20, b"\x00" * 32)
KEY_UPDATE = handshake(24, b"\x00")


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_suite_round_trips_with_key_update(suite: int) -> None:
    hs, app = _secret("hs", suite), _secret("app", suite)
    h, a = sealer(hs, suite), sealer(app, suite)
    data = record(22, handshake(1, b"hello")) + h.seal(22, FINISHED)
    data += a.seal(23, b"GET / HTTP/1.1\r\n", pad=7) + a.seal(22, KEY_UPDATE)
    a2 = sealer(next_traffic_secret(app, suite), suite)
    data += a2.seal(23, b"Host: x\r\n\r\n")
    recs, failed = decrypt_stream(data, Epochs(handshake=hs, application=app), suite)
    assert failed == 0
    assert [(r.content_type, r.epoch) for r in recs] == [
        (22, "handshake"),
        (23, "application"),
        (22, "application"),
        (23, "application+1"),
    ]
    assert b"".join(r.plaintext for r in recs if r.content_type == 23) == (
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    )


def test_early_data_then_end_of_early_data() -> None:
    suite = 0x1303
    early, hs, app = (_secret(n, suite) for n in ("early", "hs", "app"))
    e, h, a = sealer(early, suite), sealer(hs, suite), sealer(app, suite)
    data = record(22, handshake(1, b"hello")) + e.seal(23, b"GET /early HTTP/1.1\r\n\r\n")
    data += e.seal(22, handshake(5, b"")) + h.seal(22, FINISHED) + a.seal(23, b"GET /late")
    recs, failed = decrypt_stream(data, Epochs(early, hs, app), suite)
    assert failed == 0
    assert [r.epoch for r in recs] == ["early", "early", "handshake", "application"]


def test_rejected_early_data_and_missing_handshake_secret() -> None:
    """0-RTT the server rejected: no EndOfEarlyData, the client's Finished comes under the
    handshake key; with the handshake secret missing, application records still decrypt."""
    suite = 0x1301
    early, hs, app = (_secret(n, suite) for n in ("early", "hs", "app"))
    e, h, a = sealer(early, suite), sealer(hs, suite), sealer(app, suite)
    data = e.seal(23, b"GET /e") + h.seal(22, FINISHED) + a.seal(23, b"GET /a")
    recs, failed = decrypt_stream(data, Epochs(early, None, app), suite)
    assert failed == 1 and [r.plaintext for r in recs] == [b"GET /e", b"GET /a"]


def test_unknown_suite_is_a_parse_error() -> None:
    from inspector.errors import ParseError

    with pytest.raises(ParseError):
        traffic_keys(b"x" * 32, 0xC02F)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_never_raises(data: bytes) -> None:
    recs, failed = decrypt_stream(data, Epochs(handshake=b"h" * 32, application=b"a" * 32), 0x1301)
    assert failed >= 0 and all(r.plaintext is not None for r in recs)


# -- whole flows through the dissector ---------------------------------------------------------

RANDOM = bytes(range(32))
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def _keylog(suite: int, hs_c: bytes, hs_s: bytes, ap_c: bytes, ap_s: bytes) -> KeyLog:
    r = RANDOM.hex()
    return KeyLog(
        [
            f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {r} {hs_c.hex()}\n"
            f"SERVER_HANDSHAKE_TRAFFIC_SECRET {r} {hs_s.hex()}\n"
            f"CLIENT_TRAFFIC_SECRET_0 {r} {ap_c.hex()}\n"
            f"SERVER_TRAFFIC_SECRET_0 {r} {ap_s.hex()}\n"
        ]
    )


@pytest.mark.parametrize("hrr", [False, True])
def test_flow_with_hello_retry_request_decrypts_http(hrr: bool) -> None:
    suite = 0x1302
    hs_c, hs_s, ap_c, ap_s = (_secret(n, suite) for n in ("hc", "hs", "ac", "as"))
    sv = [versions_ext(0x0304)]
    ch = record(22, handshake(1, client_hello_body(sv, random=RANDOM)))
    sh_ext = [ext(43, b"\x03\x04")]
    sh = record(22, handshake(2, server_hello_body(suite, sh_ext)))
    client = ch
    server = b""
    if hrr:
        server += record(22, handshake(2, server_hello_body(suite, sh_ext, random=HRR_RANDOM)))
        client += record(20, b"\x01") + ch
    server += sh + sealer(hs_s, suite).seal(22, FINISHED)
    server += sealer(ap_s, suite).seal(23, b"HTTP/1.1 204 No Content\r\n\r\n")
    client += sealer(hs_c, suite).seal(22, FINISHED)
    body = b'{"email":"a@b.example"}'
    client += sealer(ap_c, suite).seal(
        23,
        b"POST /e HTTP/1.1\r\nHost: graph.example\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body,
    )
    view = tcp_view(stream(client, (60, 40)), stream(server, (80,), first_frame=10))
    rows = make_dissector(_keylog(suite, hs_c, hs_s, ap_c, ap_s))(view)
    http = [r for r in rows if isinstance(r, HttpRow)]
    assert len(http) == 1
    row = http[0]
    assert (row.method, row.host, row.uri, row.status, row.inside_tls) == (
        "POST",
        "graph.example",
        "/e",
        204,
        True,
    )
    seen = [r for r in rows if isinstance(r, RequestSeen)]
    assert seen and seen[0].request.body == body


def _flow(sizes: tuple[int, ...]) -> tuple[FlowView, KeyLog]:
    suite = 0x1301
    hs_c, hs_s, ap_c, ap_s = (_secret(n, suite) for n in ("hc", "hs", "ac", "as"))
    ch = record(22, handshake(1, client_hello_body([versions_ext(0x0304)], random=RANDOM)))
    sh = record(22, handshake(2, server_hello_body(suite, [ext(43, b"\x03\x04")])))
    client = ch + sealer(hs_c, suite).seal(22, FINISHED)
    a = sealer(ap_c, suite)
    client += a.seal(
        23, b"GET /a?idfa=5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921 HTTP/1.1\r\nHost: h\r\n"
    )
    client += a.seal(23, b"\r\n")
    server = sh + sealer(hs_s, suite).seal(22, FINISHED)
    server += sealer(ap_s, suite).seal(23, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    view = tcp_view(stream(client, sizes), stream(server, sizes, first_frame=50))
    return view, _keylog(suite, hs_c, hs_s, ap_c, ap_s)


def test_whole_and_segmented_streams_give_the_same_rows() -> None:
    whole, keylog = _flow(())
    split, _ = _flow((1,) * 400)
    strip = lambda rows: [  # noqa: E731
        (r.method, r.uri, r.status) if isinstance(r, HttpRow) else r.request.path
        for r in rows
        if not isinstance(r, DecryptedMark)
    ]
    a, b = make_dissector(keylog)(whole), make_dissector(keylog)(split)
    for rows in (a, b):  # the flow is marked as opened by a logged key
        assert [r.protocol for r in rows if isinstance(r, DecryptedMark)] == ["tls"]
    assert (
        strip(a)
        == strip(b)
        == [
            ("GET", "/a?idfa=5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921", 200),
            "/a?idfa=5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921",
        ]
    )


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_hostile_bytes_after_a_logged_handshake_never_raise(c: bytes, s: bytes) -> None:
    view, keylog = _flow(())
    hostile = tcp_view(
        stream(view.orig.data[:200] + c), stream(view.resp.data[:150] + s, first_frame=50)
    )
    for row in make_dissector(keylog)(hostile):
        assert row.TABLE in ("http", "weird", "_requests")


def test_has_keys_finds_the_flows_client_random_in_the_log() -> None:
    view, keylog = _flow(())
    assert has_keys(view, keylog)
    assert not has_keys(view, KeyLog([]))
    other = KeyLog(["CLIENT_TRAFFIC_SECRET_0 " + "11" * 32 + " " + "22" * 32])
    assert not has_keys(view, other)
    assert make_key_check(keylog)(lambda: view)
    built: list[int] = []
    assert not make_key_check(KeyLog([]))(lambda: built.append(1))  # type: ignore[arg-type,func-returns-value]
    assert built == []  # no view is built while the log is empty
