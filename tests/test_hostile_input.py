"""Captures are hostile input: corrupted bytes anywhere give a result or a clear error, never a
traceback or a hang, and every packet read is accounted for."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import inspector
from inspector.errors import InputError

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def mutate(data: bytes, rnd: random.Random, flips: int) -> bytes:
    out = bytearray(data)
    for _ in range(flips):
        pos = rnd.randrange(24, len(out))  # keep the global header: mutate records and packets
        out[pos] = rnd.getrandbits(8)
    return bytes(out)


def check(path: Path) -> None:
    try:
        result = inspector.analyze(path)
    except InputError:
        return  # a clear one-line error is an acceptable answer for a broken file
    pk = result.summary["packets"]
    assert pk["total"] == pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]
    assert result.summary["internal_errors"] == 0
    assert len(result.flows) == result.summary["flows"]


@pytest.mark.parametrize("seed", range(40))
def test_byte_flips_in_records_and_packets(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    source = rnd.choice(sorted(CAPTURES.glob("*.pcap")))
    path = tmp_path / "mutated.pcap"
    path.write_bytes(mutate(source.read_bytes(), rnd, flips=rnd.choice([1, 20, 400])))
    check(path)


@pytest.mark.parametrize("seed", range(6))
def test_cut_anywhere(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(100 + seed)
    data = (CAPTURES / "teams-turn.pcap").read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: rnd.randrange(1, len(data))])
    check(path)


@pytest.mark.parametrize("seed", range(6))
def test_random_files(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(200 + seed)
    path = tmp_path / "random.pcap"
    head = rnd.choice([b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a", b"\x1f\x8b"])
    path.write_bytes(head + bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 5000))))
    check(path)


def test_hostile_payloads_of_every_protocol(tmp_path: Path) -> None:
    """Every UDP/TCP payload of a real scenario replaced by random bytes of the same length."""
    import struct

    rnd = random.Random(7)
    data = bytearray((CAPTURES / "meet-quic.pcap").read_bytes())
    pos = 24
    while pos + 16 <= len(data):
        (incl,) = struct.unpack_from("<I", data, pos + 8)
        start = pos + 16 + 14 + 20 + 8  # Ethernet + IPv4 + UDP: randomise what follows
        for i in range(start, pos + 16 + incl):
            data[i] = rnd.getrandbits(8)
        pos += 16 + incl
    path = tmp_path / "noise.pcap"
    path.write_bytes(bytes(data))
    check(path)
