"""Repeated-block (ECB) detector of research notes section 2.2, on really encrypted streams."""

from __future__ import annotations

import os
import random
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import ecb, rtp
from inspector.dissect.ecb import EcbPacket, analyze, length_residue
from inspector.flows.view import Datagram, FlowView
from inspector.schema.rtp import RtpRow

KEY = bytes(range(16))
HEADERS = [bytes([t]) * 4 + b"frame-header" for t in (1, 2, 3, 4)]  # 4 frame types, 16 bytes
SILENCE = [bytes([0xF8, 0xFF, 0xFE, s]) * 4 + bytes([s]) * 16 for s in (1, 2, 3)]  # 32 bytes


def media_frames(n: int = 500, seed: int = 7) -> list[bytes]:
    """Media-like plaintext frames as in the section 2.2 simulation: 1 in 7 starts (after its
    header block) with a 48-byte zero prefix, 1 in 11 has an internal 32-byte zero run, 1 in 5
    carries a 32-byte silence pattern; the rest is random, with a random-length tail."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        blocks = [rng.randbytes(16) for _ in range(rng.randint(3, 20))]
        if i % 11 == 5:
            at = rng.randint(0, len(blocks))
            blocks[at:at] = [bytes(16), bytes(16)]
        if i % 5 == 2:
            pattern = SILENCE[rng.randrange(3)]
            at = rng.randint(0, len(blocks))
            blocks[at:at] = [pattern[:16], pattern[16:]]
        if i % 7 == 0:
            blocks[0:0] = [bytes(16)] * 3
        head = HEADERS[rng.randrange(4)]
        out.append(head + b"".join(blocks) + rng.randbytes(rng.randint(0, 15)))
    return out


def pkcs7(data: bytes) -> bytes:
    p = padding.PKCS7(128).padder()
    return p.update(data) + p.finalize()


def ecb_encrypt(frames: list[bytes]) -> list[bytes]:
    enc = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
    return [enc.update(pkcs7(f)) for f in frames]


def cbc_fixed_iv(frames: list[bytes]) -> list[bytes]:
    out = []
    for f in frames:
        enc = Cipher(algorithms.AES(KEY), modes.CBC(bytes(16))).encryptor()
        out.append(enc.update(pkcs7(f)) + enc.finalize())
    return out


def ctr_encrypt(frames: list[bytes]) -> list[bytes]:
    out = []
    for i, f in enumerate(frames):
        enc = Cipher(algorithms.AES(KEY), modes.CTR(struct.pack("!QQ", i, 0))).encryptor()
        out.append(enc.update(f) + enc.finalize())
    return out


def gcm_encrypt(frames: list[bytes]) -> list[bytes]:
    aead = AESGCM(KEY)
    return [aead.encrypt(struct.pack("!4xQ", i), f, None) for i, f in enumerate(frames)]


def regions(ciphertexts: list[bytes], offset: int = 12) -> list[EcbPacket]:
    return [EcbPacket(1000 + i, c, offset, (0xABCD, i)) for i, c in enumerate(ciphertexts)]


def test_aes_ecb_is_suspected_with_evidence() -> None:
    res = analyze(regions(ecb_encrypt(media_frames())))
    assert res.suspected and not res.prefix_only
    assert res.repeated_blocks >= 3 and res.block_indices >= 2
    assert (res.residue16, res.residue16_fraction) == (0, 1.0)
    assert res.alignment == 0 and res.packets == 500
    enc = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
    # Zero blocks, silence blocks, and the full PKCS#7 padding block of 16-byte-multiple frames.
    plain_blocks = [bytes(16), b"\x10" * 16] + [s[:16] for s in SILENCE] + [s[16:] for s in SILENCE]
    assert res.example_block in {enc.update(b).hex() for b in plain_blocks}
    assert 1 <= len(res.frames) <= 10
    for frame, offset in res.frames:
        assert 1000 <= frame < 1500 and (offset - 12) % 16 == 0


def test_stream_ciphers_and_aead_are_not_suspected() -> None:
    frames = media_frames()
    for ciphertexts in (ctr_encrypt(frames), gcm_encrypt(frames)):
        res = analyze(regions(ciphertexts))
        assert not res.suspected
        assert res.repeated_blocks == 0 and res.example_block == "" and res.frames == ()
        assert res.residue16_fraction is not None and res.residue16_fraction < 0.2


def test_cbc_with_fixed_iv_is_prefix_only() -> None:
    res = analyze(regions(cbc_fixed_iv(media_frames())))
    assert res.prefix_only and not res.suspected and res.repeated_blocks == 0


def zero_run_frames(n: int = 200, seed: int = 2020) -> list[bytes]:
    """Only zero runs repeat (30 % carry 48 zero bytes at 16:64, 20 % 32 at 96:128)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body = bytearray(rng.randbytes(160))
        if rng.random() < 0.3:
            body[16:64] = bytes(48)
        if rng.random() < 0.2:
            body[96:128] = bytes(32)
        out.append(bytes(body))
    return out


def test_single_widespread_repeat_is_suspected() -> None:
    # Real ECB media mostly repeats one block, E(zero block), at several positions.
    def ecb_raw(frames: list[bytes]) -> list[bytes]:  # 160-byte frames: no padding block
        enc = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()
        return [enc.update(f) for f in frames]

    res = analyze(regions(ecb_raw(zero_run_frames())))
    assert res.repeated_blocks == 1 and res.block_indices >= 3 and res.suspected
    assert not analyze(regions(ecb_raw(zero_run_frames(6)))).suspected  # too few packets
    assert not analyze(regions(ctr_encrypt(zero_run_frames()))).suspected


def test_cleartext_repeats_are_not_ciphertext() -> None:
    # Unencrypted frames repeat their zero runs as such: regular blocks never count as ECB.
    res = analyze(regions(zero_run_frames()))
    assert res.repeated_blocks == 0 and res.cleartext_blocks == 1 and not res.suspected


def test_dedup_of_identical_payloads_and_keys() -> None:
    ct = ecb_encrypt(media_frames(40))
    twice = regions(ct) + regions(ct)  # a mirrored capture: same bytes, same keys
    assert analyze(twice).packets == 40
    same_key = [EcbPacket(1, ct[0], 0, ("s", 1)), EcbPacket(2, ct[1], 0, ("s", 1))]
    assert analyze(same_key).packets == 1


def test_redundant_copies_are_not_ecb_repeats() -> None:
    # GCM-encrypted frames re-sent whole inside the next packet (RED/FEC style): long identical
    # runs at shifted positions, which are copies, not deterministic encryption.
    ct = gcm_encrypt(media_frames(60))
    red = [os.urandom(16) + ct[i - 1] + ct[i] if i else ct[0] for i in range(len(ct))]
    res = analyze(regions(red))
    assert res.repeated_blocks == 0 and res.redundant_blocks > 0 and not res.suspected


def test_misaligned_region_finds_the_block_alignment() -> None:
    rng = random.Random(3)
    ct = [rng.randbytes(5) + c for c in ecb_encrypt(media_frames(200))]
    res = analyze(regions(ct))
    assert res.alignment == 5 and res.repeated_blocks >= 3
    assert all((offset - 12 - 5) % 16 == 0 for _f, offset in res.frames)


def test_length_residue() -> None:
    assert length_residue([]) == (None, None)
    assert length_residue([32, 48, 50, 64]) == (0, 0.75)
    assert length_residue([26, 42, 58]) == (10, 1.0)  # 16-byte blocks plus a 10-byte tag


def rtp_view(payloads: list[bytes]) -> FlowView:
    dgs = []
    for i, p in enumerate(payloads):
        header = struct.pack("!BBHII", 0x80, 96, 500 + i, 3000 * i, 0x0BADCAFE)
        dgs.append(Datagram(10 + i, 20.0 + i / 30, True, header + p))
    return FlowView("Cecb", "udp", "10.0.0.1", 40000, "10.0.0.2", 8801, 20.0, tuple(dgs))


def test_rtp_rows_carry_the_ecb_statistics() -> None:
    rows = rtp.dissect(rtp_view(ecb_encrypt(media_frames(300))))
    (row,) = rows
    assert isinstance(row, RtpRow)
    assert row.ecb_suspected is True and row.ecb_prefix_only is False
    assert row.ecb_repeated_blocks >= 3 and row.ecb_block_indices >= 2
    assert row.payload_len_residue16 == 0 and row.residue16_fraction == 1.0
    assert len(row.ecb_example_block) == 32 and row.ecb_packets == 300
    pairs = [p.split(":") for p in row.ecb_frames.split(";")]
    assert pairs and all(int(f) >= 10 and (int(o) - 12) % 16 == 0 for f, o in pairs)
    gcm = rtp.dissect(rtp_view(gcm_encrypt(media_frames(300))))[0]
    assert gcm.ecb_suspected is False and gcm.ecb_repeated_blocks == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=70), max_size=12))
def test_analyze_any_regions(chunks: list[bytes]) -> None:
    res = analyze(EcbPacket(i, c, i) for i, c in enumerate(chunks))
    assert res.repeated_blocks >= 0 and len(res.frames) <= 10
    assert 0 <= res.alignment < ecb.BLOCK


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([bytes(16), b"\x01" * 16, b"\x02" * 16, b"xy"]), max_size=30),
       st.integers(1, 6))  # fmt: skip
def test_analyze_repetitive_regions(pieces: list[bytes], per: int) -> None:
    chunks = [b"".join(pieces[i : i + per]) for i in range(0, len(pieces), per)]
    res = analyze(EcbPacket(i, c) for i, c in enumerate(chunks))
    assert res.block_indices <= res.blocks
