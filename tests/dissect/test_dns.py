"""Tests for inspector.dissect.dns: RFC 1035 names, RRs, SVCB/HTTPS (RFC 9460), the dissector."""

from __future__ import annotations

import math
import re
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.dissect import dns
from inspector.dissect.dns import (
    RRType,
    dissect,
    doh_resolver,
    encrypted_dns_label,
    escape_label,
    parse_message,
)
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.schema.dns import DnsAnswerRow, DnsRow
from inspector.schema.weird import WeirdRow

# -- builders ------------------------------------------------------------------------------------


def name(text: str) -> bytes:
    """Uncompressed wire form of a dotted name ("" or "." is the root)."""
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def header(msg_id: int, flags: int, qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!6H", msg_id, flags, qd, an, ns, ar)


def question(owner: bytes, qtype: int = 1, qclass: int = 1) -> bytes:
    return owner + struct.pack("!HH", qtype, qclass)


def rr(owner: bytes, rtype: int, rdata: bytes, ttl: int = 300, rclass: int = 1) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def udp_view(*datagrams: tuple[bool, bytes], orig_p: int = 40000, resp_p: int = 53) -> FlowView:
    dgrams = tuple(
        Datagram(frame=i + 1, ts=100.0 + i * 0.01, from_orig=o, payload=p)
        for i, (o, p) in enumerate(datagrams)
    )
    return FlowView("Cdns", "udp", "10.0.0.1", orig_p, "10.0.0.53", resp_p, 100.0, dgrams)


def stream(*chunks: tuple[int, float, bytes]) -> Stream:
    segments, data = [], b""
    for frame, ts, chunk in chunks:
        segments.append((len(data), frame, ts))
        data += chunk
    return Stream(data, tuple(segments))


def only(rows: list, kind: type) -> list:
    return [r for r in rows if isinstance(r, kind)]


# -- RFC 1035 section 4.1.4: message compression -------------------------------------------------


def test_rfc1035_compression_example() -> None:
    # RFC 1035 4.1.4 lays out F.ISI.ARPA at offset 20, FOO.F.ISI.ARPA as "FOO" + a pointer to
    # 20, ARPA as a pointer to offset 26 (inside F.ISI.ARPA) and the root as a single zero.
    # A first 8-octet question places F.ISI.ARPA exactly at offset 20, as in the RFC figure.
    body = question(name("pa"))  # offsets 12..19
    body += question(b"\x01F\x03ISI\x04ARPA\x00")  # offset 20
    body += question(b"\x03FOO\xc0\x14")  # pointer to 20
    body += question(b"\xc0\x1a")  # pointer to 26: "ARPA"
    body += question(b"\x00")  # the root
    data = header(7, 0x0100, qd=5) + body
    assert data[20:22] == b"\x01F" and data[26:31] == b"\x04ARPA"
    msg = parse_message(data)
    assert [q.name for q in msg.questions] == ["pa", "F.ISI.ARPA", "FOO.F.ISI.ARPA", "ARPA", "."]
    assert msg.id == 7 and not msg.qr and msg.complete


def test_pointer_chain_of_two_jumps() -> None:
    data = header(1, 0, qd=3)
    data += question(name("example.com"))  # 12
    data += question(b"\x03www\xc0\x0c")  # www.example.com at 29
    data += question(b"\x01a\xc0\x1d")  # a.www.example.com: jumps to 29 then to 12
    assert [q.name for q in parse_message(data).questions][2] == "a.www.example.com"


@pytest.mark.parametrize(
    ("owner", "reason"),
    [
        (b"\xc0\x0c", "bad_pointer"),  # points at itself
        (b"\xc0\x20", "bad_pointer"),  # forward pointer
        (b"\x01a\xc0\x0c", "bad_pointer"),  # loop: label "a" then back to its own start
        (b"\x41a", "bad_label"),  # label type 01 (RFC 6891 reserved / extended)
        (b"\x81a", "bad_label"),  # label type 10
        (b"\x03ab", "truncated"),  # label runs past the message
        (b"\xc0", "truncated"),  # pointer cut in half
    ],
)
def test_bad_names_raise(owner: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_message(header(1, 0, qd=1) + question(owner))
    assert err.value.name == reason


def test_loop_through_two_pointers_is_rejected() -> None:
    # name A at 12 = "x" + ptr to 17; name B at 17 = "y" + ptr to 12: each pointer points back
    # from where it sits, but following them would cycle. The run-start rule stops it.
    data = header(1, 0, qd=2) + b"\x01x\xc0\x11" + b"\x00\x01\x00\x01"
    data += b"\x01y\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(ParseError) as err:
        parse_message(data)
    assert err.value.name == "bad_pointer"


def test_name_longer_than_255_octets() -> None:
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"  # 257 octets
    with pytest.raises(ParseError) as err:
        parse_message(header(1, 0, qd=1) + question(long_name))
    assert err.value.name == "name_too_long"
    ok = b"".join(b"\x3f" + b"a" * 63 for _ in range(3)) + b"\x3d" + b"a" * 61 + b"\x00"
    assert len(ok) == 255
    assert parse_message(header(1, 0, qd=1) + question(ok)).questions[0].name.count(".") == 3


def test_odd_label_bytes_are_escaped_like_dig() -> None:
    raw = b'a.b c\\d;e\x00\x7f\xc3\xa9"()@$'
    assert escape_label(raw) == 'a\\.b\\032c\\\\d\\059e\\000\\127\\195\\169\\"\\(\\)\\@\\$'
    data = header(1, 0, qd=1) + question(bytes([len(raw)]) + raw + b"\x03com\x00")
    got = parse_message(data).questions[0].name
    assert got.endswith(".com") and got.isascii() and ";" not in got
    assert unescape(got.rsplit(".", 1)[0]) == raw  # lossless


def unescape(text: str) -> bytes:
    """Inverse of escape_label for one label (test helper)."""
    out = bytearray()
    for m in re.finditer(r"\\(\d{3})|\\(.)|(.)", text, re.S):
        out += bytes([int(m[1])]) if m[1] else (m[2] or m[3]).encode()
    return bytes(out)


# -- records ---------------------------------------------------------------------------------


def cname_chain_response() -> bytes:
    q = name("www.example.com")  # at offset 12
    data = header(0x1234, 0x8180, qd=1, an=4) + question(q)
    data += rr(b"\xc0\x0c", RRType.CNAME, b"\x03cdn\x07example\x03net\x00", ttl=60)  # rdata at 45
    data += rr(b"\xc0\x2d", RRType.CNAME, b"\x04edge\xc0\x2d", ttl=30)  # owner cdn.example.net
    data += rr(b"\xc0\x4a", RRType.A, bytes([192, 0, 2, 1]), ttl=20)  # edge.cdn.example.net
    data += rr(b"\xc0\x4a", RRType.AAAA, bytes.fromhex("20010db8" + "00" * 11 + "01"), ttl=20)
    return data


def test_cname_chain_then_addresses() -> None:
    data = cname_chain_response()
    assert data[45:49] == b"\x03cdn" and data[74:79] == b"\x04edge"
    msg = parse_message(data)
    assert msg.qr and msg.rcode == 0
    assert [(r.name, dns.type_name(r.rtype), r.value, r.ttl) for r in msg.answers] == [
        ("www.example.com", "CNAME", "cdn.example.net", 60),
        ("cdn.example.net", "CNAME", "edge.cdn.example.net", 30),
        ("edge.cdn.example.net", "A", "192.0.2.1", 20),
        ("edge.cdn.example.net", "AAAA", "2001:db8::1", 20),
    ]


def test_dissect_pairs_query_and_response() -> None:
    query = header(0x1234, 0x0100, qd=1) + question(name("WWW.example.com"))  # 0x20 case mix
    rows = dissect(udp_view((True, query), (False, cname_chain_response())))
    (row,) = only(rows, DnsRow)
    assert row.query == "WWW.example.com" and row.qtype == "A" and row.rcode == "NOERROR"
    assert row.frame == 1 and row.response_frame == 2 and row.trans_id == 0x1234
    assert row.rtt_ms == pytest.approx(10.0)
    assert row.answers == "cdn.example.net;edge.cdn.example.net;192.0.2.1;2001:db8::1"
    assert row.answer_types == "CNAME;CNAME;A;AAAA" and row.ttls == "60;30;20;20"
    assert row.cnames == "cdn.example.net;edge.cdn.example.net"
    assert row.proto == "udp" and row.transport_label == "dns" and not row.ech_config_present
    answers = only(rows, DnsAnswerRow)
    assert [(a.rr_name, a.value, a.frame) for a in answers][2] == (
        "edge.cdn.example.net",
        "192.0.2.1",
        2,
    )
    assert all(a.query == "www.example.com" and a.ts == pytest.approx(100.01) for a in answers)


def test_response_without_query_and_query_without_response() -> None:
    lone_query = header(9, 0x0100, qd=1) + question(name("nobody.example"), 28)
    rows = only(dissect(udp_view((True, lone_query), (False, cname_chain_response()))), DnsRow)
    assert len(rows) == 2
    assert rows[0].query == "nobody.example" and rows[0].qtype == "AAAA"
    assert rows[0].rcode == "" and rows[0].response_frame is None and rows[0].rtt_ms is None
    assert rows[1].frame == 2 and rows[1].response_frame == 2 and rows[1].rtt_ms is None
    assert rows[1].query == "www.example.com" and rows[1].rcode == "NOERROR"


def test_txt_soa_mx_srv_unknown_and_edns() -> None:
    data = header(5, 0x8183, qd=1, an=4, ns=1, ar=1) + question(name("x.test"), 16)
    data += rr(b"\xc0\x0c", RRType.TXT, b'\x05a;b"c\x00')
    data += rr(b"\xc0\x0c", RRType.MX, b"\x00\x0a\x04mail\xc0\x0e")
    data += rr(b"\xc0\x0c", RRType.SRV, struct.pack("!3H", 1, 2, 5060) + name("sip.test"))
    data += rr(b"\xc0\x0c", 123, b"\x01\x02\x03")
    soa = name("ns.test") + name("admin.test") + struct.pack("!5I", 1, 2, 3, 4, 5)
    data += rr(b"\xc0\x0e", RRType.SOA, soa)
    data += rr(b"\x00", RRType.OPT, struct.pack("!HH", 3, 2) + b"id", ttl=0x01008000, rclass=1232)
    msg = parse_message(data)
    assert [r.value for r in msg.answers] == ['"a\\059b\\"c" ""', "mail.test", "sip.test", "\\# 3"]
    assert msg.authorities[0].value == "ns.test admin.test 1 2 3 4 5"
    assert msg.edns is not None and msg.edns.udp_size == 1232 and msg.edns.dnssec_ok
    assert msg.edns.options == ((3, b"id"),)
    assert msg.rcode == (1 << 4) | 3 and dns.rcode_name(msg.rcode) == "BADMODE"
    assert dns.rcode_name(35) == "RCODE35"
    assert dns.type_name(123) == "TYPE123"


def test_bad_rdata_is_kept_with_an_error() -> None:
    data = header(5, 0x8180, qd=1, an=2) + question(name("x.test"))
    data += rr(b"\xc0\x0c", RRType.A, b"\x01\x02\x03")  # 3-octet A
    data += rr(b"\xc0\x0c", RRType.CNAME, b"\xc0\x40")  # forward pointer inside RDATA
    msg = parse_message(data)
    assert [r.value for r in msg.answers] == ["\\# 3", "\\# 2"]
    assert msg.answers[0].error.startswith("bad_rdata") and "bad_pointer" in msg.answers[1].error


def test_lenient_parse_keeps_what_was_read() -> None:
    data = cname_chain_response()[:-10]
    with pytest.raises(ParseError):
        parse_message(data)
    msg = parse_message(data, lenient=True)
    assert not msg.complete and len(msg.answers) == 3


# -- SVCB / HTTPS: RFC 9460 Appendix D ----------------------------------------------------------
# Wire formats of RFC 9460 Appendix D.2 ("ServiceMode"), as printed in the RFC and in the draft
# it came from (github.com/MikeBishop/dns-alt-svc, draft-ietf-dnsop-svcb-https, "Test vectors").

FOO_COM = "03666f6f076578616d706c6503636f6d00"
FOO_ORG = "03666f6f076578616d706c65036f726700"
RFC9460_D2 = {
    # Figure 3: example.com. SVCB 1 .
    "1 .": "000100",
    # Figure 4: example.com. SVCB 16 foo.example.com. port=53
    "16 foo.example.com port=53": "0010" + FOO_COM + "000300020035",
    # Figure 5: key667=hello (an unregistered key: shown by name only)
    "1 foo.example.com key667": "0001" + FOO_COM + "029b000568656c6c6f",
    # Figure 7: ipv6hint="2001:db8::1,2001:db8::53:1"
    "1 foo.example.com ipv6hint=2001:db8::1,2001:db8::53:1": "0001"
    + FOO_COM
    + "00060020"
    + "20010db8000000000000000000000001"
    + "20010db8000000000000000000530001",
    # Figure 9: alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 (sorted on the wire)
    "16 foo.example.org mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1": "0010"
    + FOO_ORG
    + "0000000400010004"
    + "0001000902683205683"
    + "32d3139"
    + "00040004c0000201",
    # Figure 10: alpn="f\\\\oo\\,bar,h2": one alpn-id "f\oo,bar" with a backslash and a comma
    "16 foo.example.org alpn=f\\\\oo\\,bar,h2": "0010"
    + FOO_ORG
    + "0001000c08665c6f6f2c626172026832",
}


def https_response(rdata: bytes, rtype: int = RRType.HTTPS, qname: str = "example.com") -> bytes:
    data = header(0xBEEF, 0x8180, qd=1, an=1) + question(name(qname), rtype)
    return data + rr(b"\xc0\x0c", rtype, rdata)


@pytest.mark.parametrize(("presentation", "wire"), RFC9460_D2.items())
def test_rfc9460_servicemode_vectors(presentation: str, wire: str) -> None:
    (record,) = parse_message(https_response(bytes.fromhex(wire), RRType.SVCB)).answers
    assert record.error == "" and record.svcb is not None
    assert record.value == presentation


def test_rfc9460_figure9_fields() -> None:
    wire = bytes.fromhex(
        RFC9460_D2["16 foo.example.org mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1"]
    )
    svcb = parse_message(https_response(wire)).answers[0].svcb
    assert svcb is not None
    assert (svcb.priority, svcb.target, svcb.alpn, svcb.ipv4hint) == (
        16,
        "foo.example.org",
        ("h2", "h3-19"),
        ("192.0.2.1",),
    )
    assert svcb.keys == (0, 1, 4) and svcb.mandatory == (1, 4) and not svcb.ech_config_present


def test_https_with_ech_and_alpn() -> None:
    # Hand-built ServiceMode HTTPS RR in the shape Cloudflare publishes: alpn, ipv4hint, ech
    # (key 5, RFC 9460 section 9 / RFC 9849: an ECHConfigList), ipv6hint.
    ech_config_list = bytes.fromhex("0045fe0d0041") + bytes(0x41)
    rdata = b"\x00\x01\x00"
    rdata += b"\x00\x01\x00\x06\x02h3\x02h2"
    rdata += b"\x00\x04\x00\x04" + bytes([104, 18, 10, 118])
    rdata += b"\x00\x05" + struct.pack("!H", len(ech_config_list)) + ech_config_list
    rdata += b"\x00\x06\x00\x10" + bytes.fromhex("26064700000000000000000068120a76")
    query = header(0xBEEF, 0x0100, qd=1) + question(name("crypto.example"), RRType.HTTPS)
    rows = dissect(udp_view((True, query), (False, https_response(rdata, qname="crypto.example"))))
    (row,) = only(rows, DnsRow)
    assert row.qtype == "HTTPS" and row.ech_config_present and row.https_alpn == "h3;h2"
    assert row.answers == "1 . alpn=h3,h2 ipv4hint=104.18.10.118 ech ipv6hint=2606:4700::6812:a76"
    assert "ech" in row.answers.split()


@pytest.mark.parametrize(
    "rdata",
    [
        b"\x00\x01\x00"
        + b"\x00\x04\x00\x04\x01\x02\x03\x04"
        + b"\x00\x01\x00\x03\x02h2",  # unsorted
        b"\x00\x01\x00" + b"\x00\x01\x00\x03\x02h2" + b"\x00\x01\x00\x03\x02h2",  # duplicate key
        b"\x00\x01\x00" + b"\x00\x04\x00\x03\x01\x02\x03",  # ipv4hint not a multiple of 4
        b"\x00\x01\x00" + b"\x00\x01\x00\x09\x02h2",  # value runs past RDATA
        b"\x00\x01\x00" + b"\x00\x01\x00\x01\x00",  # empty alpn-id
        b"\x00\x01",  # no TargetName
    ],
)
def test_malformed_svcb_is_flagged(rdata: bytes) -> None:
    (record,) = parse_message(https_response(rdata)).answers
    assert record.svcb is None and record.error and record.value == f"\\# {len(rdata)}"


# -- the dissector: mDNS, LLMNR, TCP, odd ports ----------------------------------------------


def test_mdns_multi_question_query_and_unsolicited_style_answer() -> None:
    query = header(0, 0, qd=2) + question(name("_googlecast._tcp.local"), 12, 0x8001)
    query += question(name("_spotify-connect._tcp.local"), 12, 1)
    # RFC 6762 section 6: responses carry no question; the cache-flush bit is set on the class
    answer = header(0, 0x8400, an=1) + rr(
        name("_googlecast._tcp.local"),
        12,
        name("tv._googlecast._tcp.local"),
        ttl=120,
        rclass=0x8001,
    )
    view = udp_view((True, query), (False, answer), orig_p=5353, resp_p=5353)
    rows = dissect(view)
    dns_rows = only(rows, DnsRow)
    assert [(r.query, r.transport_label, r.response_frame) for r in dns_rows] == [
        ("_googlecast._tcp.local", "mdns", 2),
        ("_spotify-connect._tcp.local", "mdns", None),
    ]
    assert dns_rows[0].answers == "tv._googlecast._tcp.local" and dns_rows[0].answer_types == "PTR"
    (ans,) = only(rows, DnsAnswerRow)
    assert ans.query == "" and ans.rr_name == "_googlecast._tcp.local"


def test_mdns_announcement_without_query_gives_a_row() -> None:
    answer = header(0, 0x8400, an=1) + rr(
        name("printer.local"), 1, bytes([10, 0, 0, 9]), rclass=0x8001
    )
    (row,) = only(dissect(udp_view((True, answer), orig_p=5353, resp_p=5353)), DnsRow)
    assert row.query == "" and row.qtype == "" and row.answers == "10.0.0.9"


def test_llmnr_label() -> None:
    query = header(77, 0, qd=1) + question(name("wpad"))
    (row,) = only(dissect(udp_view((True, query), orig_p=51000, resp_p=5355)), DnsRow)
    assert row.transport_label == "llmnr" and row.query == "wpad"


def test_dns_over_tcp_split_and_coalesced_messages() -> None:
    q1 = header(1, 0x0100, qd=1) + question(name("a.example"))
    q2 = header(2, 0x0100, qd=1) + question(name("b.example"), 28)
    r1 = header(1, 0x8180, qd=1, an=1) + question(name("a.example")) + rr(b"\xc0\x0c", 1, bytes(4))
    r2 = header(2, 0x8183, qd=1) + question(name("b.example"), 28)
    wire_q = struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2
    wire_r = struct.pack("!H", len(r1)) + r1 + struct.pack("!H", len(r2)) + r2
    orig = stream((4, 1.0, wire_q[:1]), (5, 1.1, wire_q[1:20]), (6, 1.2, wire_q[20:]))  # split
    resp = stream((7, 1.5, wire_r))  # both responses in one segment
    view = FlowView("Ctcp", "tcp", "10.0.0.1", 41000, "10.0.0.53", 53, 1.0, (), orig, resp)
    rows = dissect(view)
    dns_rows = only(rows, DnsRow)
    assert [(r.query, r.proto, r.frame, r.response_frame, r.rcode) for r in dns_rows] == [
        ("a.example", "tcp", 4, 7, "NOERROR"),
        ("b.example", "tcp", 6, 7, "NXDOMAIN"),
    ]
    assert dns_rows[0].rtt_ms == pytest.approx(500.0) and not only(rows, WeirdRow)


def test_dns_over_tcp_cut_message_is_weird() -> None:
    q1 = header(1, 0x0100, qd=1) + question(name("a.example"))
    orig = stream((4, 1.0, struct.pack("!H", len(q1) + 5) + q1))
    view = FlowView("Ctcp", "tcp", "10.0.0.1", 41000, "10.0.0.53", 53, 1.0, (), orig)
    (bad,) = only(dissect(view), WeirdRow)
    assert bad.name == "dns_tcp_cut" and bad.source == "dns"


def test_dns_on_an_unusual_port_needs_a_full_exchange() -> None:
    query = header(0x2A, 0x0100, qd=1) + question(name("us.pool.ntp.org"))
    response = header(0x2A, 0x8180, qd=1, an=1) + question(name("us.pool.ntp.org"))
    response += rr(b"\xc0\x0c", 1, bytes([67, 129, 68, 9]))
    (row,) = only(
        dissect(udp_view((True, query), (False, response), orig_p=65282, resp_p=65333)), DnsRow
    )
    assert row.query == "us.pool.ntp.org" and row.transport_label == "dns"
    assert dissect(udp_view((True, query), orig_p=65282, resp_p=65333)) == []
    assert dissect(udp_view((True, query), (False, response), orig_p=5000, resp_p=853)) == []


def test_garbage_on_port_53_is_weird_not_an_exception() -> None:
    rows = dissect(udp_view((True, b"\x00\x01\x00"), (True, header(1, 0, qd=1) + b"\xc0\x0c")))
    assert [r.name for r in only(rows, WeirdRow)] == ["dns_truncated", "dns_bad_pointer"]


def test_not_dns_flows_are_skipped() -> None:
    nbns_query = header(0x2A, 0x0110, qd=1) + question(b"\x20" + b"CK" + b"A" * 30 + b"\x00", 0x20)
    nbns_reply = header(0x2A, 0x8500, qd=1) + question(b"\x20" + b"CK" + b"A" * 30 + b"\x00", 0x20)
    assert dissect(udp_view((True, nbns_query), (False, nbns_reply), orig_p=137, resp_p=137)) == []
    assert dissect(udp_view((True, b"\x16\xfe\xfd" + bytes(40)), orig_p=40000, resp_p=443)) == []
    tls = stream((1, 1.0, b"\x16\x03\x01\x02\x00" + bytes(100)))
    assert dissect(FlowView("C", "tcp", "a", 1, "b", 443, 1.0, (), tls)) == []


# -- encrypted DNS helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("dns.google", True),
        ("Mozilla.Cloudflare-DNS.com.", True),
        ("security.cloudflare-dns.com", True),
        ("dns.quad9.net", True),
        ("doh.opendns.com", True),
        ("dns.adguard-dns.com", True),
        ("abc123.dns.nextdns.io", True),
        ("quad9.net", False),
        ("google.com", False),
        ("notcloudflare-dns.com", False),
        ("zoom.us", False),
    ],
)
def test_doh_resolver(host: str, expected: bool) -> None:
    assert doh_resolver(host) is expected


def test_encrypted_dns_label() -> None:
    assert encrypted_dns_label("tcp", 50000, 853) == "dot"
    assert encrypted_dns_label("udp", 853, 50000) == "doq"
    assert encrypted_dns_label("udp", 50000, 8853, alpns=["doq"]) == "doq"
    assert encrypted_dns_label("tcp", 50000, 443, alpns=["h2"]) == ""
    assert encrypted_dns_label("tcp", 50000, 53) == ""


# -- properties ------------------------------------------------------------------------------------

VALID = [cname_chain_response(), https_response(bytes.fromhex(next(iter(RFC9460_D2.values()))))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), mutated()), st.booleans())
def test_parse_message_any_bytes(data: bytes, lenient: bool) -> None:
    try:
        msg = parse_message(data, lenient=lenient)
    except ParseError:
        return
    for record in (*msg.answers, *msg.authorities, *msg.additionals):
        assert ";" not in record.value and record.value.isascii()
    assert all(q.name.isprintable() for q in msg.questions)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.booleans(), st.one_of(st.binary(max_size=120), mutated())), max_size=6),
    st.sampled_from([53, 5353, 5355, 137, 853, 1234]),
    st.sampled_from(["udp", "tcp"]),
)
def test_dissect_never_raises(items: list[tuple[bool, bytes]], port: int, proto: str) -> None:
    if proto == "udp":
        view = udp_view(*items, resp_p=port)
    else:
        orig = stream(*[(i + 1, float(i), p) for i, (o, p) in enumerate(items) if o])
        resp = stream(
            *[
                (i + 1, float(i), struct.pack("!H", len(p)) + p)
                for i, (o, p) in enumerate(items)
                if not o
            ]
        )
        view = FlowView("C", "tcp", "a", 4000, "b", port, 0.0, (), orig, resp)
    for row in dissect(view):
        assert isinstance(row, DnsRow | DnsAnswerRow | WeirdRow)
        if isinstance(row, DnsRow) and row.rtt_ms is not None:
            assert not math.isnan(row.rtt_ms)


def test_encrypted_dns_labels() -> None:
    from inspector.dissect.dns import encrypted_dns_label

    assert encrypted_dns_label("udp", 50000, 784, ["doq-i00"]) == "doq"
    assert encrypted_dns_label("tcp", 50000, 853) == "dot"
    assert encrypted_dns_label("udp", 50000, 853) == "doq"
    assert encrypted_dns_label("tcp", 50000, 443, ["h2"]) == ""
