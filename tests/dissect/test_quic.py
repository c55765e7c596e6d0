"""The QUIC dissector on synthetic flows built with a test-side Initial encryptor."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import quic
from inspector.dissect.quic import analyze_datagrams, client_crypto_stream, looks_like_quic
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.schema.quic import QuicRow
from inspector.schema.weird import WeirdRow
from tests.dissect.quic_build import (
    V1,
    V2,
    ack_frame,
    chlo,
    client_hello,
    crypto_frame,
    flow,
    gquic_public_packet,
    gquic_stream_frame,
    protect_long,
    retry_packet,
    server_hello,
    varint,
)

ODCID = bytes.fromhex("0001020304050607")
CSCID = bytes.fromhex("c1c2c3c4")
SCID = bytes.fromhex("5e5e5e5e5e5e5e5e")
Q050 = int.from_bytes(b"Q050", "big")
T051 = int.from_bytes(b"T051", "big")


def pad(payload: bytes, size: int = 1150) -> bytes:
    return payload + bytes(max(0, size - len(payload)))


def client_initial(
    payload: bytes,
    pn: int,
    dcid: bytes = ODCID,
    key_dcid: bytes = ODCID,
    version: int = V1,
    token: bytes = b"",
) -> bytes:
    return protect_long(
        pad(payload), version=version, key_dcid=key_dcid, dcid=dcid, scid=CSCID, pn=pn, token=token
    )


def server_initial(
    payload: bytes, pn: int = 0, key_dcid: bytes = ODCID, version: int = V1
) -> bytes:
    return protect_long(
        payload, version=version, key_dcid=key_dcid, dcid=CSCID, scid=SCID, pn=pn, server=True
    )


def handshake_packet() -> bytes:
    return protect_long(
        b"\x01" * 60, key_dcid=b"whatever", dcid=CSCID, scid=SCID, kind="handshake", server=True
    )


def rows_of(view: FlowView) -> tuple[list[QuicRow], list[WeirdRow]]:
    rows = quic.dissect(view)
    assert all(isinstance(r, QuicRow | WeirdRow) for r in rows)
    return (
        [r for r in rows if isinstance(r, QuicRow)],
        [r for r in rows if isinstance(r, WeirdRow)],
    )


def test_single_initial_client_hello() -> None:
    hello = client_hello("meet.example.com", ("h3", "h3-29"))
    (row,), weirds = rows_of(flow([(True, client_initial(crypto_frame(0, hello), 0))]))
    assert weirds == []
    assert row.sni == "meet.example.com" and row.alpn == "h3;h3-29"
    assert row.version == "1" and not row.gquic and row.client_is_orig
    assert row.dcid == ODCID.hex() and row.scid == CSCID.hex()
    assert row.client_hello_complete and row.ja4.startswith("q13d")
    assert row.post_quantum is False and row.ech == "none"
    assert (row.initial_packets, row.crypto_fragments, row.client_hello_packets) == (1, 1, 1)
    assert row.frames == "1" and row.frame == 1 and row.decrypt_failures == 0
    assert not row.retry and not row.server_hello_seen and row.cipher == ""


def test_post_quantum_hello_over_two_initials_out_of_order_overlapping() -> None:
    """A 1.6 KB ClientHello: two Initials, CRYPTO frames out of order with overlaps, PING and
    PADDING between them; the second Initial uses the server's CID but the first DCID's keys."""
    hello = client_hello("pq.example.net", pq=True, padding=300)
    assert len(hello) > 1600
    first = crypto_frame(700, hello[700:1000]) + b"\x01" + crypto_frame(0, hello[:800])
    second = crypto_frame(1400, hello[1400:]) + b"\x00\x00\x01" + crypto_frame(950, hello[950:1450])
    view = flow(
        [
            (True, client_initial(first, 0)),
            (
                False,
                server_initial(ack_frame(0) + crypto_frame(0, server_hello(0x1302, 0x11EC)))
                + handshake_packet(),
            ),
            (True, client_initial(second, 1, dcid=SCID)),
        ]
    )
    (row,), weirds = rows_of(view)
    assert weirds == []
    assert row.sni == "pq.example.net" and row.post_quantum is True
    assert row.client_hello_complete and row.ja4
    assert (row.initial_packets, row.crypto_fragments, row.client_hello_packets) == (2, 4, 2)
    assert row.frames == "1;3"
    assert row.server_hello_seen and row.cipher == "TLS_AES_256_GCM_SHA384"
    assert row.group == "X25519MLKEM768"


def test_crypto_stream_function_and_order_independence() -> None:
    hello = client_hello("order.example", pq=True)
    pieces = [(0, hello[:600]), (600, hello[600:1100]), (1100, hello[1100:])]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        payloads = [crypto_frame(*pieces[i]) for i in order]
        view = flow([(True, client_initial(p, n)) for n, p in enumerate(payloads)])
        res = client_crypto_stream(view.datagrams)
        assert res is not None and res.client_stream == hello
        assert res.initial_packets == 3 and res.decrypted_packets == 3


def test_incomplete_hello_keeps_early_fields() -> None:
    hello = client_hello("half.example", pq=True)
    (row,), _ = rows_of(flow([(True, client_initial(crypto_frame(0, hello[:1000]), 0))]))
    assert not row.client_hello_complete and row.ja4 == ""
    assert row.sni == "half.example" and row.client_hello_packets == 1


def test_retry_then_initials_under_the_new_dcid() -> None:
    new_dcid = bytes.fromhex("99887766554433221100")
    hello = client_hello("retry.example")
    view = flow(
        [
            (True, client_initial(crypto_frame(0, hello), 0)),
            (False, retry_packet(V1, CSCID, new_dcid, b"retry-token")),
            (
                True,
                client_initial(
                    crypto_frame(0, hello),
                    1,
                    dcid=new_dcid,
                    key_dcid=new_dcid,
                    token=b"retry-token",
                ),
            ),
            (False, server_initial(crypto_frame(0, server_hello()), key_dcid=new_dcid)),
        ]
    )
    (row,), weirds = rows_of(view)
    assert weirds == []
    assert row.retry and row.sni == "retry.example" and row.dcid == ODCID.hex()
    assert row.initial_packets == 2 and row.decrypt_failures == 0
    assert row.server_hello_seen and row.cipher == "TLS_AES_128_GCM_SHA256"
    assert row.client_hello_packets == 1 and row.frames == "3"


def test_retry_with_a_new_client_hello_prefers_the_new_one() -> None:
    new_dcid = b"\x42" * 8
    view = flow(
        [
            (True, client_initial(crypto_frame(0, client_hello("before.example")), 0)),
            (False, retry_packet(V1, CSCID, new_dcid, b"t")),
            (
                True,
                client_initial(
                    crypto_frame(0, client_hello("after.example")),
                    1,
                    dcid=new_dcid,
                    key_dcid=new_dcid,
                    token=b"t",
                ),
            ),
        ]
    )
    (row,), _ = rows_of(view)
    assert row.sni == "after.example" and row.retry


def test_retry_seen_before_any_initial() -> None:
    new_dcid = b"\x43" * 8
    view = flow(
        [
            (False, retry_packet(V1, CSCID, new_dcid, b"t")),
            (
                True,
                client_initial(
                    crypto_frame(0, client_hello("late.example")),
                    1,
                    dcid=new_dcid,
                    key_dcid=new_dcid,
                    token=b"t",
                ),
            ),
        ]
    )
    (row,), _ = rows_of(view)
    assert row.retry and row.sni == "late.example" and row.client_is_orig


def test_garbage_and_padding_after_a_valid_packet() -> None:
    packet = client_initial(crypto_frame(0, client_hello("tail.example")), 0)
    view = flow([(True, packet + b"\xc0\xde\xad" + bytes(50)), (True, packet + bytes(100))])
    (row,), weirds = rows_of(view)
    assert row.sni == "tail.example" and row.initial_packets == 2 and weirds == []


def test_grease_version_is_listed_and_version_negotiation_skipped() -> None:
    # issue 11: a reserved (GREASE, RFC 9000 section 15) version's Initial is listed with its
    # version even when no salt opens it; version negotiation packets are not Initials.
    grease = b"\xc0\x1a\x2a\x3a\x4a\x08" + ODCID + b"\x04" + CSCID + bytes(1100)
    vn = b"\x80\x00\x00\x00\x00\x04" + CSCID + b"\x08" + ODCID + b"\x00\x00\x00\x01"
    hello = crypto_frame(0, client_hello("after-vn.example"))
    zero_rtt = protect_long(b"\x01" * 40, key_dcid=b"0rtt-keys", dcid=ODCID, kind="0rtt")
    view = flow([(True, grease), (False, vn), (True, client_initial(hello, 0) + zero_rtt)])
    (row, listed), weirds = rows_of(view)
    assert row.sni == "after-vn.example" and row.frame == 3 and row.initial_salt == ""
    assert row.initial_packets == 1 and not row.version_reserved
    assert (listed.version, listed.version_reserved, listed.initial_salt) == (
        "0x1a2a3a4a",
        True,
        "none",
    )
    assert listed.frame == 1 and listed.dcid == ODCID.hex() and listed.decrypt_failures == 1
    assert [(w.name, w.frame) for w in weirds] == [("quic_decrypt_failed", 1)]


@pytest.mark.parametrize("version", [0x1A2A3A4A, 0xBABABABA, 0x12345678])
def test_reserved_or_unknown_version_initial_opens_with_the_v1_salt(version: int) -> None:
    # tshark tries the v1 Initial salt for versions it does not know; so does the dissector.
    hello = pad(crypto_frame(0, client_hello("grease.example")))
    # the wire version is AAD; the keys come from the v1 salt
    sealed = protect_long(hello, version=version, key_version=V1, key_dcid=ODCID, scid=CSCID)
    (row,), weirds = rows_of(flow([(True, sealed)]))
    assert weirds == [] and row.sni == "grease.example" and row.client_hello_complete
    assert row.version == f"0x{version:08x}" and row.initial_salt == "v1"
    assert row.version_reserved == ((version & 0x0F0F0F0F) == 0x0A0A0A0A)


def test_unknown_version_junk_without_quic_evidence_is_not_listed() -> None:
    junk = b"\xc3\x12\x34\x56\x78\x08" + ODCID + b"\x00\x00" + bytes(300)
    assert rows_of(flow([(True, junk)])) == ([], [])


def test_decrypt_failure_is_counted_and_reported() -> None:
    good = client_initial(crypto_frame(0, client_hello("ok.example")), 0)
    bad = client_initial(crypto_frame(0, b"zzz"), 1, dcid=ODCID, key_dcid=b"other-keys")
    (row,), weirds = rows_of(flow([(True, good), (True, bad)]))
    assert row.sni == "ok.example" and row.decrypt_failures == 1 and row.initial_packets == 2
    assert [(w.name, w.frame, w.source) for w in weirds] == [("quic_decrypt_failed", 2, "quic")]


def test_undecryptable_flow_still_gives_a_row() -> None:
    bad = client_initial(crypto_frame(0, b"zzz"), 0, dcid=ODCID, key_dcid=b"other-keys")
    (row,), weirds = rows_of(flow([(True, bad)]))
    assert row.sni == "" and row.decrypt_failures == 1 and row.initial_packets == 1
    assert row.post_quantum is None and row.ech == "" and not row.client_hello_complete
    assert weirds[0].name == "quic_decrypt_failed"


def test_second_connection_in_the_same_flow() -> None:
    other = b"\x77" * 12
    view = flow(
        [
            (True, client_initial(crypto_frame(0, client_hello("one.example")), 0)),
            (
                True,
                client_initial(
                    crypto_frame(0, client_hello("two.example")), 0, dcid=other, key_dcid=other
                ),
            ),
        ]
    )
    rows, _ = rows_of(view)
    assert [(r.sni, r.frame, r.dcid) for r in rows] == [
        ("one.example", 1, ODCID.hex()),
        ("two.example", 2, other.hex()),
    ]


def test_v2_flow_and_client_not_originator() -> None:
    hello = client_hello("v2.example")
    view = flow(
        [
            (False, client_initial(crypto_frame(0, hello), 0, version=V2)),
            (True, server_initial(crypto_frame(0, server_hello()), version=V2)),
        ]
    )
    (row,), _ = rows_of(view)
    assert row.version == "2" and row.sni == "v2.example" and row.client_is_orig is False
    assert row.server_hello_seen


def test_unknown_frame_and_non_client_hello_are_weird() -> None:
    payload = crypto_frame(0, server_hello()) + b"\x30junk"
    (row,), weirds = rows_of(flow([(True, client_initial(payload, 0))]))
    names = sorted(w.name for w in weirds)
    assert names == ["quic_not_client_hello", "quic_unknown_frame"]
    assert row.sni == ""


def test_gquic_q043_cleartext_chlo() -> None:
    hello = chlo({b"SNI": b"www.gstatic.com", b"UAID": b"Chrome/85", b"PAD": bytes(500)})
    packet = gquic_public_packet(b"Q043", b"\x11" * 8, gquic_stream_frame(hello))
    server = b"\x08" + b"\x11" * 8 + bytes(40)
    version_negotiation = b"\x09" + b"\x11" * 8 + b"Q043Q046Q050"
    (row,), weirds = rows_of(flow([(True, packet), (False, server), (False, version_negotiation)]))
    assert weirds == []
    assert row.gquic and row.version == "Q043" and row.sni == "www.gstatic.com"
    assert row.user_agent == "Chrome/85" and row.client_hello_complete
    assert row.dcid == "11" * 8 and row.ja4 == "" and row.post_quantum is None


def test_gquic_q046_long_header() -> None:
    hello = chlo({b"SNI": b"play.google.com", b"UAID": b"Chrome/74"})
    packet = b"\xc3Q046\x50" + b"\x22" * 8 + b"\x00\x00\x00\x01" + bytes(12)
    packet += gquic_stream_frame(hello) + bytes(200)
    server = b"\xc3Q046\x05" + b"\x22" * 8 + b"\x00\x00\x00\x01" + bytes(30)
    (row,), _ = rows_of(flow([(True, packet), (False, server)]))
    assert row.version == "Q046" and row.sni == "play.google.com"


def test_gquic_q050_and_t051_encrypted() -> None:
    hello = chlo({b"SNI": b"q050.example", b"UAID": b"ua"})
    payload = b"\x08" + varint(0) + varint(len(hello)) + hello
    (row,), _ = rows_of(flow([(True, client_initial(payload, 1, version=Q050))]))
    assert row.version == "Q050" and row.gquic and row.sni == "q050.example"
    tls = client_hello("t051.example")
    payload = b"\x08" + varint(0) + varint(len(tls)) + tls
    (row,), _ = rows_of(flow([(True, client_initial(payload, 1, version=T051))]))
    assert row.version == "T051" and row.sni == "t051.example" and row.ja4.startswith("q13")


def test_not_quic() -> None:
    rtp = bytes([0x80, 0x60, 0x00, 0x01]) + bytes(160)
    dns = bytes.fromhex("123401000001000000000000") + b"\x03www\x00\x00\x01\x00\x01"
    assert quic.dissect(flow([(True, rtp), (False, rtp), (True, dns)])) == []
    tcp = FlowView("C1", "tcp", "a", 1, "b", 443, 0.0, (), Stream(b"\xc0\x00\x00\x00\x01", ()))
    assert quic.dissect(tcp) == []
    assert not looks_like_quic(())


def test_analysis_is_deterministic() -> None:
    view = flow([(True, client_initial(crypto_frame(0, client_hello()), 0))])
    assert analyze_datagrams(view.datagrams) == analyze_datagrams(view.datagrams)


_VALID = client_initial(crypto_frame(0, client_hello("fuzz.example")), 0)
_datagram = st.one_of(
    st.binary(max_size=120),
    st.binary(max_size=120).map(lambda b: b"\xc0\x00\x00\x00\x01" + b),
    st.binary(max_size=60).map(lambda b: b"\xc3Q046\x50" + b),
    st.binary(max_size=60).map(lambda b: b"\x09" + bytes(8) + b"Q043" + b),
    st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)).map(
        lambda t: _VALID[: t[0]] + bytes([t[1]]) + _VALID[t[0] + 1 :]
    ),
    st.integers(0, len(_VALID)).map(lambda n: _VALID[:n]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _datagram), max_size=6))
def test_dissect_never_raises(datagrams: list[tuple[bool, bytes]]) -> None:
    view = FlowView(
        "Cfuzz",
        "udp",
        "a",
        1,
        "b",
        443,
        0.0,
        tuple(Datagram(i + 1, float(i), o, p) for i, (o, p) in enumerate(datagrams)),
    )
    for row in quic.dissect(view):
        assert isinstance(row, QuicRow | WeirdRow)
        assert row.uid == "Cfuzz"


def test_grease_initial_then_v1_after_version_negotiation() -> None:
    # ndpi/pcap/quic-forcing-vn-with-data.pcapng: a 0xbabababa Initial (v1 keys), the server's
    # version negotiation, then v1 Initials under the same DCID: one v1 connection row from
    # the first Initial, plus the reserved-version packet listed with its version.
    hello = pad(crypto_frame(0, client_hello("vn.example")))
    grease = protect_long(hello, version=0xBABABABA, key_version=V1, key_dcid=ODCID, scid=CSCID)
    vn = b"\x80\x00\x00\x00\x00\x04" + CSCID + b"\x08" + ODCID + b"\x00\x00\x00\x01"
    view = flow([(True, grease), (False, vn), (True, client_initial(hello, 1))])
    (conn, listed), weirds = rows_of(view)
    assert weirds == [] and conn.version == "1" and conn.sni == "vn.example"
    assert conn.initial_salt == "" and conn.frame == 1 and conn.initial_packets == 2
    assert (listed.version, listed.initial_salt, listed.frame) == ("0xbabababa", "v1", 1)
    assert listed.version_reserved and listed.decrypt_failures == 0
