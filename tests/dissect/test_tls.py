"""TLS over TCP: ClientHello/ServerHello parsing, record walking and the ``tls`` rows."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import tls
from inspector.dissect.tls import dissect, parse_client_hello, parse_server_hello, walk_records
from inspector.dissect.tls_ext import parse_client_hello_prefix, parse_sslv2_client_hello
from inspector.errors import ParseError
from inspector.flows.view import FlowView, Stream
from inspector.schema.tls import TlsRow
from inspector.schema.weird import WeirdRow
from tests.dissect.tls_factory import (
    HRR_RANDOM,
    RFC8448_CLIENT_HELLO,
    RFC8448_SERVER_HELLO,
    alpn_ext,
    certificate_body,
    client_hello_body,
    ech_outer_ext,
    ext,
    groups_ext,
    handshake,
    key_share_ext,
    make_cert,
    point_formats_ext,
    record,
    server_hello_body,
    sni_ext,
    stream,
    tcp_view,
    u16,
    use_srtp_ext,
    versions_ext,
)


def _tls_rows(rows: list) -> list[TlsRow]:
    return [r for r in rows if isinstance(r, TlsRow)]


def _weirds(rows: list) -> list[WeirdRow]:
    return [r for r in rows if isinstance(r, WeirdRow)]


def _one(rows: list) -> TlsRow:
    found = _tls_rows(rows)
    assert len(found) == 1, rows
    return found[0]


def _rfc8448_flow(sizes: tuple[int, ...] = ()) -> FlowView:
    client = record(22, RFC8448_CLIENT_HELLO) + record(20, b"\x01") + record(23, b"\x99" * 40)
    server = record(22, RFC8448_SERVER_HELLO, 0x0303) + record(20, b"\x01", 0x0303)
    server += record(23, b"\x77" * 300, 0x0303)
    return tcp_view(stream(client, sizes, first_frame=4), stream(server, first_frame=5))


# ---------------------------------------------------------------- RFC 8448 section 3 vectors
def test_rfc8448_client_hello_fields() -> None:
    """RFC 8448 section 3, "{client} construct a ClientHello handshake message"."""
    ch = parse_client_hello(RFC8448_CLIENT_HELLO[4:])
    assert ch.legacy_version == 0x0303
    assert ch.random.hex() == "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
    assert ch.session_id == b""
    assert ch.cipher_suites == (0x1301, 0x1303, 0x1302)
    assert ch.compression_methods == b"\x00"
    assert ch.extension_types == (
        0x0000,
        0xFF01,
        0x000A,
        0x0023,
        0x0033,
        0x002B,
        0x000D,
        0x002D,
        0x001C,
    )
    assert ch.sni == "server"
    assert ch.supported_versions == (0x0304,)
    assert ch.supported_groups == (
        0x001D,
        0x0017,
        0x0018,
        0x0019,
        0x0100,
        0x0101,
        0x0102,
        0x0103,
        0x0104,
    )
    assert ch.key_share_groups == (0x001D,)
    assert ch.signature_algorithms[:4] == (0x0403, 0x0503, 0x0603, 0x0203)
    assert len(ch.signature_algorithms) == 15
    assert ch.alpn == () and ch.ec_point_formats == () and ch.use_srtp_profiles == ()
    assert ch.ech == "none" and ch.post_quantum is False and ch.complete


def test_rfc8448_server_hello_fields() -> None:
    """RFC 8448 section 3, "{server} construct a ServerHello handshake message"."""
    sh = parse_server_hello(RFC8448_SERVER_HELLO[4:])
    assert sh.legacy_version == 0x0303 and sh.version == 0x0304
    assert sh.cipher_suite == 0x1301
    assert sh.selected_group == 0x001D
    assert sh.extension_types == (0x0033, 0x002B)
    assert not sh.hello_retry_request


def test_rfc8448_flow_row() -> None:
    rows = dissect(_rfc8448_flow())
    row = _one(rows)
    assert not _weirds(rows)
    assert row.uid == "CTLS1" and row.frame == 4 and row.client_is_orig is True
    assert row.sni == "server"
    assert row.versions_offered == "TLS 1.3"
    assert row.version == "TLS 1.3"
    assert row.cipher == "TLS_AES_128_GCM_SHA256"
    assert row.cipher_suites_offered == 3
    assert (
        row.groups
        == "x25519;secp256r1;secp384r1;secp521r1;ffdhe2048;ffdhe3072;ffdhe4096;ffdhe6144;ffdhe8192"
    )
    assert row.key_share_groups == "x25519"
    assert row.client_hello_complete is True and row.server_hello_seen is True
    assert row.ja3.startswith("771,4865-4867-4866,0-65281-10-35-51-43-13-45-28,")
    assert row.ja4.startswith("t13d030900_")
    assert row.cert_chain_len is None and row.cert_self_signed is None
    assert row.weak == ""
    assert row.frames == "4;5"


def test_hello_retry_request_detected_and_real_server_hello_used() -> None:
    ch1 = client_hello_body([sni_ext("a.example"), versions_ext(0x0304), key_share_ext((0x1D, 32))])
    ch2 = client_hello_body([sni_ext("a.example"), versions_ext(0x0304), key_share_ext((0x17, 65))])
    hrr = server_hello_body(
        0x1302, [versions_ext_server(0x0304), ext(0x0033, u16(0x0017))], random=HRR_RANDOM
    )
    sh = server_hello_body(
        0x1302, [versions_ext_server(0x0304), ext(0x0033, u16(0x17) + u16(1) + b"\x04")]
    )
    client = record(22, handshake(1, ch1)) + record(20, b"\x01") + record(22, handshake(1, ch2))
    server = record(22, handshake(2, hrr)) + record(20, b"\x01") + record(22, handshake(2, sh))
    server += record(23, b"\x00" * 50)
    parsed = parse_server_hello(hrr)
    assert parsed.hello_retry_request and parsed.selected_group == 0x0017
    row = _one(dissect(tcp_view(stream(client), stream(server, first_frame=9))))
    assert row.version == "TLS 1.3" and row.cipher == "TLS_AES_256_GCM_SHA384"
    assert row.sni == "a.example" and row.key_share_groups == "x25519"


def versions_ext_server(version: int) -> bytes:
    return ext(0x002B, u16(version))


# ---------------------------------------------------------------- reassembly hard cases
def test_client_hello_split_across_two_records() -> None:
    msg = RFC8448_CLIENT_HELLO
    client = record(22, msg[:50]) + record(22, msg[50:]) + record(20, b"\x01")
    rows = dissect(tcp_view(stream(client, (30,))))
    row = _one(rows)
    assert row.sni == "server" and row.client_hello_complete
    assert row.frames == "1;2"


def test_first_segment_holds_only_the_record_header() -> None:
    data = record(22, RFC8448_CLIENT_HELLO)
    row = _one(dissect(tcp_view(stream(data, (5,), first_frame=7))))
    assert row.sni == "server" and row.client_hello_complete
    assert row.frame == 7 and row.frames == "7;8"


def test_one_byte_segments_give_the_same_row_as_the_whole_stream() -> None:
    whole = dissect(_rfc8448_flow())
    data = _rfc8448_flow().orig.data
    bytewise = tcp_view(stream(data, (1,) * len(data), first_frame=4), _rfc8448_flow().resp)
    tiny = dissect(bytewise)
    assert len(tiny) == len(whole) == 1
    a, b = dataclasses.asdict(whole[0]), dataclasses.asdict(tiny[0])
    assert a.pop("frames") != b.pop("frames")
    assert a == b


def test_every_split_of_the_client_hello_gives_the_same_row() -> None:
    data = _rfc8448_flow().orig.data
    reference = dataclasses.replace(_one(dissect(_rfc8448_flow())), frames="", ts=0.0)
    for cut in range(1, 210, 7):
        view = tcp_view(stream(data, (cut,), first_frame=4), _rfc8448_flow().resp)
        row = dataclasses.replace(_one(dissect(view)), frames="", ts=0.0)
        assert row == reference, cut


def test_truncated_client_hello_gives_incomplete_row_and_weird() -> None:
    data = record(22, RFC8448_CLIENT_HELLO)[:120]
    rows = dissect(tcp_view(stream(data, gap=True)))
    row = _one(rows)
    assert row.client_hello_complete is False
    assert row.sni == "server"  # the server_name extension was fully present
    assert row.ja3 == row.ja4 == "" and row.versions_offered == ""
    (w,) = _weirds(rows)
    assert w.name == "tls_incomplete_client_hello" and "capture gap" in w.detail


def test_sni_never_guessed_from_a_cut_extension() -> None:
    body = client_hello_body([sni_ext("verylongname.example.com")])
    msg = handshake(1, body)
    cut = msg.index(b"verylong") + 6
    rows = dissect(tcp_view(stream(record(22, msg)[: cut + 5])))
    row = _one(rows)
    assert row.sni == "" and row.client_hello_complete is False
    assert [w.name for w in _weirds(rows)] == ["tls_incomplete_client_hello"]


def test_stream_cut_after_the_handshake_type_byte() -> None:
    rows = dissect(tcp_view(stream(b"\x16\x03\x01\x02\x00\x01")))
    row = _one(rows)
    assert row.client_hello_complete is False and row.sni == ""
    (w,) = _weirds(rows)
    assert w.name == "tls_incomplete_client_hello" and "cut header" in w.detail
    # a lone record header says nothing about which message it would have carried
    assert dissect(tcp_view(stream(b"\x16\x03\x01\x02\x00"))) == []


def test_client_hello_sent_by_the_responder() -> None:
    view = _rfc8448_flow()
    swapped = dataclasses.replace(view, orig=view.resp, resp=view.orig)
    row = _one(dissect(swapped))
    assert row.client_is_orig is False and row.sni == "server" and row.version == "TLS 1.3"


def test_not_tls_returns_nothing() -> None:
    http = stream(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert dissect(tcp_view(http)) == []
    assert dissect(dataclasses.replace(tcp_view(http), proto="udp")) == []
    assert dissect(tcp_view(stream(b""))) == []


# ---------------------------------------------------------------- extensions of interest
def test_post_quantum_key_share() -> None:
    body = client_hello_body(
        [
            sni_ext("pq.example"),
            groups_ext(0x3A3A, 0x11EC, 0x1D),
            key_share_ext((0x3A3A, 1), (0x11EC, 1216), (0x1D, 32)),
            versions_ext(0x0304),
        ]
    )
    ch = parse_client_hello(body)
    assert ch.post_quantum is True and ch.key_share_groups == (0x3A3A, 0x11EC, 0x1D)
    row = _one(dissect(tcp_view(stream(record(22, handshake(1, body))))))
    assert row.post_quantum is True
    assert row.key_share_groups == "X25519MLKEM768;x25519"
    assert row.groups == "X25519MLKEM768;x25519"  # GREASE left out


@pytest.mark.parametrize("group", [0x6399, 0x11EB, 0x11ED, 0x0201])
def test_other_post_quantum_groups(group: int) -> None:
    assert parse_client_hello(client_hello_body([groups_ext(group, 0x1D)])).post_quantum


def test_ech_real_vs_grease_vs_esni() -> None:
    real = parse_client_hello(client_hello_body([sni_ext("cloudflare-ech.com"), ech_outer_ext()]))
    grease = parse_client_hello(client_hello_body([sni_ext("www.example.org"), ech_outer_ext()]))
    esni = parse_client_hello(client_hello_body([sni_ext("a.example"), ext(0xFFCE, b"\x00" * 40)]))
    inner = parse_client_hello(client_hello_body([ext(0xFE0D, b"\x01")]))
    assert (real.ech, grease.ech, esni.ech, inner.ech) == ("real", "grease", "esni", "real")
    assert real.sni == "cloudflare-ech.com"
    row = _one(
        dissect(
            tcp_view(
                stream(
                    record(
                        22, handshake(1, client_hello_body([sni_ext("x.test"), ech_outer_ext()]))
                    )
                )
            )
        )
    )
    assert row.ech == "grease"


def test_alpn_use_srtp_and_quic_transport_parameters() -> None:
    body = client_hello_body(
        [
            alpn_ext(b"h3", b"h3-29"),
            use_srtp_ext(0x0007, 0x0001, mki=b"\x05"),
            ext(0x0039, b"\x01\x02\x03"),
            point_formats_ext(0, 1, 2),
        ]
    )
    ch = parse_client_hello(body)
    assert ch.alpn == ("h3", "h3-29") and ch.alpn_raw == (b"h3", b"h3-29")
    assert ch.use_srtp_profiles == (0x0007, 0x0001)
    assert ch.ec_point_formats == (0, 1, 2)
    assert ch.has_extension(0x0039)


def test_non_utf8_sni_is_kept_escaped() -> None:
    body = client_hello_body([ext(0x0000, b"\x00\x06\x00\x00\x03a\xffb")])
    assert parse_client_hello(body).sni == "a\\xffb"


def test_hello_without_extensions_and_malformed_extensions() -> None:
    ch = parse_client_hello(client_hello_body(no_extensions=True))
    assert ch.extensions == () and ch.complete
    with pytest.raises(ParseError) as err:
        parse_client_hello(client_hello_body([ext(0x0000, b"\x00\x09\x00\x00")]))
    assert err.value.name == "bad_extension"
    lenient = parse_client_hello_prefix(
        client_hello_body([ext(0x0000, b"\x00\x09"), alpn_ext(b"h2")])
    )
    assert lenient.sni == "" and lenient.alpn == ("h2",)


def test_sslv2_client_hello() -> None:
    specs = bytes.fromhex("01008000000500000a00002f")
    challenge = bytes(range(16))
    body = (
        b"\x01" + u16(0x0301) + u16(len(specs)) + u16(0) + u16(len(challenge)) + specs + challenge
    )
    rec = u16(0x8000 | len(body)) + body
    ch = parse_sslv2_client_hello(rec)
    assert ch.legacy_version == 0x0301 and ch.cipher_suites == (0x0005, 0x000A, 0x002F)
    assert ch.random == challenge and ch.extensions == ()
    server = record(22, handshake(2, server_hello_body(0x0005, version=0x0301)), 0x0301)
    row = _one(dissect(tcp_view(stream(rec), stream(server, first_frame=3))))
    assert row.client_hello_complete and row.versions_offered == "TLS 1.0"
    assert row.cipher == "TLS_RSA_WITH_RC4_128_SHA" and row.ja3 == ""
    assert row.weak == "TLS<=1.1;RC4;static-RSA"


# ---------------------------------------------------------------- TLS 1.2 with certificates
def test_tls12_handshake_with_certificate_chain() -> None:
    ca_der, ca_key = make_cert("Test CA", "rsa")
    leaf_der, _ = make_cert(
        "www.example.com",
        "ec",
        issuer_cn="Test CA",
        issuer_key=ca_key,
        sans=("www.example.com", "192.0.2.7"),
    )
    ch = client_hello_body(
        [sni_ext("www.example.com"), groups_ext(0x1D, 0x17), point_formats_ext(0)],
        ciphers=(0xC02F, 0xC013, 0x002F),
    )
    sh = server_hello_body(0xC02F, [ext(0xFF01, b"\x00")])
    flight = (
        handshake(2, sh) + handshake(11, certificate_body([leaf_der, ca_der])) + handshake(14, b"")
    )
    server = record(22, flight[:700], 0x0303) + record(22, flight[700:], 0x0303)
    server += record(20, b"\x01", 0x0303) + record(22, b"\xde\xad" * 20, 0x0303)
    client = record(22, handshake(1, ch)) + record(22, handshake(16, b"\x00" * 33), 0x0303)
    client += record(20, b"\x01", 0x0303) + record(22, b"\xbe\xef" * 20, 0x0303)
    rows = dissect(tcp_view(stream(client), stream(server, (600,), first_frame=2)))
    row = _one(rows)
    assert not _weirds(rows)
    assert row.version == "TLS 1.2" and row.cipher == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert row.cert_subject == "CN=www.example.com" and row.cert_issuer == "CN=Test CA"
    assert row.cert_sans == "www.example.com;192.0.2.7"
    assert row.cert_self_signed is False and row.cert_key == "EC secp256r1"
    assert row.cert_sig_alg == "sha256WithRSAEncryption"
    assert row.cert_not_before == "2024-01-01T00:00:00Z"
    assert row.cert_chain_len == 2 and len(row.cert_sha256) == 64
    assert row.weak == ""
    assert row.frames == "1;2;3"


def test_weak_negotiated_parameters() -> None:
    ch = client_hello_body([sni_ext("old.example")], ciphers=(0x000A, 0x002F), version=0x0301)
    sh = server_hello_body(0x000A, version=0x0301)
    row = _one(
        dissect(
            tcp_view(
                stream(record(22, handshake(1, ch))),
                stream(record(22, handshake(2, sh)), first_frame=2),
            )
        )
    )
    assert row.version == "TLS 1.0" and row.cipher == "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
    assert row.weak == "TLS<=1.1;3DES;static-RSA;CBC-SHA1"


def test_weak_from_offer_only_when_nothing_better_was_offered() -> None:
    only_rc4 = client_hello_body(ciphers=(0x0005, 0x0004, 0x00FF), version=0x0302)
    mixed = client_hello_body(ciphers=(0x0005, 0x1301), version=0x0303)
    assert tls.weak_reasons(parse_client_hello(only_rc4), None) == ("TLS<=1.1", "RC4", "static-RSA")
    assert tls.weak_reasons(parse_client_hello(mixed), None) == ()


def test_records_after_change_cipher_spec_are_not_parsed() -> None:
    data = (
        record(22, RFC8448_CLIENT_HELLO)
        + record(20, b"\x01")
        + record(22, handshake(2, b"\x00" * 10))
    )
    walk = walk_records(data)
    assert [m.msg_type for m in walk.messages] == [1] and walk.stop == "ccs"
    assert [m.msg_type for m in walk_records(data, through_ccs=True).messages] == [1, 2]


def test_bad_record_stops_the_walk() -> None:
    walk = walk_records(record(22, RFC8448_CLIENT_HELLO) + b"\x99\x03\x03\x00\x01\x00")
    assert walk.stop == "bad_record" and len(walk.messages) == 1


# ---------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_into_hello_parsers(data: bytes, dtls: bool) -> None:
    for parser in (parse_client_hello, parse_client_hello_prefix, parse_server_hello):
        with contextlib.suppress(ParseError):
            parser(data, dtls)
    with contextlib.suppress(ParseError):
        parse_sslv2_client_hello(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(RFC8448_CLIENT_HELLO) - 5), st.integers(0, 255))
def test_mutated_client_hello_gives_value_or_parse_error(pos: int, value: int) -> None:
    body = bytearray(RFC8448_CLIENT_HELLO[4:])
    body[pos % len(body)] = value
    for parser in (parse_client_hello, parse_client_hello_prefix):
        with contextlib.suppress(ParseError):
            parser(bytes(body))


def _views() -> st.SearchStrategy[FlowView]:
    prefix = st.sampled_from(
        [b"", b"\x16\x03\x01", b"\x16\x03\x03\x00\x30\x01", b"\x80\x2e\x01\x03\x01"]
    )
    body = st.binary(max_size=300)
    data = st.builds(lambda p, b: p + b, prefix, body)
    sizes = st.lists(st.integers(1, 40), max_size=5)
    streams = st.builds(lambda d, s, g: stream(d, s, gap=g), data, sizes, st.booleans())
    return st.builds(tcp_view, streams, streams)


@settings(max_examples=300, deadline=None)
@given(_views())
def test_dissect_never_raises(view: FlowView) -> None:
    rows = dissect(view)
    assert all(isinstance(r, TlsRow | WeirdRow) for r in rows)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.binary(max_size=20))
def test_dissect_on_cut_and_extended_real_flows(cut: int, tail: bytes) -> None:
    view = _rfc8448_flow()
    data = view.orig.data[:cut] + tail
    rows = dissect(tcp_view(Stream(data, ((0, 1, 1.0),)), view.resp))
    assert all(isinstance(r, TlsRow | WeirdRow) for r in rows)
