"""QUIC packets as bytes: long headers, unprotection, frames and CRYPTO reassembly."""

from __future__ import annotations

import contextlib
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.quic_crypto import QuicVersion, initial_keys
from inspector.dissect.quic_packet import (
    CryptoBuffer,
    FrameType,
    PacketType,
    decode_packet_number,
    handshake_message,
    parse_frames,
    parse_long_header,
    reassemble,
    split_datagram,
    unprotect,
)
from inspector.dissect.tls_ext import parse_client_hello
from inspector.errors import ParseError
from tests.dissect.quic_build import (
    V1,
    V2,
    ack_frame,
    crypto_frame,
    protect_long,
    retry_packet,
    varint,
)

DCID = bytes.fromhex("8394c8f03e515708")

# RFC 9001 Appendix A.2 / RFC 9369 Appendix A.2: the client's CRYPTO frame (both versions).
CLIENT_CRYPTO_FRAME = bytes.fromhex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c0000"
    "0413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a0008000600"
    "1d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47f"
    "babaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e04030503"
    "06030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff"
    "07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff"
)

# RFC 9001 Appendix A.2: the protected client Initial (1200 bytes).
RFC9001_CLIENT = bytes.fromhex(
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d"
    "92ec356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262c"
    "ad67500cadb8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c8"
    "3711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844a"
    "e812154682e9cf012f9021a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5"
    "a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3485e8a"
    "94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39be2e"
    "20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f6"
    "81d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556be52afe3"
    "f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3"
    "e7fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44"
    "546b9d90ca00f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a4182"
    "11cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f0"
    "5796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff"
    "18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f9f25"
    "41010ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de3725"
    "2d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20"
    "dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450efc60ac47683d7b"
    "8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a071b85"
    "1e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547"
    "926cd2162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439"
    "ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb"
    "909271a6ecbcb58b936a88cd4e8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f"
    "76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49a"
    "d5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425ac"
    "a26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731"
    "b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd46840647e78bfe706ca4cf5e9c5"
    "453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934"
)

# RFC 9001 Appendix A.3: the protected server Initial, and its plaintext (ACK + ServerHello).
RFC9001_SERVER = bytes.fromhex(
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c6979"
    "7554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f"
    "3bded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc421"
    "58407dd074ee"
)
SERVER_PAYLOAD = bytes.fromhex(
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b"
    "9a045a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d53"
    "11bcf32bb9da1a002b00020304"
)

# RFC 9369 Appendix A.2: the protected v2 client Initial (1200 bytes).
RFC9369_CLIENT = bytes.fromhex(
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485dd04de806071bf03dceebf"
    "a162e75d6c96058bdbfb127cdfcbf903388e99ad049f9a3dd4425ae4d0992cfff18ecf0fdb5a842d097470"
    "52f17ac2053d21f57c5d250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a12"
    "834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500cb9122faa9f1df66c392079a"
    "1b40f0de1c6054196a11cbea40afb6ef5253cd6818f6625efce3b6def6ba7e4b37a40f7732e093daa7d521"
    "90935b8da58976ff3312ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3d396"
    "ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd6f7521a3f6c7d5dd3ec9b3f233"
    "773d4b46d23cc375eb198c63301c21801f6520bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d"
    "2dcbb90c6b877045636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1fac7cf4"
    "ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c1216ccce2d0193f958bb3850a833f7"
    "ae432b65bc5a53975c155aa4bcb4f7b2c4e54df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe19"
    "35e0491d77ffb4fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b8017c25c"
    "a9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de714d19d61370f8149748c72f132f0fc"
    "99f34d766c6938597040d8f9e2bb522ff99c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151"
    "adfeceb51b91abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd80bf4dc8b5"
    "2a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db848265e3e5eb72dfe8299ad7481a4083"
    "22cac55786e52f633b2fb6b614eaed18d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb4170"
    "0b41f90a15c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc7e27a096d37a"
    "1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61f6b5b984d4d3dfa033c1bb7e4f0037febf"
    "406d91c0dccf32acf423cfa1e7071010d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f"
    "2f13458b3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e06ebfde206bfb0"
    "fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce8dfce39ab71e7c32d318d136b6100671a1ae"
    "6a6600e3899f31f0eed19e3417d134b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd"
    "52fdf1e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd5d3b22dc2be80919"
    "b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e38d209d0fa6536d27a5d6fbb17641cde27525d6"
    "1093f1b28072d111b2b4ae5f89d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf"
    "4b536f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb199a37ddec600545473c"
    "fb5a05e08d0b209973b2172b4d21fb69745a262ccde96ba18b2faa745b6fe189cf772a9f84cbfc"
)

# RFC 9369 Appendix A.3: the v2 server Initial (same plaintext as above).
RFC9369_SERVER = bytes.fromhex(
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698baeea26b91eb761d9b8923"
    "7bbf87263017915358230035f7fd3945d88965cf17f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a"
    "393e42757507698075b2c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca84b"
    "ed8521e2e140"
)


def test_rfc9001_a2_client_initial_header() -> None:
    """RFC 9001 Appendix A.2: the long header of the client Initial."""
    hdr = parse_long_header(RFC9001_CLIENT)
    assert hdr.version == QuicVersion.V1
    assert hdr.packet_type == PacketType.INITIAL
    assert hdr.dcid == DCID and hdr.scid == b"" and hdr.token == b""
    assert hdr.pn_offset == 18 and hdr.end == 1200


def test_rfc9001_a2_client_initial_decrypts_to_the_crypto_frame() -> None:
    """RFC 9001 Appendix A.2: unprotected pn 2, payload = the CRYPTO frame then PADDING."""
    pkt = unprotect(RFC9001_CLIENT, parse_long_header(RFC9001_CLIENT), initial_keys(V1, DCID))
    assert pkt.packet_number == 2 and pkt.pn_len == 4 and pkt.first_byte == 0xC3
    assert pkt.payload == CLIENT_CRYPTO_FRAME + bytes(1162 - len(CLIENT_CRYPTO_FRAME))
    frames = parse_frames(pkt.payload)
    assert frames.types == (FrameType.CRYPTO, FrameType.PADDING)
    (cf,) = frames.crypto
    assert cf.offset == 0 and cf.data == CLIENT_CRYPTO_FRAME[4:]
    msg = handshake_message(cf.data)
    assert msg is not None and msg[0] == 1
    ch = parse_client_hello(msg[1])
    assert ch.sni == "example.com" and ch.alpn == ("alpn",)


def test_rfc9001_a2_test_encryptor_rebuilds_the_packet() -> None:
    """The test-side encryptor reproduces RFC 9001 Appendix A.2 byte for byte."""
    payload = CLIENT_CRYPTO_FRAME + bytes(1162 - len(CLIENT_CRYPTO_FRAME))
    assert protect_long(payload, key_dcid=DCID, pn=2) == RFC9001_CLIENT


def test_rfc9001_a3_server_initial() -> None:
    """RFC 9001 Appendix A.3: server keys from the client's DCID; ACK + CRYPTO(ServerHello)."""
    hdr = parse_long_header(RFC9001_SERVER)
    assert hdr.dcid == b"" and hdr.scid.hex() == "f067a5502a4262b5"
    pkt = unprotect(RFC9001_SERVER, hdr, initial_keys(V1, DCID, server=True))
    assert pkt.packet_number == 1 and pkt.payload == SERVER_PAYLOAD
    frames = parse_frames(pkt.payload)
    assert frames.types == (FrameType.ACK, FrameType.CRYPTO)
    assert frames.acks[0].ranges == ((0, 0),)
    assert frames.crypto[0].data[0] == 2  # ServerHello


def test_rfc9369_a2_v2_client_initial() -> None:
    """RFC 9369 Appendix A.2: type bits 0b01, quicv2 keys; same CRYPTO frame as v1."""
    payload = CLIENT_CRYPTO_FRAME + bytes(1162 - len(CLIENT_CRYPTO_FRAME))
    assert protect_long(payload, version=V2, key_dcid=DCID, pn=2) == RFC9369_CLIENT
    hdr = parse_long_header(RFC9369_CLIENT)
    assert hdr.packet_type == PacketType.INITIAL and hdr.version == QuicVersion.V2
    assert RFC9369_CLIENT[0] & 0x30 == 0x10  # v2 Initial type bits 0b01
    pkt = unprotect(RFC9369_CLIENT, hdr, initial_keys(V2, DCID))
    assert pkt.packet_number == 2 and pkt.payload == payload


def test_rfc9369_a3_v2_server_initial() -> None:
    """RFC 9369 Appendix A.3: the v2 server Initial decrypts to the RFC 9001 A.3 plaintext."""
    hdr = parse_long_header(RFC9369_SERVER)
    assert hdr.packet_type == PacketType.INITIAL
    pkt = unprotect(RFC9369_SERVER, hdr, initial_keys(V2, DCID, server=True))
    assert pkt.payload == SERVER_PAYLOAD and pkt.packet_number == 1


def test_wrong_keys_fail_as_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        unprotect(RFC9001_CLIENT, parse_long_header(RFC9001_CLIENT), initial_keys(V1, b"\x00" * 8))
    assert info.value.name == "decrypt_failed"


def test_coalesced_initial_and_handshake_then_padding() -> None:
    initial = protect_long(crypto_frame(0, b"x" * 50), key_dcid=DCID, scid=b"\x01\x02")
    handshake = protect_long(b"\x01" * 40, key_dcid=DCID, kind="handshake")
    packets = split_datagram(initial + handshake + bytes(300))
    assert [p.packet_type for p in packets] == [PacketType.INITIAL, PacketType.HANDSHAKE]
    assert packets[0].end == len(initial) == packets[1].start
    assert packets[1].end == len(initial) + len(handshake)


def test_garbage_after_a_packet_is_ignored() -> None:
    initial = protect_long(crypto_frame(0, b"x" * 50), key_dcid=DCID)
    for tail in (
        b"\xc0\x00\x00",
        b"\xff" * 40,
        b"\x41garbage-short-header",
        b"\xc3\x00\x00\x00\x01\x30",
    ):
        packets = split_datagram(initial + tail)
        assert len(packets) == 1 and packets[0].end == len(initial)


def test_first_packet_truncated_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        split_datagram(RFC9001_CLIENT[:600])  # Length says 1182 bytes follow


def test_version_negotiation_and_retry() -> None:
    vn = b"\x80\x00\x00\x00\x00\x04abcd\x02xy\x00\x00\x00\x01\xff\x00\x00\x1d"
    (hdr,) = split_datagram(vn)
    assert hdr.packet_type == PacketType.VERSION_NEGOTIATION and hdr.dcid == b"abcd"
    retry = retry_packet(V1, b"\x01\x02", b"newcid01", b"token!")
    (hdr,) = split_datagram(retry)
    assert hdr.packet_type == PacketType.RETRY and hdr.scid == b"newcid01"
    assert hdr.token == b"token!"
    (hdr,) = split_datagram(retry_packet(V2, b"\x01", b"s", b""))
    assert hdr.packet_type == PacketType.RETRY


def test_v1_rejects_long_connection_ids() -> None:
    bad = b"\xc0\x00\x00\x00\x01\x15" + bytes(21) + b"\x00\x00\x01\x00"
    with pytest.raises(ParseError):
        parse_long_header(bad)


def test_q046_style_header() -> None:
    data = b"\xc3Q046\x50" + b"C" * 8 + b"\x00\x00\x00\x01" + bytes(20)
    hdr = parse_long_header(data)
    assert hdr.dcid == b"C" * 8 and hdr.scid == b"" and hdr.pn_offset == 14
    assert hdr.end == len(data)


def test_frames_ack_ranges_ecn_close_and_unknown() -> None:
    payload = (
        b"\x01"  # PING
        + b"\x03"
        + varint(20)
        + varint(3)
        + varint(1)
        + varint(2)
        + varint(1)
        + varint(3)
        + varint(5)
        + varint(6)
        + varint(7)  # ACK_ECN: 18..20, gap 1, 12..15 (RFC 9000 19.3.1); ECN
        + crypto_frame(7, b"abc")
        + b"\x1c"
        + varint(0x0A)
        + varint(0x06)
        + varint(3)
        + b"bye"
        + b"\x07"
        + varint(2)
        + b"tk"  # NEW_TOKEN: not allowed in Initials
        + b"\x00\x00\x00"
        + b"\x30rest"  # DATAGRAM frame type: unknown here, parsing stops
    )
    frames = parse_frames(payload)
    assert frames.types[:4] == (
        FrameType.PING,
        FrameType.ACK_ECN,
        FrameType.CRYPTO,
        FrameType.CONNECTION_CLOSE,
    )
    ack = frames.acks[0]
    assert ack.largest == 20 and ack.ranges == ((18, 20), (12, 15)) and ack.ecn == (5, 6, 7)
    assert frames.crypto[0].offset == 7 and frames.crypto[0].data == b"abc"
    assert frames.close is not None and frames.close.reason == "bye"
    assert frames.close.frame_type == 6
    assert frames.new_token == b"tk" and frames.disallowed == (FrameType.NEW_TOKEN,)
    assert frames.stopped_at == 0x30


def test_frames_errors() -> None:
    with pytest.raises(ParseError):
        parse_frames(b"\x06\x00\x10abc")  # CRYPTO longer than the payload
    with pytest.raises(ParseError):
        parse_frames(ack_frame(1, 5))  # first range below packet 0
    with pytest.raises(ParseError):
        parse_frames(
            b"\x02" + varint(3) + varint(0) + varint(1) + varint(0) + varint(5) + varint(0)
        )


def test_decode_packet_number_rfc9000_a3() -> None:
    """RFC 9000 Appendix A.3 example: largest 0xa82f30ea, truncated 0x9b32 (16 bits)."""
    assert decode_packet_number(0x9B32, 16, 0xA82F30EA + 1) == 0xA82F9B32
    assert decode_packet_number(2, 32, 0) == 2


def test_crypto_buffer_overlaps_first_copy_wins_and_cap() -> None:
    buf = CryptoBuffer(limit=20)
    assert buf.add(5, b"FGHIJ") == 5
    assert buf.prefix == b""
    assert buf.add(0, b"abcdefg") == 5  # bytes 5,6 overlap with different content
    assert buf.prefix == b"abcdeFGHIJ" and buf.conflicts == 1
    assert buf.add(8, b"IJKL") == 2  # consistent overlap
    assert buf.prefix == b"abcdeFGHIJKL" and buf.conflicts == 1
    assert buf.add(18, b"0123") == 2 and buf.capped
    assert buf.contiguous_from(18) == b"01" and buf.received == 14


def test_handshake_message() -> None:
    assert handshake_message(b"\x01\x00\x00\x03ab") is None
    assert handshake_message(b"\x01\x00\x00\x02abXX") == (1, b"ab")
    assert handshake_message(b"\x01") is None


@st.composite
def _fragments(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, bytes]]]:
    stream = draw(st.binary(min_size=1, max_size=300))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    bounds = [0, *cuts, len(stream)]
    frags = [(a, stream[a:b]) for a, b in itertools.pairwise(bounds) if b > a]
    extra = draw(
        st.lists(st.tuples(st.integers(0, len(stream) - 1), st.integers(1, 40)), max_size=4)
    )
    frags += [(a, stream[a : a + n]) for a, n in extra]  # overlapping retransmissions
    return stream, frags


@settings(max_examples=300, deadline=None)
@given(_fragments(), st.randoms(use_true_random=False))
def test_reassembly_is_order_independent(
    case: tuple[bytes, list[tuple[int, bytes]]], rnd: random.Random
) -> None:
    """Any permutation of consistent (possibly overlapping) fragments gives the same stream."""
    stream, frags = case
    shuffled = list(frags)
    rnd.shuffle(shuffled)
    assert reassemble(frags) == stream
    assert reassemble(shuffled) == stream


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_split_datagram_any_bytes(data: bytes) -> None:
    try:
        packets = split_datagram(data)
    except ParseError:
        return
    for p in packets:
        assert 0 <= p.start <= p.pn_offset <= p.end <= len(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_parse_frames_any_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_frames(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_unprotect_any_datagram(data: bytes) -> None:
    """Header parsing and unprotection of arbitrary bytes: value or ParseError."""
    keys = initial_keys(V1, DCID)
    try:
        for hdr in split_datagram(b"\xc0\x00\x00\x00\x01" + data):
            unprotect(b"\xc0\x00\x00\x00\x01" + data, hdr, keys)
    except ParseError:
        pass
