"""Passive detection of deterministic, nonce-less encryption (AES-ECB) in media payloads.

Research notes section 2.2. Under ECB, equal 16-byte plaintext blocks give equal ciphertext blocks
(same key), across packets and participants; under CTR/GCM/SRTP two ciphertext blocks collide with
probability about 2^-128, so a genuine repeat is decisive once the false-positive sources are
removed:

1. Only the ciphertext region is hashed: the caller passes the bytes after every parsed cleartext
   header (Zoom header, RTP header, CSRCs, extension).
2. Byte-identical regions and repeated ``(stream, sequence number)`` keys are dropped first
   (retransmissions, duplicated capture).
3. ``R`` = distinct 16-byte blocks seen in at least two different packets. All 16 alignments are
   tried on the first 100 packets; the one with the most repeated-block occurrences is used for
   the whole stream (ties: the lowest).
4. Repeats explained by a shared prefix (block ``i`` repeats only because blocks ``0..i`` are equal
   too, as with CBC under a fixed IV or duplicated data) do not count; when every repeat is of that
   kind ``prefix_only`` is set. Repeats inside a shared run of more than 4 consecutive blocks are
   treated as redundant copies (RED/FEC/retransmitted frames) and do not count either.
5. Length modularity: the dominant residue of the region length mod 16 and its fraction ``L``.
6. Decision: ``suspected`` when R >= 3 distinct blocks, each in >= 2 packets, at >= 2 block
   indices, not prefix-only, and L >= 0.95 (a single dominant residue class; 0 for padded ECB, a
   constant for ECB followed by a fixed trailer). Also suspected, under the same L and
   prefix conditions: a single *widespread* repeat, one block in >= 8 packets at >= 3 block
   indices. Real media under ECB mostly repeats one block, E(zero block), from its zero runs; the
   notes' own premise is that one genuine repeat is decisive once the false-positive sources are
   removed, and a block recurring at several positions in many packets is neither a prefix nor
   a copy.

Blocks with fewer than 8 distinct byte values are never counted: they are cleartext structure
(zero padding, silence patterns) showing through an unencrypted or mis-parsed region, not AES
output (16 random bytes have fewer than 8 distinct values with probability below 1e-6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["EcbPacket", "EcbResult", "analyze", "length_residue"]

BLOCK = 16
#: Decision thresholds (section 2.2, item 6).
MIN_REPEATED_BLOCKS = 3
MIN_BLOCK_INDICES = 2
MIN_RESIDUE_FRACTION = 0.95
#: The single widespread repeat that also decides (see the module doc).
WIDESPREAD_PACKETS = 8
WIDESPREAD_INDICES = 3
#: A shared run longer than this many blocks is a redundant copy, not an ECB repeat.
MAX_RUN_BLOCKS = 4
#: Fewer distinct byte values than this: cleartext structure, not ciphertext.
MIN_DISTINCT_BYTES = 8
_SAMPLE = 100
_MAX_OCCURRENCES = 50
_MAX_FRAMES = 10


@dataclass(frozen=True, slots=True)
class EcbPacket:
    """One packet's ciphertext region."""

    frame: int
    data: bytes  #: the bytes after all parsed cleartext headers
    offset: int = 0  #: offset of ``data`` in the UDP payload (for Wireshark ``udp.payload[o:16]``)
    key: object = None  #: dedup key such as ``(ssrc, seq)``; None = only byte-identical dedup


@dataclass(frozen=True, slots=True)
class EcbResult:
    packets: int  #: packets analysed after dedup
    blocks: int  #: 16-byte blocks hashed at the chosen alignment
    alignment: int  #: chosen block alignment relative to the region start (0-15)
    repeated_blocks: int  #: R: distinct blocks repeating across packets (after exclusions)
    block_indices: int  #: distinct block indices at which those repeats occur
    prefix_only: bool  #: every repeat is explained by a shared prefix (CBC/fixed IV or dup data)
    redundant_blocks: int  #: distinct blocks only repeating inside long shared runs (copies)
    cleartext_blocks: int  #: distinct repeating blocks too regular to be ciphertext (ignored)
    example_block: str  #: hex of the most widespread counted repeat ("" when none)
    frames: tuple[tuple[int, int], ...]  #: (frame, UDP payload offset) of repeats, at most 10
    residue16: int | None  #: dominant region length mod 16
    residue16_fraction: float | None  #: its fraction of packets (L)
    suspected: bool


def length_residue(lengths: Iterable[int]) -> tuple[int | None, float | None]:
    """Dominant ``length mod 16`` and the fraction of lengths in that class."""
    counts = Counter(n % BLOCK for n in lengths)
    total = sum(counts.values())
    if not total:
        return None, None
    residue, n = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
    return residue, n / total


def _dedup(packets: Iterable[EcbPacket]) -> list[EcbPacket]:
    seen_data: set[bytes] = set()
    seen_keys: set[object] = set()
    out: list[EcbPacket] = []
    for p in packets:
        if p.data in seen_data or (p.key is not None and p.key in seen_keys):
            continue
        seen_data.add(p.data)
        if p.key is not None:
            seen_keys.add(p.key)
        out.append(p)
    return out


def _blocks(data: bytes, align: int) -> list[bytes]:
    return [data[i : i + BLOCK] for i in range(align, len(data) - BLOCK + 1, BLOCK)]


def _occurrences(split: list[list[bytes]]) -> dict[bytes, list[tuple[int, int]]]:
    """Block -> ``(packet index, block index)`` for blocks present in >= 2 packets."""
    where: dict[bytes, list[tuple[int, int]]] = {}
    for pi, blocks in enumerate(split):
        for bi, b in enumerate(blocks):
            where.setdefault(b, []).append((pi, bi))
    return {b: occ for b, occ in where.items() if len({pi for pi, _ in occ}) >= 2}


def _repeat_count(packets: list[EcbPacket], align: int) -> int:
    """Occurrences of blocks seen in >= 2 packets at this alignment.

    Occurrences (not distinct blocks) single out the true alignment: a window straddling two
    true blocks repeats only where both of them repeat, so a run of k repeated blocks gives k
    occurrences at the true alignment and k - 1 at a shifted one.
    """
    return sum(len(o) for o in _occurrences([_blocks(p.data, align) for p in packets]).values())


def _run(a: list[bytes], i: int, b: list[bytes], j: int) -> int:
    """Length of the identical run of blocks through ``a[i]`` == ``b[j]``."""
    lo = 0
    while i - lo - 1 >= 0 and j - lo - 1 >= 0 and a[i - lo - 1] == b[j - lo - 1]:
        lo += 1
    hi = 0
    while i + hi + 1 < len(a) and j + hi + 1 < len(b) and a[i + hi + 1] == b[j + hi + 1]:
        hi += 1
    return lo + 1 + hi


def analyze(packets: Iterable[EcbPacket]) -> EcbResult:
    """Repeated-block statistics and the ECB decision for one stream's ciphertext regions."""
    pkts = _dedup(packets)
    residue, fraction = length_residue(len(p.data) for p in pkts)
    align = 0
    if pkts:
        sample = pkts[:_SAMPLE]
        scores = [(_repeat_count(sample, a), -a) for a in range(BLOCK)]
        best = max(scores)
        if best[0] > scores[0][0]:
            align = -best[1]
    split = [_blocks(p.data, align) for p in pkts]
    occ = _occurrences(split)
    counted: dict[bytes, list[tuple[int, int]]] = {}
    prefix_blocks = redundant = cleartext = 0
    for block, places in occ.items():
        if len(set(block)) < MIN_DISTINCT_BYTES:
            cleartext += 1
            continue
        places = places[:_MAX_OCCURRENCES]
        genuine: set[tuple[int, int]] = set()
        prefix_seen = run_seen = False
        for x, (pa, ia) in enumerate(places):
            for pb, ib in places[x + 1 :]:
                if pa == pb:
                    continue
                if ia == ib and split[pa][: ia + 1] == split[pb][: ib + 1]:
                    prefix_seen = True
                elif _run(split[pa], ia, split[pb], ib) > MAX_RUN_BLOCKS:
                    run_seen = True
                else:
                    genuine.update(((pa, ia), (pb, ib)))
        if genuine:
            counted[block] = sorted(genuine)
        elif prefix_seen:
            prefix_blocks += 1
        elif run_seen:
            redundant += 1
    indices = {bi for places in counted.values() for _, bi in places}
    example = ""
    frames: list[tuple[int, int]] = []
    if counted:
        ranked = sorted(counted.items(), key=lambda kv: (-len({p for p, _ in kv[1]}), kv[0]))
        example = ranked[0][0].hex()
        for _block, places in ranked:
            for pi, bi in places:
                p = pkts[pi]
                pair = (p.frame, p.offset + align + bi * BLOCK)
                if pair not in frames and len(frames) < _MAX_FRAMES:
                    frames.append(pair)
    widespread = any(
        len({pi for pi, _ in places}) >= WIDESPREAD_PACKETS
        and len({bi for _, bi in places}) >= WIDESPREAD_INDICES
        for places in counted.values()
    )
    suspected = (
        (len(counted) >= MIN_REPEATED_BLOCKS or widespread)
        and len(indices) >= MIN_BLOCK_INDICES
        and fraction is not None
        and fraction >= MIN_RESIDUE_FRACTION
    )
    return EcbResult(
        packets=len(pkts),
        blocks=sum(len(b) for b in split),
        alignment=align,
        repeated_blocks=len(counted),
        block_indices=len(indices),
        prefix_only=not counted and prefix_blocks > 0,
        redundant_blocks=redundant,
        cleartext_blocks=cleartext,
        example_block=example,
        frames=tuple(frames),
        residue16=residue,
        residue16_fraction=fraction,
        suspected=suspected,
    )
