"""STUN/TURN parsing (RFC 8489/8656, RFC 3489), vendor hints, TCP framing and the stun table."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import struct
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import stun
from inspector.dissect.stun import dissect, parse_stun, split_tcp, vendor_hint
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.schema.stun import StunRow
from inspector.schema.weird import WeirdRow

# RFC 5769 section 2.1: sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
# MESSAGE-INTEGRITY, FINGERPRINT); password VOkJxbRl1RmTxUk/WvJxBt.
RFC5769_REQUEST = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "80220010" + b"STUN test client".hex() + "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a68367659202020"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf"
)
# RFC 5769 section 2.2: IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
RFC5769_V4 = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96"
)
# RFC 5769 section 2.3: IPv6 response, XOR-MAPPED-ADDRESS
# [2001:db8:1234:5678:11:2233:4455:6677]:32853.
RFC5769_V6 = bytes.fromhex(
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c"
)
# RFC 5769 section 2.4: request with long-term authentication (USERNAME, NONCE, REALM, M-I).
RFC5769_LONG_TERM = bytes.fromhex(
    "000100602112a44278ad3433c6ad72c029da412e"
    "00060012e3839ee38388e383aae38383e382afe382b90000"
    "0015001c662f2f3439396b39353464364f4c33346f4c39465354767936347341"
    "0014000b6578616d706c652e6f726700"
    "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666"
)
PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
TID = bytes.fromhex("b7e7a701bc34d686fa87dfae")


def build(msg_type: int, attrs: list[tuple[int, bytes]], tid: bytes = TID, *, cookie: bool = True,
          pad: bool = True, fingerprint: bool = False) -> bytes:  # fmt: skip
    """A STUN message; with ``cookie=False`` the classic 16-byte ID is ``tid`` zero-padded."""
    body = b""
    for t, v in attrs:
        body += struct.pack("!HH", t, len(v)) + v + (b"\0" * (-len(v) % 4) if pad else b"")
    head_id = (b"\x21\x12\xa4\x42" + tid) if cookie else (tid + b"\0" * 16)[:16]
    if fingerprint:
        length = len(body) + 8
        partial = struct.pack("!HH", msg_type, length) + head_id + body
        crc = zlib.crc32(partial) ^ 0x5354554E
        return partial + struct.pack("!HHI", 0x8028, 4, crc)
    return struct.pack("!HH", msg_type, len(body)) + head_id + body


def xor_addr_v4(ip: bytes, port: int) -> bytes:
    cookie = b"\x21\x12\xa4\x42"
    return (
        b"\x00\x01"
        + struct.pack("!H", port ^ 0x2112)
        + bytes(a ^ b for a, b in zip(ip, cookie, strict=True))
    )


def udp_view(*payloads: tuple[bool, bytes], uid: str = "Cstun") -> FlowView:
    dgs = tuple(Datagram(i + 1, 100.0 + i, o, p) for i, (o, p) in enumerate(payloads))
    return FlowView(uid, "udp", "10.0.0.1", 50000, "198.51.100.9", 3478, 100.0, dgs)


# --- RFC 5769 vectors ---------------------------------------------------------------------------


def test_rfc5769_sample_request() -> None:
    m = parse_stun(RFC5769_REQUEST)
    assert (m.method_name, m.class_name, m.msg_type) == ("binding", "request", 0x0001)
    assert not m.classic and m.transaction_id == TID
    assert m.software == "STUN test client"
    assert m.username == "evtj:h6vY"
    assert m.priority == 0x6E0001FF
    assert m.ice_role == "controlled"
    assert m.message_integrity and m.fingerprint_ok is True
    assert m.attr_types == (0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028)
    assert m.vendor_attrs == ()
    # The vector's MESSAGE-INTEGRITY really is HMAC-SHA1 over the message up to it (RFC 8489
    # section 14.5), so the bytes above are the RFC's.
    at = next(a.offset for a in m.attributes if a.type == 0x0008)
    head = bytearray(RFC5769_REQUEST[:at])
    head[2:4] = struct.pack("!H", at + 24 - 20)
    mac = hmac.new(PASSWORD, bytes(head), hashlib.sha1).digest()
    assert mac == RFC5769_REQUEST[at + 4 : at + 24]


def test_rfc5769_ipv4_response() -> None:
    m = parse_stun(RFC5769_V4)
    assert (m.method_name, m.class_name) == ("binding", "success")
    assert m.software == "test vector"
    assert m.xor_mapped == ("192.0.2.1:32853",)
    assert m.fingerprint_ok is True and m.message_integrity


def test_rfc5769_ipv6_response() -> None:
    m = parse_stun(RFC5769_V6)
    assert m.xor_mapped == ("[2001:db8:1234:5678:11:2233:4455:6677]:32853",)
    assert m.fingerprint_ok is True


def test_rfc5769_long_term_auth() -> None:
    m = parse_stun(RFC5769_LONG_TERM)
    assert m.username == "\u30de\u30c8\u30ea\u30c3\u30af\u30b9"
    assert m.realm == "example.org"
    assert m.nonce_present and m.message_integrity
    assert m.fingerprint_ok is None  # no FINGERPRINT attribute


def test_corrupted_fingerprint_is_reported_false() -> None:
    bad = bytearray(RFC5769_V4)
    bad[-1] ^= 0xFF
    assert parse_stun(bytes(bad)).fingerprint_ok is False


# --- header checks ------------------------------------------------------------------------------


def test_header_errors() -> None:
    for data, name in (
        (RFC5769_V4[:19], "stun_short"),
        (RFC5769_V4 + b"\0\0\0\0", "stun_length"),
        (b"\xc0" + RFC5769_V4[1:], "stun_not_stun"),
    ):
        try:
            parse_stun(data)
        except ParseError as err:
            assert err.name == name
        else:
            raise AssertionError(f"{name} accepted")


def test_attributes_must_tile() -> None:
    msg = bytearray(build(0x0001, [(0x0006, b"abcd")]))
    msg[22:24] = struct.pack("!H", 40)  # attribute claims 40 bytes
    try:
        parse_stun(bytes(msg))
    except ParseError as err:
        assert err.name == "stun_bad_attributes"
    else:
        raise AssertionError("overrunning attribute accepted")


def test_unpadded_attributes_ms_turn_style() -> None:
    # MS-TURN (teams.pcap) sends odd-length attributes without padding.
    msg = build(0x0113, [(0x0009, b"\0\0\x04\x01Unauthorized!"), (0x000E, b"\0" * 8)], pad=False)
    m = parse_stun(msg)
    assert m.error_code == 401 and m.error_reason == "Unauthorized!"
    assert m.attr_types == (0x0009, 0x000E)


def test_classic_rfc3489_binding() -> None:
    tid16 = bytes(range(16))
    mapped = b"\x00\x01" + struct.pack("!H", 3478) + bytes([203, 0, 113, 5])
    msg = build(0x0101, [(0x0001, mapped)], tid16, cookie=False)
    m = parse_stun(msg)
    assert m.classic and m.transaction_id == tid16
    assert m.mapped == ("203.0.113.5:3478",)
    assert (m.method_name, m.class_name) == ("binding", "success")


def test_classic_requires_known_type() -> None:
    msg = build(0x0035, [(0x0006, b"abcd")], bytes(16), cookie=False)
    try:
        parse_stun(msg)
    except ParseError as err:
        assert err.name == "stun_not_stun"
    else:
        raise AssertionError("classic message with unknown type accepted")


# --- TURN --------------------------------------------------------------------------------------


def test_turn_allocate_and_relay_attributes() -> None:
    req = parse_stun(build(0x0003, [(0x0019, b"\x11\0\0\0"), (0x000D, struct.pack("!I", 600))]))
    assert (req.method_name, req.requested_transport, req.lifetime) == ("allocate", 17, 600)
    err = parse_stun(build(0x0113, [(0x0009, b"\0\0\x04\x26Stale Nonce"), (0x0015, b"n" * 8),
                                    (0x0014, b"example.org")]))  # fmt: skip
    assert (err.class_name, err.error_code, err.nonce_present) == ("error", 438, True)
    ok = parse_stun(build(0x0103, [(0x0016, xor_addr_v4(bytes([198, 51, 100, 7]), 49152))]))
    assert ok.xor_relayed == ("198.51.100.7:49152",)
    perm = parse_stun(build(0x0008, [(0x0012, xor_addr_v4(bytes([203, 0, 113, 9]), 5000))]))
    assert perm.method_name == "create_permission" and perm.xor_peer == ("203.0.113.9:5000",)
    bind = parse_stun(build(0x0009, [(0x000C, b"\x40\x01\0\0")]))
    assert bind.method_name == "channel_bind" and bind.channel_number == 0x4001


def test_xor_peer_ipv6_uses_transaction_id() -> None:
    ip = bytes.fromhex("20010db8000000000000000000000042")
    key = b"\x21\x12\xa4\x42" + TID
    value = (
        b"\x00\x02"
        + struct.pack("!H", 443 ^ 0x2112)
        + bytes(a ^ b for a, b in zip(ip, key, strict=True))
    )
    m = parse_stun(build(0x0016, [(0x0012, value), (0x0013, b"hello")]))
    assert m.xor_peer == ("[2001:db8::42]:443",)
    assert (m.method_name, m.class_name, m.data) == ("send", "indication", b"hello")


def test_bad_address_family_raises() -> None:
    try:
        parse_stun(build(0x0101, [(0x0020, b"\x00\x07\0\0\0\0\0\0")]))
    except ParseError as err:
        assert err.name == "stun_bad_address"
    else:
        raise AssertionError("family 7 accepted")


def test_ice_attributes() -> None:
    m = parse_stun(build(0x0001, [(0x0025, b""), (0x802A, b"\1" * 8), (0x0024, b"\0\0\0\x10")]))
    assert m.use_candidate and m.ice_role == "controlling" and m.priority == 16


def test_goog_ping_method() -> None:
    m = parse_stun(build(0x0200, []))
    assert m.method_name == "goog_ping" and m.class_name == "request"
    assert vendor_hint(m) == "google"


# --- vendor hints -------------------------------------------------------------------------------


def test_vendor_hints() -> None:
    cases = {
        "zoom": build(0x0001, [(0x0101, b"12345678")]),
        "microsoft": build(0x0001, [(0x8070, b"\0\0\0\x03")]),
        "whatsapp": build(0x0003, [(0x4000, b"\0\0\0\0")]),
        "google": build(0x0001, [(0xFF03, b"\0\0\0\0")]),
        "signal": build(0x0003, [(0x0014, b"turn3.signal.org")]),
        "facebook": build(0x0003, [(0x8022, b"facebook TURN")]),
        "telegram": build(0x0003, [(0x0014, b"telegram.org")]),
        "viber": build(0x0003, [(0x0014, b"viber.com")]),
        "": RFC5769_REQUEST,
    }
    for expected, msg in cases.items():
        assert vendor_hint(parse_stun(msg)) == expected, expected
    assert vendor_hint(parse_stun(build(0x0800, []))) == "whatsapp"
    assert vendor_hint(parse_stun(build(0x0001, [(0x0014, b"x.google.com")]))) == "google"
    assert vendor_hint(parse_stun(build(0x0001, [(0x8054, b"\1\0\0\0")]))) == "microsoft"
    # MS-IMPLEMENTATION-VERSION outside 1..15 is not taken as Microsoft.
    assert vendor_hint(parse_stun(build(0x0001, [(0x8070, b"\0\1\0\0")]))) == ""


def test_vendor_attrs_are_unregistered_types() -> None:
    m = parse_stun(build(0x0001, [(0x0006, b"a:b"), (0x0101, b"x"), (0x8070, b"\0\0\0\7")]))
    assert m.vendor_attrs == (0x0101, 0x8070)


# --- TCP framing --------------------------------------------------------------------------------


def test_split_tcp_back_to_back_rfc4571_and_channel_data() -> None:
    a, b = RFC5769_REQUEST, RFC5769_V4
    assert [(o, f) for o, _m, f in split_tcp(a + b)] == [(0, "plain"), (len(a), "plain")]
    framed = struct.pack("!H", len(a)) + a + struct.pack("!H", len(b)) + b
    assert [(o, f) for o, _m, f in split_tcp(framed)] == [(2, "rfc4571"), (4 + len(a), "rfc4571")]
    chan = b"\x40\x01\x00\x05hello\0\0\0"
    out = split_tcp(a + chan + b)
    assert out[1] == (len(a) + 4, b"hello", "turn_channel") and out[2][0] == len(a) + 12
    assert split_tcp(chan + a) == []  # no ChannelData before the first STUN message
    assert split_tcp(b"GET / HTTP/1.1\r\n" * 3000) == []
    assert split_tcp(a + b[:30]) == [(0, a, "plain")]  # a cut message ends the walk


# --- dissect ------------------------------------------------------------------------------------


def test_dissect_udp_rows() -> None:
    rows = dissect(udp_view((True, RFC5769_REQUEST), (False, RFC5769_V4), (True, b"\x99" * 40)))
    assert [type(r) for r in rows] == [StunRow, StunRow]
    req, resp = rows
    assert (req.frame, req.from_orig, req.transport, req.framing) == (1, True, "udp", "plain")
    assert (req.method, req.msg_class, req.msg_type) == ("binding", "request", 1)
    assert req.transaction_id == TID.hex() and req.classic is False
    assert req.username == "evtj:h6vY" and req.ice_role == "controlled"
    assert req.fingerprint_ok is True and req.vendor_hint == ""
    assert req.attrs == "0x8022;0x0024;0x8029;0x0006;0x0008;0x8028"
    assert resp.xor_mapped == "192.0.2.1:32853" and resp.from_orig is False
    assert resp.error_code is None and resp.priority is None


def test_dissect_relay_framings() -> None:
    inner = RFC5769_REQUEST
    chan = b"\x40\x00" + struct.pack("!H", len(inner)) + inner
    ms = b"\xff\x10" + struct.pack("!H", len(inner) + 8) + b"\0" * 8 + inner
    send = build(0x0016, [(0x0012, xor_addr_v4(bytes([203, 0, 113, 1]), 9)), (0x0013, inner)])
    rows = dissect(udp_view((True, chan), (True, ms), (True, send)))
    assert [(r.frame, r.framing, r.method) for r in rows] == [
        (1, "turn_channel", "binding"),
        (2, "ms_turn", "binding"),
        (3, "plain", "send"),
        (3, "stun_data", "binding"),
    ]
    assert rows[2].xor_peer == "203.0.113.1:9"


def test_dissect_tcp_back_to_back_messages() -> None:
    a, b = RFC5769_REQUEST, RFC5769_LONG_TERM
    orig = Stream(a + b, ((0, 4, 10.0), (len(a), 5, 10.5)))
    view = FlowView(
        "Ctcp", "tcp", "10.0.0.1", 5000, "10.0.0.2", 3478, 10.0, (), orig, Stream(b"", ())
    )
    rows = dissect(view)
    assert [(r.frame, r.ts, r.transport, r.framing) for r in rows] == [
        (4, 10.0, "tcp", "plain"),
        (5, 10.5, "tcp", "plain"),
    ]
    assert rows[1].realm == "example.org"


def test_dissect_caps_rows_and_reports_once() -> None:
    msgs = [(True, build(0x0001, [], TID[:8] + struct.pack("!I", i))) for i in range(250)]
    rows = dissect(udp_view(*msgs))
    stun_rows = [r for r in rows if isinstance(r, StunRow)]
    capped = [r for r in rows if isinstance(r, WeirdRow)]
    assert len(stun_rows) == stun.MAX_ROWS_PER_FLOW
    assert len(capped) == 1 and capped[0].name == "stun_rows_capped"
    assert capped[0].detail.startswith("50 ")


def test_dissect_reports_broken_cookie_message_as_weird() -> None:
    bad = bytearray(RFC5769_V4)
    bad[22:24] = b"\x01\x00"  # first attribute now overruns
    rows = dissect(udp_view((True, bytes(bad))))
    assert len(rows) == 1 and isinstance(rows[0], WeirdRow)
    assert rows[0].name == "stun_stun_bad_attributes" and rows[0].frame == 1


def test_dissect_ignores_non_stun() -> None:
    assert dissect(udp_view((True, b"\x17\xfe\xfd" + b"\0" * 40), (True, b"\x80" * 30))) == []


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_parse_stun_any_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_stun(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0x3FFF), st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40)),
       max_size=6), st.booleans(), st.booleans())  # fmt: skip
def test_parse_stun_valid_headers_random_attributes(
    mtype: int, attrs: list[tuple[int, bytes]], cookie: bool, pad: bool
) -> None:
    msg = build(mtype, attrs, cookie=cookie, pad=pad)
    try:
        m = parse_stun(msg)
    except ParseError:
        return
    assert m.msg_type == mtype
    vendor_hint(m)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_split_tcp_any_bytes(data: bytes) -> None:
    for off, msg, _framing in split_tcp(data):
        assert 0 <= off <= len(data) and len(msg) <= len(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=120)), max_size=12),
       st.sampled_from(["udp", "tcp"]))  # fmt: skip
def test_dissect_random_views_never_raise(dgs: list[tuple[bool, bytes]], proto: str) -> None:
    datagrams = tuple(Datagram(i + 1, float(i), o, p) for i, (o, p) in enumerate(dgs))
    data = b"".join(p for _o, p in dgs)
    view = FlowView("Cx", proto, "a", 1, "b", 2, 0.0, datagrams, Stream(data, ((0, 1, 0.0),)))
    for row in dissect(view):
        assert isinstance(row, StunRow | WeirdRow)
