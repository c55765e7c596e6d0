"""DTLS over UDP: records, fragment reassembly, DTLS-SRTP and the ``dtls`` rows."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.buffer import Buffer
from inspector.dissect.dtls import (
    dissect,
    dtls_payload,
    parse_handshake_fragments,
    parse_records,
    pull_record,
)
from inspector.dissect.tls_ext import parse_client_hello
from inspector.errors import ParseError
from inspector.flows.view import FlowView, Stream
from inspector.schema.dtls import DtlsRow
from inspector.schema.weird import WeirdRow
from tests.dissect.tls_factory import (
    alpn_ext,
    certificate_body,
    client_hello_body,
    dtls_fragment,
    dtls_handshake,
    dtls_record,
    ext,
    groups_ext,
    make_cert,
    server_hello_body,
    sni_ext,
    tcp_view,
    u16,
    udp_view,
    use_srtp_ext,
    vec,
    versions_ext,
)

WEBRTC_DER, _ = make_cert("WebRTC", "ec")


def _ch(
    cookie: bytes = b"", profiles: tuple[int, ...] = (0x0007, 0x0001), extra: tuple[bytes, ...] = ()
) -> bytes:
    return client_hello_body(
        [groups_ext(0x1D, 0x17), use_srtp_ext(*profiles), alpn_ext(b"webrtc", b"c-webrtc"), *extra],
        ciphers=(0xC02B, 0xC02F, 0xCCA9),
        version=0xFEFD,
        cookie=cookie,
    )


def _sh(profile: int | None = 0x0007, version_ext: bytes | None = None) -> bytes:
    exts = [] if profile is None else [use_srtp_ext(profile)]
    if version_ext is not None:
        exts.append(version_ext)
    return server_hello_body(0xC02B, exts, version=0xFEFD)


def _rows(view: FlowView) -> tuple[list[DtlsRow], list[WeirdRow]]:
    rows = dissect(view)
    return [r for r in rows if isinstance(r, DtlsRow)], [r for r in rows if isinstance(r, WeirdRow)]


def _one(view: FlowView) -> DtlsRow:
    rows, weirds = _rows(view)
    assert len(rows) == 1 and not weirds, (rows, weirds)
    return rows[0]


def _full_handshake(ch: bytes, sh: bytes, cert: bytes = WEBRTC_DER) -> list[tuple[bool, bytes]]:
    flight = (
        dtls_record(22, dtls_handshake(2, sh, 0), seq=0)
        + dtls_record(22, dtls_handshake(11, certificate_body([cert]), 1), seq=1)
        + dtls_record(22, dtls_handshake(14, b"", 2), seq=2)
    )
    return [
        (True, dtls_record(22, dtls_handshake(1, ch, 0), version=0xFEFF)),
        (False, flight),
        (
            True,
            dtls_record(22, dtls_handshake(16, b"\x00" * 33, 1), seq=1)
            + dtls_record(20, b"\x01", seq=2)
            + dtls_record(22, b"\xaa" * 40, epoch=1),
        ),
        (False, dtls_record(20, b"\x01", seq=3) + dtls_record(22, b"\xbb" * 40, epoch=1)),
        (True, dtls_record(23, b"\xcc" * 60, epoch=1, seq=1)),
        (False, dtls_record(23, b"\xdd" * 60, epoch=1, seq=1)),
    ]


def test_dtls_client_hello_with_cookie() -> None:
    ch = parse_client_hello(_ch(cookie=b"\x01\x02\x03"), dtls=True)
    assert ch.cookie == b"\x01\x02\x03" and ch.legacy_version == 0xFEFD
    assert ch.use_srtp_profiles == (0x0007, 0x0001) and ch.alpn == ("webrtc", "c-webrtc")


def test_full_dtls_srtp_handshake() -> None:
    row = _one(udp_view(_full_handshake(_ch(), _sh())))
    assert row.client_is_orig is True and row.frame == 1
    assert row.version_offered == "DTLS 1.2" and row.version == "DTLS 1.2"
    assert row.cipher == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    assert row.srtp_profiles_offered == "SRTP_AEAD_AES_128_GCM;SRTP_AES128_CM_HMAC_SHA1_80"
    assert row.srtp_profile == "SRTP_AEAD_AES_128_GCM" and row.null_srtp is False
    assert row.alpn == "webrtc;c-webrtc"
    assert row.cert_subject == row.cert_issuer == "CN=WebRTC" and row.cert_self_signed is True
    assert row.cert_sha256 == hashlib.sha256(WEBRTC_DER).hexdigest()
    assert row.ja3.startswith("65277,49195-49199-52393,") and len(row.ja3_hash) == 32
    assert row.ja4.startswith("dd2i0303wc_")
    assert row.client_hello_complete and row.handshake_complete
    assert row.encrypted_records == 2 and row.hello_verify_request is False
    assert row.frames == "1;2;3"  # datagrams with cleartext (epoch 0) handshake records


def test_client_hello_in_three_fragments_out_of_order_with_duplicate() -> None:
    body = _ch(extra=(sni_ext("turn.example.com"),))
    n = len(body)
    a, b = n // 3, 2 * n // 3
    frag = [dtls_fragment(1, body, 0, o, ln) for o, ln in ((0, a), (a, b - a), (b, n - b))]
    datagrams = [
        (True, dtls_record(22, frag[2], seq=2)),
        (True, dtls_record(22, frag[0], seq=0)),
        (True, dtls_record(22, frag[2], seq=3)),  # retransmitted duplicate
        (True, dtls_record(22, frag[1], seq=1)),
    ]
    row = _one(udp_view(datagrams))
    assert row.client_hello_complete and row.sni == "turn.example.com"
    assert row.srtp_profiles_offered == "SRTP_AEAD_AES_128_GCM;SRTP_AES128_CM_HMAC_SHA1_80"
    assert row.frame == 1 and row.frames == "1;2;3;4"


def test_missing_fragment_gives_incomplete_row_and_weird() -> None:
    body = _ch(extra=(sni_ext("turn.example.com"),))
    view = udp_view([(True, dtls_record(22, dtls_fragment(1, body, 0, 0, 40)))])
    rows, weirds = _rows(view)
    assert len(rows) == 1 and rows[0].client_hello_complete is False and rows[0].ja4 == ""
    assert [w.name for w in weirds] == ["dtls_incomplete_client_hello"]


def test_null_srtp_profile_chosen() -> None:
    row = _one(udp_view(_full_handshake(_ch(profiles=(0x0001, 0x0005)), _sh(0x0005))))
    assert row.srtp_profile == "SRTP_NULL_HMAC_SHA1_80" and row.null_srtp is True
    assert row.srtp_profiles_offered == "SRTP_AES128_CM_HMAC_SHA1_80;SRTP_NULL_HMAC_SHA1_80"


def test_only_null_profiles_offered() -> None:
    view = udp_view([(True, dtls_record(22, dtls_handshake(1, _ch(profiles=(0x0006, 0x0005)), 0)))])
    row = _one(view)
    assert row.srtp_profile == "" and row.null_srtp is True
    assert row.srtp_profiles_offered == "SRTP_NULL_HMAC_SHA1_32;SRTP_NULL_HMAC_SHA1_80"


def test_hello_verify_request_then_second_client_hello_with_cookie() -> None:
    cookie = bytes(range(20))
    hvr = u16(0xFEFF) + vec(cookie, 1)
    datagrams = [
        (True, dtls_record(22, dtls_handshake(1, _ch(), 0), version=0xFEFF)),
        (False, dtls_record(22, dtls_handshake(3, hvr, 0), version=0xFEFF)),
        (True, dtls_record(22, dtls_handshake(1, _ch(cookie=cookie), 1), seq=1, version=0xFEFF)),
        (False, dtls_record(22, dtls_handshake(2, _sh(0x0001), 1), seq=1)),
    ]
    row = _one(udp_view(datagrams))
    assert row.hello_verify_request is True and row.client_hello_complete
    assert row.frame == 1 and row.srtp_profile == "SRTP_AES128_CM_HMAC_SHA1_80"
    assert row.handshake_complete is False and row.frames == "1;2;3;4"


def test_certificate_fragmented_over_datagrams() -> None:
    big_der, _ = make_cert("WebRTC", "rsa")
    cert = certificate_body([big_der])
    pieces = [(0, 300), (300, 300), (600, len(cert) - 600)]
    datagrams = [(True, dtls_record(22, dtls_handshake(1, _ch(), 0)))]
    datagrams += [(False, dtls_record(22, dtls_handshake(2, _sh(), 0)))]
    for i, (off, ln) in enumerate(reversed(pieces)):
        datagrams.append((False, dtls_record(22, dtls_fragment(11, cert, 1, off, ln), seq=i + 1)))
    row = _one(udp_view(datagrams))
    assert row.cert_subject == "CN=WebRTC" and row.cert_self_signed is True
    assert row.cert_sha256 == hashlib.sha256(big_der).hexdigest()


def test_dtls13_handshake_counts_unified_header_records() -> None:
    ch = client_hello_body(
        [versions_ext(0xFEFC, 0xFEFD), groups_ext(0x1D)],
        ciphers=(0x1301,),
        version=0xFEFD,
        cookie=b"",
    )
    sh = server_hello_body(0x1301, [ext(0x002B, u16(0xFEFC))], version=0xFEFD)
    unified = bytes([0x2C]) + u16(7) + vec(b"\x55" * 30, 2)  # 001 0 1 1 00: 16-bit seq, length
    datagrams = [
        (True, dtls_record(22, dtls_handshake(1, ch, 0))),
        (False, dtls_record(22, dtls_handshake(2, sh, 0)) + unified + unified),
        (True, unified),
        (True, bytes([0x21, 0x09]) + b"\x66" * 20),  # 8-bit seq, no length: fills datagram
    ]
    row = _one(udp_view(datagrams))
    assert row.version_offered == "DTLS 1.3;DTLS 1.2" and row.version == "DTLS 1.3"
    assert row.cipher == "TLS_AES_128_GCM_SHA256" and row.ja4.startswith("dd3i0102")
    assert row.encrypted_records == 4 and row.handshake_complete is True


def test_dtls_inside_turn_channel_data() -> None:
    inner = dtls_record(22, dtls_handshake(1, _ch(), 0))
    wrapped = u16(0x4001) + u16(len(inner)) + inner + b"\x00" * ((4 - len(inner) % 4) % 4)
    assert dtls_payload(wrapped) == inner
    row = _one(udp_view([(True, wrapped)]))
    assert row.client_hello_complete and row.alpn == "webrtc;c-webrtc"


def test_several_records_in_one_datagram() -> None:
    data = dtls_record(22, dtls_handshake(1, _ch(), 0)) + dtls_record(23, b"\x01" * 10, epoch=1)
    records = parse_records(data)
    assert [r.content_type for r in records] == [22, 23]
    assert parse_handshake_fragments(records[0].fragment)[0].msg_type == 1


def test_mid_session_flow_gives_a_record_count_row() -> None:
    row = _one(
        udp_view(
            [
                (True, dtls_record(23, b"\x01" * 50, epoch=1)),
                (False, dtls_record(23, b"\x02" * 50, epoch=1)),
            ]
        )
    )
    assert row.client_is_orig is None and row.encrypted_records == 2 and row.version == ""


def test_new_client_random_starts_a_second_handshake() -> None:
    first = client_hello_body([use_srtp_ext(1)], version=0xFEFD, cookie=b"", random=b"\x01" * 32)
    second = client_hello_body([use_srtp_ext(5)], version=0xFEFD, cookie=b"", random=b"\x02" * 32)
    rows, _ = _rows(
        udp_view(
            [
                (True, dtls_record(22, dtls_handshake(1, first, 0))),
                (True, dtls_record(22, dtls_handshake(1, second, 0))),
            ]
        )
    )
    assert [r.srtp_profiles_offered for r in rows] == [
        "SRTP_AES128_CM_HMAC_SHA1_80",
        "SRTP_NULL_HMAC_SHA1_80",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x60\x00\x01" + b"\x00" * 20,
        b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\x00" * 12,
        b"",
        b"\x17",
    ],
)
def test_not_dtls(payload: bytes) -> None:
    assert dissect(udp_view([(True, payload)])) == []


def test_bad_records_are_weird() -> None:
    with pytest.raises(ParseError):
        parse_records(b"\x16\xfe\xfd\x00")
    with pytest.raises(ParseError):
        parse_records(dtls_record(22, b"") + b"\x1b\xfe\xfd")
    with pytest.raises(ParseError):
        parse_handshake_fragments(b"\x01\x00\x00\x05\x00\x00\x00\x00\x04\x00\x00\x02ab")
    good = dtls_record(22, dtls_handshake(1, _ch(), 0))
    rows, weirds = _rows(udp_view([(True, good + b"\x16\xfe\xfd\x00\x00")]))
    assert len(rows) == 1 and weirds[0].name == "dtls_truncated"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_into_record_parsers(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_records(data)
    with contextlib.suppress(ParseError):
        parse_handshake_fragments(data)
    with contextlib.suppress(ParseError):
        pull_record(Buffer(data))


def _datagram() -> st.SearchStrategy[tuple[bool, bytes]]:
    header = st.sampled_from(
        [
            b"",
            b"\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\x17\xfe\xff",
            b"\x2c",
            b"\x40\x01\x00\x20\x16\xfe\xfd",
        ]
    )
    return st.tuples(st.booleans(), st.builds(lambda h, b: h + b, header, st.binary(max_size=120)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_datagram(), max_size=8))
def test_dissect_never_raises(datagrams: list[tuple[bool, bytes]]) -> None:
    rows = dissect(udp_view(datagrams))
    assert all(isinstance(r, DtlsRow | WeirdRow) for r in rows)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.integers(0, 255), st.integers(0, 5))
def test_dissect_on_mutated_handshakes(pos: int, value: int, which: int) -> None:
    datagrams = _full_handshake(_ch(), _sh())
    from_orig, payload = datagrams[which]
    mutated = bytearray(payload)
    mutated[pos % len(mutated)] = value
    datagrams[which] = (from_orig, bytes(mutated))
    rows = dissect(udp_view(datagrams))
    assert all(isinstance(r, DtlsRow | WeirdRow) for r in rows)


# --- DTLS relayed by TURN (RFC 8656) and use_srtp ------------------------------------------


def _stun_indication(method_type: int, data: bytes) -> bytes:
    """A Send (0x0016) or Data (0x0017) indication with one DATA attribute (RFC 8656 11)."""
    attr = u16(0x0013) + u16(len(data)) + data + b"\x00" * (-len(data) % 4)
    return u16(method_type) + u16(len(attr)) + b"\x21\x12\xa4\x42" + bytes(12) + attr


def _channel(data: bytes, pad: bool) -> bytes:
    """ChannelData (RFC 8656 12.4); over TCP padded to a multiple of 4 (12.5)."""
    return u16(0x4001) + u16(len(data)) + data + (b"\x00" * (-len(data) % 4) if pad else b"")


def _tcp_stream(data: bytes, seg: int, first_frame: int = 1) -> Stream:
    """``data`` as TCP segments of ``seg`` bytes, one frame each."""
    segs = tuple(
        (off, first_frame + i, 100.0 + i) for i, off in enumerate(range(0, len(data), seg))
    )
    return Stream(data, segs)


def test_dtls_inside_udp_send_and_data_indications() -> None:
    hs = _full_handshake(_ch(), _sh())
    wrapped = [(o, _stun_indication(0x0016 if o else 0x0017, p)) for o, p in hs]
    row = _one(udp_view(wrapped))
    assert row.carried_in == "stun_data" and row.use_srtp == "selected"
    assert row.srtp_profile == "SRTP_AEAD_AES_128_GCM" and row.handshake_complete


@pytest.mark.parametrize("framing", ["channel", "indication"])
def test_dtls_inside_turn_over_tcp_whole_and_byte_by_byte(framing: str) -> None:
    hs = _full_handshake(_ch(), _sh())

    def wrap(p: bytes, orig: bool) -> bytes:
        if framing == "channel":
            return _channel(p, pad=True)
        return _stun_indication(0x0016 if orig else 0x0017, p)

    allocate = u16(0x0003) + u16(0) + b"\x21\x12\xa4\x42" + bytes(12)  # ChannelData follows STUN
    o = allocate + b"".join(wrap(p, True) for orig, p in hs if orig)
    r = allocate.replace(b"\x00\x03", b"\x01\x03", 1) + b"".join(
        wrap(p, False) for orig, p in hs if not orig
    )
    results = []
    for seg in (len(o) + len(r), 1):
        view = tcp_view(_tcp_stream(o, seg), _tcp_stream(r, seg, 5000))
        row = _one(view)
        results.append(dataclasses.replace(row, frame=0, frames="", ts=0.0))
        want = "tcp_turn_channel" if framing == "channel" else "tcp_stun_data"
        assert row.carried_in == want and row.use_srtp == "selected"
        assert row.client_hello_complete and row.cert_subject == "CN=WebRTC"
    assert results[0] == results[1]


def test_use_srtp_absent_declined_and_offered() -> None:
    no_srtp = client_hello_body([groups_ext(0x1D)], ciphers=(0xC02B,), version=0xFEFD, cookie=b"")
    assert _one(udp_view(_full_handshake(no_srtp, _sh(None)))).use_srtp == "absent"
    assert _one(udp_view(_full_handshake(_ch(), _sh(None)))).use_srtp == "declined"
    only_ch = [(True, dtls_record(22, dtls_handshake(1, _ch(), 0)))]
    assert _one(udp_view(only_ch)).use_srtp == "offered"
    assert _one(udp_view(only_ch)).carried_in == "plain"


def test_dtls_inside_ms_turn_framing() -> None:
    inner = dtls_record(22, dtls_handshake(1, _ch(), 0))
    framed = b"\xff\x10" + u16(8 + len(inner)) + bytes(8) + inner  # nDPI stun.c: len + 4
    row = _one(udp_view([(True, framed)]))
    assert row.carried_in == "ms_turn" and row.client_hello_complete


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=8), st.booleans())
def test_dissect_never_raises_on_turn_over_tcp(pieces: list[bytes], indication: bool) -> None:
    alloc = u16(0x0003) + u16(0) + b"\x21\x12\xa4\x42" + bytes(12)
    body = b"".join(
        _stun_indication(0x0016, p) if indication else _channel(p, pad=True) for p in pieces
    )
    rows = dissect(tcp_view(_tcp_stream(alloc + body, 7), _tcp_stream(alloc, 3, 900)))
    assert all(isinstance(r, DtlsRow | WeirdRow) for r in rows)
