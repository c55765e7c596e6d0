"""Cleartext codec structure tests (research notes section 5.2) and the SRTP tag guess."""

from __future__ import annotations

import math
import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import codecs
from inspector.dissect.codecs import CodecPacket, evaluate

RNG = random.Random(20240517)


def packets(
    payloads: list[bytes],
    ts_step: int,
    pt: int = 111,
    markers: list[bool] | None = None,
    ts: list[int] | None = None,
) -> list[CodecPacket]:
    out = []
    for i, p in enumerate(payloads):
        stamp = ts[i] if ts else i * ts_step
        mark = markers[i] if markers else False
        out.append(CodecPacket(100 + i, p, 24, mark, stamp, 1000 + i, pt))
    return out


def opus_stream(n: int = 60) -> list[CodecPacket]:
    # TOC 0x78: config 15 (Hybrid FB, 20 ms), mono, c=0 (RFC 6716 section 3.1); a few 0xF8
    # (CELT FB 20 ms) and 1-byte DTX packets, as WebRTC sends.
    payloads = []
    for i in range(n):
        if i % 10 == 9:
            payloads.append(b"\x78")
        else:
            toc = 0xF8 if i % 7 == 3 else 0x78
            payloads.append(bytes([toc]) + RNG.randbytes(RNG.randint(40, 120)))
    return packets(payloads, 960)


def random_stream(n: int = 60, ts_step: int = 960, pt: int = 111) -> list[CodecPacket]:
    return packets([RNG.randbytes(RNG.randint(40, 200)) for _ in range(n)], ts_step, pt)


def test_opus_stream_passes_and_random_fails() -> None:
    res = codecs.check_opus(opus_stream(), 960)
    assert res.fraction == 1.0 and res.confident
    assert "TOC 0x78" in res.evidence and "20 ms" in res.evidence
    best = evaluate(opus_stream(), 960, "audio")
    assert best is not None and best.codec == "opus" and best.confident
    for result in (
        codecs.check_opus(random_stream(), 960),
        codecs.check_h264(random_stream()),
        codecs.check_vp8(random_stream()),
    ):
        assert not result.confident and result.fraction < 0.5, result
    rnd = evaluate(random_stream(), 960)
    assert rnd is not None and not rnd.confident


def test_opus_duration_must_match_timestamp_step() -> None:
    # A constant first byte 0x00 (SILK NB 10 ms) on 20 ms packets is not Opus (Zoom audio).
    zoomish = packets([b"\x00\x14\x0c" + RNG.randbytes(50) for _ in range(40)], 960)
    assert codecs.check_opus(zoomish, 960).fraction == 0.0


def test_opus_samples_per_frame_count_code() -> None:
    assert codecs.opus_samples(b"\x78" + bytes(10)) == 960  # c=0
    assert codecs.opus_samples(b"\x79" + bytes(10)) == 1920  # c=1, even split
    assert codecs.opus_samples(b"\x79" + bytes(9)) is None  # c=1 needs an even length
    assert codecs.opus_samples(b"\x7a\x03" + bytes(8)) == 1920  # c=2, first frame 3 bytes
    assert codecs.opus_samples(b"\x7a\x20" + bytes(8)) is None  # c=2, first frame too long
    assert codecs.opus_samples(b"\x7b\x03" + bytes(8)) == 2880  # c=3, 3 frames
    assert codecs.opus_samples(b"\x7b\x07" + bytes(8)) is None  # 7 x 20 ms > 120 ms
    assert codecs.opus_samples(b"") is None


def vp8_frame(key: bool, parts: int = 3) -> list[bytes]:
    """One VP8 frame: descriptor X=1 I=1 with a 15-bit PictureID (RFC 7741)."""
    out = []
    for i in range(parts):
        desc = bytes([0x90 if i == 0 else 0x80, 0x80, 0x80, 0x01])
        if i == 0:
            # Payload header: size0|show|ver|P; P=0 key frame -> start code + 640x480.
            header = bytes([0x10 if key else 0x11, 0x22, 0x01])
            body = header + (b"\x9d\x01\x2a\x80\x02\xe0\x01" if key else b"")
            out.append(desc + body + RNG.randbytes(60))
        else:
            out.append(desc + RNG.randbytes(80))
    return out


def vp8_stream() -> list[CodecPacket]:
    payloads, marks, stamps = [], [], []
    for f in range(8):
        frame = vp8_frame(f == 0)
        payloads += frame
        marks += [i == len(frame) - 1 for i in range(len(frame))]
        stamps += [3000 * f] * len(frame)
    return packets(payloads, 3000, 96, marks, stamps)


def test_vp8_key_frame_start_code_detected() -> None:
    ok, at = codecs.vp8_packet(vp8_frame(True)[0])
    assert ok and at == 7  # 4-byte descriptor + 3-byte payload header
    stream = vp8_stream()
    res = codecs.check_vp8(stream)
    assert res.proof and res.fraction == 1.0
    assert res.evidence.startswith("VP8 key-frame start code 9d012a at UDP payload offset 31")
    assert "frames 100" in res.evidence
    best = evaluate(stream, 3000, "video")
    assert best is not None and best.codec == "vp8" and best.confident


def test_vp8_rejects_bad_key_frames_and_frame_starts() -> None:
    broken = bytes([0x90, 0x80, 0x80, 0x01, 0x10, 0x22, 0x01]) + b"\x00\x01\x2a" + bytes(20)
    assert codecs.vp8_packet(broken) == (False, None)
    assert codecs.vp8_packet(b"\x48" + bytes(10))[0] is False  # reserved bits
    # Every packet a new frame (timestamps differ) but S=0: not VP8.
    zeros = packets([b"\x00" + RNG.randbytes(40) for _ in range(20)], 960)
    assert codecs.check_vp8(zeros).fraction < 0.1


def h264_stream() -> list[CodecPacket]:
    sps = b"\x67\x42\xc0\x1f" + RNG.randbytes(8)  # profile_idc 66 (Baseline)
    pps = b"\x68\xce\x3c\x80"
    stap = b"\x78" + struct.pack("!H", len(sps)) + sps + struct.pack("!H", len(pps)) + pps
    payloads, marks, stamps = [stap], [False], [0]
    for f in range(10):
        nal = 5 if f == 0 else 1
        for i, fu in enumerate((0x80 | nal, nal, 0x40 | nal)):
            payloads.append(bytes([0x60 | 28, fu]) + RNG.randbytes(100))
            marks.append(i == 2)
            stamps.append(3000 * f)
    return packets(payloads, 3000, 102, marks, stamps)


def test_h264_structure() -> None:
    stream = h264_stream()
    res = codecs.check_h264(stream)
    assert res.fraction == 1.0 and res.proof
    assert "FU-A end bit matches RTP marker in 30/30" in res.evidence
    assert "SPS profile_idc 66" in res.evidence
    assert codecs.h264_packet_ok(b"\x65" + bytes(10))  # IDR slice
    assert not codecs.h264_packet_ok(b"\xe5" + bytes(10))  # F=1
    assert not codecs.h264_packet_ok(b"\x05" + bytes(10))  # IDR with NRI=0
    assert not codecs.h264_packet_ok(b"\x78\x00\x05\x67")  # STAP-A chain too long
    assert not codecs.h264_packet_ok(b"\x7c\xc5" + bytes(10))  # FU-A with S and E
    assert not codecs.h264_packet_ok(b"\x1c\x80" + bytes(10))  # FU-A type 0 (Zoom's framing)


def ulaw(sample: int) -> int:
    """G.711 mu-law encoding of a 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def test_g711_and_srtp_tag_guess() -> None:
    def tone(n: int) -> bytes:  # 20 ms of a 440 Hz tone
        return bytes(ulaw(int(3000 * math.sin(2 * math.pi * 440 * (k + 160 * n) / 8000)))
                     for k in range(160))  # fmt: skip

    speech = [tone(n) for n in range(30)]
    plain = packets(speech, 160, pt=0)
    res = codecs.check_g711(plain, 160)
    assert res.confident and "PT 0" in res.evidence
    assert codecs.srtp_tag_guess(plain, 160) == "0"
    srtp80 = packets([s + RNG.randbytes(10) for s in speech], 160, pt=0)
    assert codecs.srtp_tag_guess(srtp80, 160) == "10"
    srtp_gcm = packets([RNG.randbytes(176) for _ in speech], 160, pt=8)
    assert codecs.srtp_tag_guess(srtp_gcm, 160) == "16"
    assert not codecs.check_g711(srtp_gcm, 160).confident
    assert codecs.srtp_tag_guess(opus_stream(), 960) == ""  # not a constant-size codec


def test_random_entropy_floor_table() -> None:
    assert codecs.random_entropy_floor(160) == 6.57
    assert 6.57 < codecs.random_entropy_floor(200) < 7.01
    assert codecs.random_entropy_floor(5000) == 7.82
    assert codecs.entropy_bits(bytes(range(256))) == 8.0
    assert codecs.entropy_bits(b"") == 0.0


def test_media_kind_limits_the_tests() -> None:
    res = evaluate(vp8_stream(), 3000, "audio")
    assert res is not None and res.codec in ("opus", "g711")
    assert evaluate([], None) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_packet_checks_any_bytes(data: bytes) -> None:
    codecs.opus_samples(data)
    codecs.h264_packet_ok(data)
    codecs.vp8_packet(data)
    codecs.g711_packet_ok(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=15), st.one_of(st.none(), st.integers(0, 4000)))
def test_evaluate_any_stream(payloads: list[bytes], step: int | None) -> None:
    stream = packets(payloads, step or 0)
    evaluate(stream, step)
    codecs.srtp_tag_guess(stream, step)


# --- G.711 laws, G.722, G.729, H.263 (ITU-T G.711/G.722/G.729, RFC 3551, RFC 2190/4629) -----


def alaw(sample: int) -> int:
    """ITU-T G.711 A-law encoder (13-bit magnitude, segments 0-7, even bits inverted)."""
    sign = 0x80 if sample >= 0 else 0x00
    magnitude = min(abs(sample), 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def test_g711_reference_code_words() -> None:
    # G.711 Table 1a/2a: the code words for a zero sample are 0xD5 (A-law) and 0xFF (u-law).
    assert alaw(0) == 0xD5 and ulaw(0) == 0xFF
    assert codecs.g711_segment(0xD5, "alaw") == 0 and codecs.g711_segment(0xFF, "ulaw") == 0
    assert codecs.g711_segment(0xD5 ^ 0x70, "alaw") == 7
    silence_a = bytes([0xD5, 0x55] * 80)
    assert codecs.g711_law(silence_a) == "alaw"
    assert codecs.g711_law(bytes([0xFF, 0x7F] * 80)) == "ulaw"


def test_g711_alaw_silence_and_tone_named_by_law() -> None:
    tone = [
        bytes(
            alaw(int(2000 * math.sin(2 * math.pi * 300 * (k + 160 * n) / 8000))) for k in range(160)
        )
        for n in range(12)
    ]
    quiet = [bytes(alaw(int(40 * math.sin(k / 3))) for k in range(160))] * 12
    for payloads, pt in (([bytes([0xD5, 0x55] * 80)] * 12, 8), (tone, 8), (quiet, 96)):
        res = codecs.check_g711(packets(payloads, 160, pt=pt), 160)
        assert res.confident and res.variant == "alaw", (pt, res)
    loud = [bytes(ulaw(int(9000 * math.sin(2 * math.pi * 700 * k / 8000))) for k in range(160))]
    assert codecs.check_g711(packets(loud * 12, 160, pt=96), 160).variant in ("ulaw", "")
    assert "A-law" in codecs.check_g711(packets(tone, 160, pt=8), 160).evidence
    # nine packets are not enough to name the codec (TAXONOMY: >= 10 packets)
    assert not codecs.check_g711(packets(tone[:9], 160, pt=8), 160).confident
    # a 10-byte SRTP tag breaks "length == timestamp step"
    tagged = packets([t + RNG.randbytes(10) for t in tone], 160, pt=8)
    assert codecs.check_g711(tagged, 160).passed == 0
    assert codecs.srtp_tag_guess(tagged, 160) == "10"


def test_g722_sizes_and_skewed_codes() -> None:
    # SB-ADPCM output is far from uniform: draw codes from a peaked distribution.
    peaked = [bytes(min(255, int(RNG.expovariate(1 / 12))) for _ in range(160)) for _ in range(12)]
    res = codecs.check_g722(packets(peaked, 160, pt=9), 160)
    assert res.confident and "RFC 3551 PT 9" in res.evidence
    assert codecs.srtp_tag_guess(packets(peaked, 160, pt=9), 160) == "0"
    rand = packets([RNG.randbytes(160) for _ in range(12)], 160, pt=9)
    assert codecs.check_g722(rand, 160).passed == 0
    assert evaluate(packets(peaked, 160, pt=9), 160, "audio").codec in ("g722", "g711")


def g729_frame() -> bytes:
    """A random 10-byte G.729 frame whose pitch parity bit P0 (bit 26) is set correctly."""
    frame = bytearray(RNG.randbytes(10))
    bits = int.from_bytes(frame[:4], "big")
    p1 = (bits >> 6) & 0xFF
    parity = (1 + bin(p1 >> 2).count("1")) & 1
    bits = (bits & ~(1 << 5)) | (parity << 5)
    frame[:4] = bits.to_bytes(4, "big")
    return bytes(frame)


def test_g729_frames_sid_and_parity() -> None:
    good = [g729_frame() + g729_frame() for _ in range(12)]  # 20 ms: 2 frames, step 160
    res = codecs.check_g729(packets(good, 160, pt=18), 160)
    assert res.confident and res.fraction == 1.0
    assert codecs.g729_packet_ok(g729_frame() + b"\x12\x34", 80)  # speech + Annex B SID
    assert codecs.g729_packet_ok(b"\x12\x34", 160)  # a lone SID frame
    assert not codecs.g729_packet_ok(good[0] + RNG.randbytes(10), 160)  # 10-byte tag: 3 frames
    assert (
        codecs.srtp_tag_guess(packets([g + RNG.randbytes(10) for g in good], 160, 18), 160) == "10"
    )
    flipped = [bytes([g[0], g[1], g[2], g[3] ^ 0x20]) + g[4:] for g in good]  # P0 wrong
    assert codecs.check_g729(packets(flipped, 160, pt=18), 160).passed == 0
    rand = packets([RNG.randbytes(20) for _ in range(40)], 160, pt=18)
    assert codecs.check_g729(rand, 160).fraction < 0.5


# RFC 2190 mode A header 00 70 00 00 (SRC 3 = CIF, I=1) then the H.263 picture start code
# 00 00 83...: the first bytes of frame 1 of ndpi/pcap/rtp.pcapng (UDP port 6000, PT 34).
H263_PIC = bytes.fromhex("007000000000836a0e033ffc05cc8e21d3df8bc0785f3cf854d6")
H263_CONT = bytes.fromhex("00700000b5261f2b5c2c688c2f9f58c42fb60f87fbc7f74603db")


def test_h263_rfc2190_mode_a_and_picture_start() -> None:
    assert codecs.h263_2190_header_len(H263_PIC) == 4
    assert codecs.h263_2190_header_len(b"\x00\x00\x00\x00\x00") is None  # SRC 0 forbidden
    assert codecs.h263_2190_header_len(b"\x00\x71\x00\x00\x00") is None  # R bit set
    payloads = [H263_PIC, H263_CONT] * 8
    stamps = [i // 2 * 3000 for i in range(16)]
    res = codecs.check_h263(packets(payloads, 3000, pt=34, ts=stamps))
    assert res.proof and res.confident and res.fraction == 1.0
    # a new picture without the start code fails
    bad = codecs.check_h263(packets([H263_CONT] * 16, 3000, pt=34, ts=stamps))
    assert bad.passed == 8
    rand = codecs.check_h263(
        packets([RNG.randbytes(60) for _ in range(16)], 3000, pt=34, ts=stamps)
    )
    assert not rand.confident


def test_h263_rfc4629_header() -> None:
    pic = b"\x04\x00" + b"\x80\x02" + RNG.randbytes(40)  # P=1: start code's zero bytes omitted
    cont = b"\x00\x00" + RNG.randbytes(40)
    assert codecs.h263_1998_ok(pic) == (True, True)
    assert codecs.h263_1998_ok(b"\x80\x00" + bytes(10)) == (False, False)  # RR bits set
    stamps = [i // 2 * 3000 for i in range(16)]
    res = codecs.check_h263(packets([pic, cont] * 8, 3000, pt=96, ts=stamps))
    assert res.confident and "RFC 4629" in res.evidence


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60), st.one_of(st.none(), st.integers(0, 2000)))
def test_voip_packet_checks_any_bytes(data: bytes, step: int | None) -> None:
    codecs.g711_law(data)
    codecs.g729_packet_ok(data, step)
    codecs.h263_2190_header_len(data)
    codecs.h263_1998_ok(data)
    if len(data) >= 4:
        codecs.g729_parity_ok(data)
    stream = packets([data] * 3, step or 0, pt=18)
    for check in (codecs.check_g722, codecs.check_g729):
        check(stream, step)
    codecs.check_h263(packets([data] * 3, step or 0, pt=34))
