"""Cleartext call signalling recognisers, the ``signalling`` table and HTTP CONNECT tunnels."""

from __future__ import annotations

import contextlib
import dataclasses
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import sigtext, tls
from inspector.dissect.sigtext import (
    dissect,
    parse_bfcp,
    parse_iax2,
    parse_start_line,
    parse_tpkt_q931,
    recognise_datagram,
    tunnel_view,
)
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView
from inspector.schema.signalling import SignallingRow
from inspector.schema.tls import TlsRow
from tests.conftest import real_dir
from tests.dissect.tls_factory import (
    client_hello_body,
    handshake,
    record,
    sni_ext,
    stream,
    tcp_view,
)

# RFC 3261 section 24.2 (the INVITE of the Alice-to-Bob call flow), with an SDP body.
SDP = (
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\ns=-\r\n"
    b"c=IN IP4 pc33.atlanta.com\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)
INVITE = (
    b"INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n\r\n" + SDP
)
RINGING = b"SIP/2.0 180 Ringing\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n"


def udp(datagrams: list[tuple[bool, bytes]], ports: tuple[int, int] = (5060, 5060)) -> FlowView:
    return FlowView(
        "CSIG1", "udp", "10.0.0.1", ports[0], "192.0.2.1", ports[1], 100.0,
        tuple(Datagram(i + 1, 100.0 + i, o, p) for i, (o, p) in enumerate(datagrams)),
    )  # fmt: skip


def sig_rows(view: FlowView) -> list[SignallingRow]:
    rows = dissect(view)
    assert all(isinstance(r, SignallingRow) for r in rows)
    return rows  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("line", "protocol", "method"),
    [
        (b"INVITE sip:bob@biloxi.com SIP/2.0\r\n", "sip", "INVITE"),  # RFC 3261 24.2
        (b"SIP/2.0 180 Ringing\r\n", "sip", "180"),
        (b"DESCRIBE rtsp://server.example.com/fizzle/foo RTSP/1.0\r\n", "rtsp", "DESCRIBE"),
        (b"RTSP/1.0 200 OK\r\n", "rtsp", "200"),  # RFC 2326 section 7
        (b"RQNT 1201 aaln/1@rgw-2567.whatever.net MGCP 1.0\r\n", "mgcp", "RQNT"),  # RFC 3435
        (b"MEGACO/1 [123.123.123.4]:55555\nTransaction = 9998 {", "megaco", "MEGACO"),  # RFC 3525
        (b"!/1 [123.123.123.4]:55555 T=9998{", "megaco", "!"),  # H.248.1 compact form
        (b"CONNECT server.example.com:80 HTTP/1.1\r\n", "http_connect", "SERVER.EXAMPLE.COM:80"),
    ],
)
def test_start_lines_from_the_rfcs(line: bytes, protocol: str, method: str) -> None:
    msg = parse_start_line(line)
    assert (msg.protocol, msg.method, msg.weak) == (protocol, method, False)


def test_weak_response_lines_and_non_signalling() -> None:
    assert parse_start_line(b"200 1201 OK\r\n").weak  # MGCP response: needs a command
    assert parse_start_line(b"HTTP/1.1 200 Connection established\r\n").weak
    for bad in (b"GET / HTTP/1.1\r\n", b"INVITE bob SIP/2.0\r\n", b"x" * 2000, b""):
        with pytest.raises(ParseError):
            parse_start_line(bad)


def test_q931_setup_in_tpkt() -> None:
    # TPKT (RFC 1006) + Q.931 SETUP (ITU-T Q.931 4.2-4.4): discriminator 08, 2-byte call ref.
    q931 = b"\x08\x02\x00\x01\x05" + b"\x04\x03\x88\x93\xa5" + b"\x7e\x00\x02\x05\x00"
    tpkt = b"\x03\x00" + struct.pack("!H", 4 + len(q931)) + q931
    msg, used = parse_tpkt_q931(tpkt)
    assert (msg.protocol, msg.method, used) == ("h323", "SETUP", len(tpkt))
    with pytest.raises(ParseError):
        parse_tpkt_q931(tpkt[:4] + b"\x09" + tpkt[5:])  # not Q.931
    view = tcp_view(stream(tpkt + tpkt.replace(b"\x05\x04", b"\x07\x04", 1), (3,)))
    (row,) = sig_rows(view)
    assert row.protocol == "h323" and row.methods == "SETUP;CONNECT" and row.messages == 2


def test_iax2_full_frames() -> None:
    # RFC 5456 8.1.1: F=1, source call 1, dest 0, timestamp 3, oseq 0, iseq 0, IAX (6) NEW (1)
    new = b"\x80\x01\x00\x00\x00\x00\x00\x03\x00\x00\x06\x01"
    assert parse_iax2(new).method == "NEW"
    assert parse_iax2(new[:10] + b"\x02\x00").method == "VOICE"
    for bad in (new[:11], b"\x00" + new[1:], new[:10] + b"\x06\x7f", new[:10] + b"\x42\x01"):
        with pytest.raises(ParseError):
            parse_iax2(bad)
    assert recognise_datagram(new, (4569, 4570)) is not None
    assert recognise_datagram(new, (5000, 5001)) is None  # IAX2 only on its IANA port
    (row,) = sig_rows(udp([(True, new), (False, new[:10] + b"\x06\x04")], (4569, 4569)))
    assert row.protocol == "iax2" and row.methods == "NEW;ACK"


def test_sip_over_udp_with_sdp() -> None:
    (row,) = sig_rows(udp([(True, INVITE), (False, RINGING)]))
    assert (row.protocol, row.messages, row.methods) == ("sip", 2, "INVITE;180")
    assert row.first_line == "INVITE sip:bob@biloxi.com SIP/2.0" and row.frames == "1;2"
    assert row.sdp and row.sdp_media == "audio 49172 RTP/AVP 0" and not row.sdp_crypto
    assert row.cleartext_payload and not row.starttls_offered
    crypto = INVITE.replace(
        b"a=rtpmap", b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\na=rtpmap"
    )
    assert sig_rows(udp([(True, crypto)]))[0].sdp_crypto  # RFC 4568 SDES key in clear


def test_mgcp_response_counts_only_beside_a_command() -> None:
    cmd = b"RQNT 1201 aaln/1@rgw-2567.whatever.net MGCP 1.0\r\nX: 0123456789AC\r\n"
    (row,) = sig_rows(udp([(True, cmd), (False, b"200 1201 OK\r\n")], (2427, 2427)))
    assert row.methods == "RQNT;200" and row.messages == 2
    assert sig_rows(udp([(False, b"200 1201 OK\r\n")], (2427, 2427))) == []


def _compare_whole_and_bytewise(orig: bytes, resp: bytes) -> SignallingRow:
    rows = []
    for sizes in ((), (1,) * len(orig)):
        view = tcp_view(stream(orig, sizes), stream(resp, (1,) * len(resp), first_frame=5000))
        (row,) = sig_rows(view)
        rows.append(dataclasses.replace(row, frame=0, frames="", ts=0.0))
    assert rows[0] == rows[1]
    return rows[0]


def test_sip_over_tcp_whole_and_byte_by_byte() -> None:
    row = _compare_whole_and_bytewise(
        INVITE + b"\r\n" + INVITE.replace(b"INVITE sip", b"BYE sip", 1), RINGING
    )
    assert row.methods == "INVITE;BYE;180" and row.messages == 3 and row.sdp


XMPP_C = (
    b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
XMPP_S = (
    b"<?xml version='1.0'?><stream:stream from='example.com' id='x' version='1.0' "
    b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
    b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
)


def test_xmpp_with_and_without_starttls() -> None:
    # RFC 6120 section 5.4: <starttls/>, <proceed/>, then the TLS handshake.
    tls_start = b"\x16\x03\x01\x00\x05hello"
    orig = XMPP_C + b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + tls_start
    resp = XMPP_S + b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    row = _compare_whole_and_bytewise(orig, resp)
    assert row.protocol == "xmpp" and row.starttls_offered and row.tls_followed
    assert not row.cleartext_payload and row.methods == "stream;starttls;proceed"
    plain = _compare_whole_and_bytewise(XMPP_C + b"<auth mechanism='PLAIN'>AGFsaWNl</auth>", b"")
    assert not plain.starttls_offered and not plain.tls_followed and plain.cleartext_payload


def _connect_flow(host: str = "example.com") -> FlowView:
    ch = record(22, handshake(1, client_hello_body([sni_ext(host)])))
    orig = f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode() + ch
    resp = b"HTTP/1.1 200 Connection established\r\n\r\n"
    return tcp_view(stream(orig, (40, 30)), stream(resp, first_frame=9))


def test_http_connect_tunnel_row_and_tls_inside() -> None:
    view = _connect_flow()
    (row,) = sig_rows(view)
    assert row.protocol == "http_connect" and row.connect_target == "example.com:443"
    assert row.connect_status == 200 and row.tls_followed and not row.cleartext_payload
    inner = tunnel_view(view)
    assert inner is not None and inner.orig.data.startswith(b"\x16\x03")
    assert inner.orig.frame_at(0) == 2  # bytes 40-69: the header end (59) and the ClientHello
    tls_rows = [r for r in tls.dissect(view) if isinstance(r, TlsRow)]
    assert len(tls_rows) == 1 and tls_rows[0].sni == "example.com"


def test_connect_without_2xx_is_not_a_tunnel() -> None:
    view = _connect_flow()
    refused = dataclasses.replace(view, resp=stream(b"HTTP/1.1 403 Forbidden\r\n\r\n"))
    assert tunnel_view(refused) is None
    assert sig_rows(refused)[0].connect_status == 403


def _tshark_count(path: str, display_filter: str) -> int:
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    args = ["tshark", "-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number"]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    return len(out.split())


@pytest.mark.parametrize(
    ("path", "protocol", "display_filter"),
    [
        ("ndpi/pcap/sip.pcap", "sip", "sip.Request-Line or sip.Status-Line"),
        ("ndpi/pcap/mgcp.pcap", "mgcp", "mgcp"),
        ("ndpi/pcap/iax.pcap", "iax2", "iax2.packet_type == 1"),  # full frames
        # tshark counts TCP retransmissions again; each message once here
        ("ndpi/pcap/rtsp.pcap", "rtsp", "(rtsp.request or rtsp.response) and not "
         "tcp.analysis.retransmission and not tcp.analysis.fast_retransmission"),
    ],
)  # fmt: skip
def test_real_captures_match_tshark_message_counts(
    path: str, protocol: str, display_filter: str
) -> None:
    from inspector.pipeline import flow_views

    full = str(real_dir() / path)
    got = sum(
        r.messages  # type: ignore[attr-defined]
        for v in flow_views(full)
        for r in dissect(v)
        if r.protocol == protocol  # type: ignore[attr-defined]
    )
    assert got == _tshark_count(full, display_filter)


def test_real_xmpp_streams_including_mid_stream_captures() -> None:
    from inspector.pipeline import flow_views

    full = str(real_dir() / "ndpi/pcap/jabber.pcap")
    ports = {v.orig_p for v in flow_views(full) for r in dissect(v) if r.protocol == "xmpp"}  # type: ignore[attr-defined]
    # tshark -Y xmpp: TCP streams from client ports 57094 57122 57126 57129 57147 57149 53460
    assert ports == {57094, 57122, 57126, 57129, 57147, 57149, 53460}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_parsers_raise_only_parse_error(data: bytes) -> None:
    for fn in (parse_start_line, parse_tpkt_q931, parse_iax2, parse_bfcp):
        with contextlib.suppress(ParseError):
            fn(data)
    recognise_datagram(data, (4569, 5060))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([b"", b"CONNECT a:1 HTTP/1.1\r\n\r\n", b"\x03\x00\x00\x08",
                     b"SIP/2.0 200 OK\r\n", b"<stream:stream",
                     b"INVITE sip:x SIP/2.0\r\nl: 5\r\n\r\n"]),
    st.binary(max_size=120),
    st.binary(max_size=120),
)  # fmt: skip
def test_dissect_never_raises(prefix: bytes, orig: bytes, resp: bytes) -> None:
    view = tcp_view(stream(prefix + orig), stream(resp))
    dissect(view)
    tunnel_view(view)
    dissect(udp([(True, prefix + orig), (False, resp)], (4569, 5060)))
    assert sigtext.IAX2_PORT == 4569


#: ndpi/pcap/bfcp.pcapng (tshark -d tcp.port==5070,bfcp -e tcp.payload): FloorRequestQuery and
#: the FloorRequestStatus answer, conference 1, transaction 2 (both over TCP and UDP there).
BFCP_QUERY = bytes.fromhex("200300010000000100020504")
BFCP_STATUS = bytes.fromhex("200400010000000100020504")


def test_bfcp_header_fields() -> None:
    msg, key, size = parse_bfcp(BFCP_QUERY)
    assert (msg.protocol, msg.method, key, size) == ("bfcp", "FLOORREQUESTQUERY", (1, 2), 16)
    for bad in (BFCP_QUERY[:11], b"\x60" + BFCP_QUERY[1:], b"\x21" + BFCP_QUERY[1:],
                b"\x30" + BFCP_QUERY[1:], BFCP_QUERY[:1] + b"\x12" + BFCP_QUERY[2:]):  # fmt: skip
        with pytest.raises(ParseError):
            parse_bfcp(bad)


def test_bfcp_needs_a_request_and_its_answer() -> None:
    (row,) = sig_rows(udp([(True, BFCP_QUERY), (False, BFCP_STATUS)], (47706, 5070)))
    assert (row.protocol, row.messages, row.methods) == (
        "bfcp",
        2,
        "FLOORREQUESTQUERY;FLOORREQUESTSTATUS",
    )
    (row,) = sig_rows(tcp_view(stream(BFCP_QUERY), stream(BFCP_STATUS)))
    assert row.protocol == "bfcp" and row.transport == "tcp"
    assert dissect(udp([(True, BFCP_QUERY), (True, BFCP_STATUS)], (47706, 5070))) == []
    # a constant relay header that happens to read as the same request both ways is not BFCP
    assert dissect(udp([(True, BFCP_QUERY), (False, BFCP_QUERY)], (38123, 40003))) == []
    assert dissect(udp([(True, BFCP_QUERY), (False, BFCP_STATUS), (True, b"\x90" * 20)])) == []
    other = BFCP_STATUS[:4] + b"\x00\x00\x00\x09" + BFCP_STATUS[8:]  # another conference
    assert dissect(udp([(True, BFCP_QUERY), (False, other)], (47706, 5070))) == []
