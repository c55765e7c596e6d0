"""Cleartext codec structure tests on RTP payloads (research notes section 5.2).

References: Opus RFC 6716 section 3; H.264 RFC 6184; VP8 RFC 7741 / RFC 6386 section 9.1;
G.711 ITU-T G.711 (RFC 3551 section 4.5.14); G.722 ITU-T G.722 (RFC 3551 section 4.5.2);
G.729 ITU-T G.729 and Annex B (RFC 3551 section 4.5.6); H.263 RFC 2190 and RFC 4629.

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
    "check_g722",
    "check_g729",
    "check_h263",
    "check_h264",
    "check_opus",
    "check_vp8",
    "entropy_bits",
    "evaluate",
    "expected_payload_len",
    "g711_law",
    "g711_packet_ok",
    "g711_segment",
    "g729_packet_ok",
    "g729_parity_ok",
    "h263_1998_ok",
    "h263_2190_header_len",
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
    variant: str = ""  #: e.g. ``alaw``/``ulaw`` for G.711

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


# --- G.711 (ITU-T G.711; RFC 3551 section 4.5.14: PT 0 PCMU, PT 8 PCMA) ----------------------


def g711_segment(code: int, law: str) -> int:
    """The segment (exponent, 0-7) of one G.711 code word: A-law inverts the even bits (XOR
    0x55, G.711 Table 1a), u-law inverts all bits (G.711 Table 2a)."""
    x = code ^ 0x55 if law == "alaw" else ~code & 0xFF
    return (x >> 4) & 0x07


#: code words of the four smallest magnitudes, both signs (G.711 Tables 1a and 2a).
_ALAW_QUIET = frozenset({0xD5, 0x55, 0xD4, 0x54, 0xD7, 0x57, 0xD6, 0x56})
_ULAW_QUIET = frozenset({0xFF, 0x7F, 0xFE, 0x7E, 0xFD, 0x7D, 0xFC, 0x7C})


def g711_law(payload: bytes) -> str:
    """``alaw`` or ``ulaw`` when the payload's near-silent code words belong clearly (>= 4x) to
    one law (A-law zero is 0xD5/0x55, u-law zero 0xFF/0x7F); ``""`` when it cannot tell."""
    a = sum(1 for b in payload if b in _ALAW_QUIET)
    u = sum(1 for b in payload if b in _ULAW_QUIET)
    if a >= 4 * u and a >= 8:
        return "alaw"
    if u >= 4 * a and u >= 8:
        return "ulaw"
    return ""


def g711_packet_ok(payload: bytes) -> bool:
    """A 5 ms multiple of 8 kHz samples (one byte each) whose byte entropy is far below random
    (G.711 is uncompressed PCM: silence and speech never look uniform)."""
    n = len(payload)
    return n >= 40 and n % 40 == 0 and entropy_bits(payload) < random_entropy_floor(n)


def check_g711(packets: Sequence[CodecPacket], ts_step: int | None) -> CodecResult:
    """Per packet: payload length == RTP timestamp step (8 kHz, one byte per sample, no SRTP
    tag), a 5 ms multiple, entropy below random; the law is the one PT 0/8 names (else the
    quieter decoding)."""
    passed = [
        p
        for p in packets
        if g711_packet_ok(p.payload) and (ts_step is None or len(p.payload) == ts_step)
    ]
    pts = sorted({p.payload_type for p in packets})
    sample = b"".join(p.payload for p in (passed or packets)[:20])
    named = {0: "ulaw", 8: "alaw"}.get(pts[0], "") if len(pts) == 1 else ""
    law = named or g711_law(sample)
    name = {"alaw": "A-law (PCMA)", "ulaw": "u-law (PCMU)"}.get(law, "law not determined")
    evidence = (
        f"G.711 {name} (ITU-T G.711; RFC 3551 PT {','.join(map(str, pts))}): payload length = "
        f"timestamp step, byte entropy below the random 0.1% quantile; frames "
        f"{_frames(passed or packets)}"
    )
    return CodecResult("g711", len(passed), len(packets), evidence, variant=law)


# --- G.722 (ITU-T G.722; RFC 3551 section 4.5.2: PT 9, RTP clock 8000, one octet per tick) ---


def check_g722(packets: Sequence[CodecPacket], ts_step: int | None) -> CodecResult:
    """Per packet: payload length == RTP timestamp step (RFC 3551 4.5.2: 8000 octets/s with an
    8 kHz RTP clock) and a 5 ms multiple; stream: the pooled SB-ADPCM codes are far from
    uniform (entropy below the random 0.1% quantile), which SRTP ciphertext is not."""
    sized = [
        p
        for p in packets
        if len(p.payload) >= 40
        and len(p.payload) % 40 == 0
        and (ts_step is None or len(p.payload) == ts_step)
    ]
    pooled = b"".join(p.payload for p in sized)[:1400]
    skewed = len(pooled) >= 160 and entropy_bits(pooled) < random_entropy_floor(len(pooled))
    passed = sized if skewed else []
    evidence = (
        "G.722 (ITU-T G.722; RFC 3551 PT 9): payload length = timestamp step, pooled ADPCM "
        f"codes non-uniform (entropy {entropy_bits(pooled):.2f} bits/byte); frames "
        f"{_frames(passed or packets)}"
    )
    return CodecResult("g722", len(passed), len(packets), evidence)


# --- G.729 (ITU-T G.729 + Annex B; RFC 3551 section 4.5.6: PT 18, 10-byte frames) ------------


def g729_parity_ok(frame: bytes) -> bool:
    """The pitch parity bit P0 (bit 26 of the 80-bit frame) equals the parity of the six MSBs of
    the pitch delay index P1 (bits 18-25), as ITU-T G.729 section 3.7.2 / ``Parity_Pitch``
    computes it (1 + sum of those bits, mod 2)."""
    bits = int.from_bytes(frame[:4], "big")
    p1 = (bits >> (32 - 26)) & 0xFF
    p0 = (bits >> (32 - 27)) & 0x01
    return p0 == (1 + bin(p1 >> 2).count("1")) & 1


def g729_packet_ok(payload: bytes, ts_step: int | None) -> bool:
    """N 10-byte frames, optionally one 2-byte Annex B SID frame at the end (RFC 3551 4.5.6);
    the timestamp step is 80 per 10-byte frame (a SID frame does not advance it); every
    speech frame's pitch parity bit checks."""
    n = len(payload)
    frames, rest = divmod(n, 10)
    if rest not in (0, 2) or n == 0:
        return False
    if frames and ts_step is not None and frames * 80 != ts_step:
        return False
    return all(g729_parity_ok(payload[i : i + 10]) for i in range(0, frames * 10, 10))


def check_g729(packets: Sequence[CodecPacket], ts_step: int | None) -> CodecResult:
    passed = [p for p in packets if g729_packet_ok(p.payload, ts_step)]
    evidence = (
        "G.729 (ITU-T G.729 Annex B; RFC 3551 PT 18): 10-byte frames (+2-byte SID), 80 "
        f"timestamp ticks per frame, pitch parity bit valid; frames {_frames(passed or packets)}"
    )
    return CodecResult("g729", len(passed), len(packets), evidence)


# --- H.263 (RFC 2190 PT 34; RFC 4629 H263-1998/2000) -----------------------------------------


def h263_2190_header_len(payload: bytes) -> int | None:
    """Length of a valid RFC 2190 payload header (mode A 4, B 8, C 12 bytes), else None.

    Mode A (F=0): R (4 bits) zero, SRC (source format) 1-7 and, without the PB-frames option
    (P=0), DBQ and TRB zero. Modes B/C: SRC 1-7 and the R bits zero (RFC 2190 section 5)."""
    if len(payload) < 5:
        return None
    f, p = payload[0] & 0x80, payload[0] & 0x40
    src = payload[1] >> 5
    if not src:
        return None
    if not f:
        r = ((payload[1] & 0x01) << 3) | (payload[2] >> 5)
        if r or (not p and payload[2] & 0x1F):
            return None
        return 4
    size = 12 if p else 8
    if len(payload) <= size or (payload[4] >> 6) & 0x03:  # mode B/C: R (2 bits) after MBA
        return None
    return size


def _h263_psc(data: bytes) -> bool:
    """The 22-bit picture start code ``0000 0000 0000 0000 1000 00`` (ITU-T H.263 5.1.1)."""
    return len(data) >= 3 and data[0] == 0 and data[1] == 0 and data[2] & 0xFC == 0x80


def h263_1998_ok(payload: bytes) -> tuple[bool, bool]:
    """``(valid, picture start)`` for an RFC 4629 payload: RR (5 bits) zero, PLEN within the
    packet; with P=1 the two zero bytes of a start code are omitted, so a picture start then
    begins ``1000 00`` (0x80-0x83)."""
    if len(payload) < 3 or payload[0] & 0xF8:
        return False, False
    p, v = payload[0] & 0x04, payload[0] & 0x02
    plen = ((payload[0] & 0x01) << 5) | (payload[1] >> 3)
    pos = 2 + (1 if v else 0) + plen
    if pos >= len(payload):
        return False, False
    return True, bool(p) and payload[pos] & 0xFC == 0x80


def check_h263(packets: Sequence[CodecPacket]) -> CodecResult:
    """RFC 2190 (PT 34) or RFC 4629 headers valid in every packet, and a packet opening a new
    picture (RTP timestamp changed) starts with the picture start code."""
    rfc2190 = any(p.payload_type == 34 for p in packets)
    passed: list[CodecPacket] = []
    starts: list[CodecPacket] = []
    prev: CodecPacket | None = None
    for p in packets:
        new_pic = prev is None or prev.timestamp != p.timestamp
        prev = p
        if rfc2190:
            hlen = h263_2190_header_len(p.payload)
            ok = hlen is not None
            psc = ok and not p.payload[0] & 0x38 and _h263_psc(p.payload[hlen or 0 :])
        else:
            ok, psc = h263_1998_ok(p.payload)
        if ok and new_pic and not psc:
            ok = False
        if ok:
            passed.append(p)
            if psc:
                starts.append(p)
    ref = "RFC 2190" if rfc2190 else "RFC 4629"
    evidence = (
        f"H.263 ({ref}) payload headers valid; picture start code at each new picture in "
        f"frames {_frames(starts)}"
    )
    proof = len(starts) >= 3 and len(passed) >= max(3, 0.8 * len(packets))
    return CodecResult("h263", len(passed), len(packets), evidence, proof)


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
            ts_step is not None and ts_step % 40 == 0
        ):
            tests.append(lambda: check_g711(packets, ts_step))
        if any(p.payload_type == 9 for p in packets):
            tests.append(lambda: check_g722(packets, ts_step))
        if any(p.payload_type == 18 for p in packets) or (
            ts_step is not None and ts_step % 80 == 0
        ):
            tests.append(lambda: check_g729(packets, ts_step))
    if media != "audio":
        tests.append(lambda: check_h264(packets))
        tests.append(lambda: check_vp8(packets))
        tests.append(lambda: check_h263(packets))
    results = [t() for t in tests]
    return max(results, key=lambda r: (r.proof, r.fraction, -len(r.codec)))


def expected_payload_len(payload_type: int, ts_step: int) -> int | None:
    """Payload bytes a constant-size codec produces per timestamp step, or None: G.711 and
    G.722 one byte per tick (RFC 3551 4.5.2, 4.5.14), G.729 10 bytes per 80 ticks (4.5.6)."""
    if payload_type in (0, 8, 9):
        return ts_step
    if payload_type == 18 and ts_step % 80 == 0:
        return ts_step // 8
    return None


def srtp_tag_guess(packets: Sequence[CodecPacket], ts_step: int | None) -> str:
    """SRTP tag length read off constant-size audio (G.711 / G.722 / G.729).

    Returns ``"0"`` (no tag: plain RTP), ``"4"``, ``"10"`` or ``"16"`` when at least 90 % of a
    PT 0/8/9/18 stream has ``payload length - expected length`` equal to that value; else ``""``.
    """
    if not packets or ts_step is None or ts_step <= 0:
        return ""
    pt = packets[0].payload_type
    if not all(p.payload_type == pt for p in packets):
        return ""
    want = expected_payload_len(pt, ts_step)
    if want is None:
        return ""
    extra = Counter(len(p.payload) - want for p in packets)
    value, count = extra.most_common(1)[0]
    if value in (0, 4, 10, 16) and count >= MIN_FRACTION * len(packets) and count >= 3:
        return str(value)
    return ""
