"""Cleartext codec structure tests on RTP payloads (research notes section 5.2).

A stream whose payloads keep passing a codec's structure test carries *unencrypted* media; SRTP or
any other encryption passes each test only at its random-chance rate. Per-packet tests are cheap
and strict; the stream decision asks for a high pass fraction over enough packets, or a
near-proof such as a VP8 key-frame start code ``9D 01 2A`` where the descriptor says a key frame
begins.

Also here: :func:`srtp_tag_guess`, which reads an SRTP authentication-tag length off constant-size
audio codecs (G.711/G.722: payload = samples + tag).
"""

from __future__ import annotations

import itertools
import math
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "CodecPacket",
    "CodecResult",
    "check_g711",
    "check_h264",
    "check_opus",
    "check_vp8",
    "entropy_bits",
    "evaluate",
    "g711_packet_ok",
    "h264_packet_ok",
    "opus_ok",
    "opus_samples",
    "random_entropy_floor",
    "srtp_tag_guess",
    "vp8_packet",
]

#: A stream is called a codec when at least this fraction of at least MIN_PACKETS packets pass.
MIN_FRACTION = 0.9
MIN_PACKETS = 10
_U16 = struct.Struct("!H")
_VP8_START = b"\x9d\x01\x2a"
_H264_PROFILES = frozenset({44, 66, 77, 83, 86, 88, 100, 110, 118, 122, 128, 134, 135, 138, 244})
#: Opus frame duration (in 48 kHz samples) for each TOC config (RFC 6716 section 3.1).
_OPUS_SAMPLES = (
    (480, 960, 1920, 2880) * 3 + (480, 960) * 2 + (120, 240, 480, 960) * 4
)  # fmt: skip
#: 0.1 % quantile of the byte entropy of ideal random data, by length (section 5.1, tested).
_ENTROPY_Q001 = ((32, 4.60), (64, 5.53), (100, 6.05), (160, 6.57), (256, 7.01), (500, 7.47),
                 (1000, 7.74), (1200, 7.79), (1400, 7.82))  # fmt: skip


@dataclass(frozen=True, slots=True)
class CodecPacket:
    """One RTP packet as the codec tests see it."""

    frame: int
    payload: bytes  #: RTP payload (after header, CSRCs and extension)
    offset: int  #: offset of ``payload`` in the UDP payload
    marker: bool
    timestamp: int
    seq: int
    payload_type: int


@dataclass(frozen=True, slots=True)
class CodecResult:
    codec: str
    passed: int
    total: int
    evidence: str
    proof: bool = False  #: a near-proof was found (e.g. VP8 key-frame start code)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def confident(self) -> bool:
        return self.proof or (self.total >= MIN_PACKETS and self.fraction >= MIN_FRACTION)


def entropy_bits(data: bytes) -> float:
    """Shannon entropy of the byte distribution, bits per byte."""
    n = len(data)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


def random_entropy_floor(n: int) -> float:
    """The 0.1 % quantile of random-byte entropy at length ``n`` (interpolated, section 5.1)."""
    table = _ENTROPY_Q001
    if n <= table[0][0]:
        return table[0][1] * n / table[0][0] if n < table[0][0] else table[0][1]
    for (n0, h0), (n1, h1) in itertools.pairwise(table):
        if n <= n1:
            return h0 + (h1 - h0) * (n - n0) / (n1 - n0)
    return table[-1][1]


def _frames(packets: Sequence[CodecPacket]) -> str:
    return ";".join(str(p.frame) for p in packets[:5])


# --- Opus (RFC 6716 section 3) ----------------------------------------------------------------


def opus_samples(payload: bytes) -> int | None:
    """Samples (at 48 kHz) in a well-formed Opus packet, or None when the TOC's frame-count code
    ``c`` does not fit the packet length (RFC 6716 section 3.2)."""
    if not payload:
        return None
    n = len(payload)
    per_frame = _OPUS_SAMPLES[payload[0] >> 3]
    c = payload[0] & 0x03
    if c == 0:
        return per_frame if n - 1 <= 1275 else None
    if c == 1:
        return 2 * per_frame if (n - 1) % 2 == 0 and (n - 1) // 2 <= 1275 else None
    if n < 2:
        return None
    if c == 2:
        if payload[1] < 252:
            size, used = payload[1], 1
        elif n >= 3:
            size, used = payload[1] + 4 * payload[2], 2
        else:
            return None
        return 2 * per_frame if size <= n - 1 - used else None
    count = payload[1] & 0x3F
    return count * per_frame if count >= 1 and count * per_frame <= 5760 else None


def opus_ok(payload: bytes) -> bool:
    """The TOC byte's frame-count code is consistent with the packet length."""
    return opus_samples(payload) is not None


def check_opus(packets: Sequence[CodecPacket], ts_step: int | None) -> CodecResult:
    """Opus TOC consistency: <= 3 TOC values cover the stream, each packet is well formed, and its
    duration (frame size x frame count) equals the RTP timestamp step (DTX packets of <= 3 bytes
    excepted)."""
    if not packets:
        return CodecResult("opus", 0, 0, "")
    tocs = Counter(p.payload[0] for p in packets if p.payload)
    top = {t for t, _ in tocs.most_common(3)}
    passed: list[CodecPacket] = []
    for p in packets:
        if not p.payload or p.payload[0] not in top:
            continue
        samples = opus_samples(p.payload)
        if samples is None:
            continue
        if ts_step is None or samples == ts_step or len(p.payload) <= 3:
            passed.append(p)
    evidence = ""
    if tocs:
        toc = tocs.most_common(1)[0][0]
        evidence = f"Opus TOC 0x{toc:02x} (config {toc >> 3}, {_OPUS_SAMPLES[toc >> 3] / 48:g} ms)"
        if ts_step:
            evidence += f"; packet durations match the RTP timestamp step {ts_step}"
        evidence += f"; frames {_frames(passed or packets)}"
    return CodecResult("opus", len(passed), len(packets), evidence)


# --- H.264 (RFC 6184) -----------------------------------------------------------------------


def h264_packet_ok(payload: bytes) -> bool:
    """NAL header F=0 with a valid type; STAP-A size chain exact; FU-A header consistent."""
    if not payload or payload[0] & 0x80:
        return False
    nal = payload[0] & 0x1F
    nri = payload[0] & 0x60
    if 1 <= nal <= 23:
        if nal in (5, 7, 8) and not nri:
            return False
        return not (nal == 7 and (len(payload) < 2 or payload[1] not in _H264_PROFILES))
    if nal == 24:  # STAP-A: 2-byte sizes must tile the payload exactly
        pos = 1
        while pos < len(payload):
            if pos + 2 > len(payload):
                return False
            (size,) = _U16.unpack_from(payload, pos)
            if size == 0 or (pos + 2 < len(payload) and payload[pos + 2] & 0x80):
                return False
            pos += 2 + size
        return pos == len(payload) and len(payload) > 3
    if nal == 28:  # FU-A: S|E|R|type
        if len(payload) < 3:
            return False
        fu = payload[1]
        start, end = fu & 0x80, fu & 0x40
        return not (fu & 0x20) and not (start and end) and 1 <= fu & 0x1F <= 23
    return False


def _sps_profile(payload: bytes) -> int | None:
    """profile_idc of an SPS sent alone or first in a STAP-A (valid packets only)."""
    nal = payload[0] & 0x1F
    if nal == 7:
        return payload[1]
    if nal == 24 and len(payload) >= 5 and payload[3] & 0x1F == 7:
        return payload[4] if payload[4] in _H264_PROFILES else None
    return None


def check_h264(packets: Sequence[CodecPacket]) -> CodecResult:
    passed = [p for p in packets if h264_packet_ok(p.payload)]
    fu = [p for p in passed if p.payload[0] & 0x1F == 28]
    notes: list[str] = []
    if fu:
        agree = sum(1 for p in fu if bool(p.payload[1] & 0x40) == p.marker)
        notes.append(f"FU-A end bit matches RTP marker in {agree}/{len(fu)}")
        if len(fu) >= 3 and agree / len(fu) < MIN_FRACTION:
            passed = [p for p in passed if p not in fu]
    sps = [(p, prof) for p in passed if (prof := _sps_profile(p.payload)) is not None]
    proof = bool(sps) and len(passed) >= max(3, 0.8 * len(packets))
    if sps:
        notes.append(f"SPS profile_idc {sps[0][1]} in frames {_frames([p for p, _ in sps])}")
    evidence = "H.264 NAL headers valid" + (": " + "; ".join(notes) if notes else "")
    return CodecResult("h264", len(passed), len(packets), evidence, proof)


# --- VP8 (RFC 7741, RFC 6386 section 9.1) -----------------------------------------------------


def vp8_packet(payload: bytes) -> tuple[bool, int | None]:
    """``(valid, start-code offset)``: descriptor reserved bits clear; key frames carry 9D 01 2A.

    The start-code offset (relative to the RTP payload) is returned for a key frame.
    """
    if not payload or payload[0] & 0x48:
        return False, None
    pos = 1
    if payload[0] & 0x80:  # X: extension byte I|L|T|K|RSV
        if len(payload) < 2 or payload[1] & 0x0F:
            return False, None
        ext = payload[1]
        pos = 2
        if ext & 0x80:  # I: PictureID, 7 or 15 bits
            if len(payload) <= pos:
                return False, None
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID|Y|KEYIDX
            pos += 1
    if pos >= len(payload):
        return False, None
    if payload[0] & 0x10 and payload[0] & 0x07 == 0:  # S=1, PID=0: VP8 payload header follows
        if len(payload) < pos + 3:
            return False, None
        b = payload[pos]
        if (b >> 1) & 0x07 > 3:  # version
            return False, None
        if not b & 0x01:  # P=0: key frame
            if payload[pos + 3 : pos + 6] != _VP8_START:
                return False, None
            return True, pos + 3
    return True, None


def check_vp8(packets: Sequence[CodecPacket]) -> CodecResult:
    """Descriptors valid, and every packet that starts a new frame (RTP timestamp changed, or
    the previous packet had the marker bit) has S=1 and partition ID 0 (RFC 7741 section 4.4)."""
    passed = 0
    keys: list[CodecPacket] = []
    offset = 0
    prev: CodecPacket | None = None
    for p in packets:
        ok, start = vp8_packet(p.payload)
        new_frame = prev is not None and (prev.marker or prev.timestamp != p.timestamp)
        if ok and new_frame and (p.payload[0] & 0x17) != 0x10:
            ok = False
        prev = p
        passed += ok
        if start is not None:
            if not keys:
                offset = p.offset + start
            keys.append(p)
    evidence = "VP8 payload descriptors valid"
    if keys:
        evidence = (
            f"VP8 key-frame start code 9d012a at UDP payload offset {offset} in frames "
            f"{_frames(keys)}"
        )
    proof = bool(keys) and passed >= max(3, 0.8 * len(packets))
    return CodecResult("vp8", passed, len(packets), evidence, proof)


# --- G.711 (PT 0 / 8) ------------------------------------------------------------------------


def g711_packet_ok(payload: bytes) -> bool:
    """A 10 ms multiple of 8 kHz samples whose byte entropy is far below random (not compressed)."""
    n = len(payload)
    return n >= 80 and n % 80 == 0 and entropy_bits(payload) < random_entropy_floor(n)


def check_g711(packets: Sequence[CodecPacket], ts_step: int | None) -> CodecResult:
    passed = [
        p
        for p in packets
        if g711_packet_ok(p.payload) and (ts_step is None or len(p.payload) == ts_step)
    ]
    pts = sorted({p.payload_type for p in packets})
    evidence = (
        f"G.711-sized payloads (PT {','.join(map(str, pts))}) with byte entropy below the random "
        f"0.1% quantile; frames {_frames(passed or packets)}"
    )
    return CodecResult("g711", len(passed), len(packets), evidence)


def evaluate(
    packets: Sequence[CodecPacket], ts_step: int | None, media: str = ""
) -> CodecResult | None:
    """The best-matching codec test for one stream (None without packets).

    ``media`` (``audio``/``video``, e.g. from Zoom's inner type or the RTP clock; empty when
    unknown) limits the tests to that kind of codec. A near-proof wins, then the highest pass
    fraction. Whether the result is strong enough to name the codec is
    :attr:`CodecResult.confident`.
    """
    if not packets:
        return None
    tests: list[Callable[[], CodecResult]] = []
    if media != "video":
        tests.append(lambda: check_opus(packets, ts_step))
        if any(p.payload_type in (0, 8) for p in packets) or (
            ts_step is not None and ts_step % 80 == 0
        ):
            tests.append(lambda: check_g711(packets, ts_step))
    if media != "audio":
        tests.append(lambda: check_h264(packets))
        tests.append(lambda: check_vp8(packets))
    results = [t() for t in tests]
    return max(results, key=lambda r: (r.proof, r.fraction, -len(r.codec)))


def srtp_tag_guess(packets: Sequence[CodecPacket], ts_step: int | None) -> str:
    """SRTP tag length read off constant-size audio (G.711 / G.722: one byte per RTP tick).

    Returns ``"0"`` (no tag: plain RTP), ``"4"``, ``"10"`` or ``"16"`` when at least 90 % of a
    PT 0/8/9 stream has ``payload length - timestamp step`` equal to that value; else ``""``.
    """
    if not packets or ts_step is None or ts_step <= 0:
        return ""
    if not all(p.payload_type in (0, 8, 9) for p in packets):
        return ""
    extra = Counter(len(p.payload) - ts_step for p in packets)
    value, count = extra.most_common(1)[0]
    if value in (0, 4, 10, 16) and count >= MIN_FRACTION * len(packets) and count >= 3:
        return str(value)
    return ""
