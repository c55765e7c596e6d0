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
