"""CI form of scripts/fuzz_parsers.py: every target on seeds from the bundled captures and on
deterministic mutations of them; only the target's documented error may escape.

The long coverage-guided runs (atheris) are ``python scripts/fuzz_parsers.py all --seconds 600``.
"""

from __future__ import annotations

import random

import pytest

from tests.fuzz.harness import fuzz_entry, fuzz_parsers

#: mutations per seed; the whole-flow target runs every dissector, so it gets fewer
ROUNDS = {"dissectors": 2}


def mutations(data: bytes, rnd: random.Random, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(data)
        for _ in range(rnd.choice((1, 4, 16))):
            pos = rnd.randrange(1, len(b)) if len(b) > 1 else 0
            how = rnd.randrange(4)
            if how == 0 and b:
                b[pos] = rnd.getrandbits(8)
            elif how == 1:
                del b[pos:]
            elif how == 2:
                b[pos:pos] = rnd.randbytes(rnd.choice((1, 3, 40)))
            else:
                b[pos : pos + 4] = rnd.choice((b"\xff" * 4, b"\0" * 4, b"\x7f\xff\xff\xff"))
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("target", sorted(fuzz_parsers.TARGETS))
def test_only_the_documented_error_escapes(target: str) -> None:
    one = fuzz_parsers.harness(target, None)  # strict: anything not allowed is raised here
    seeds = fuzz_parsers.seeds(target, limit=120, shared=False)
    assert seeds, target
    rnd = random.Random(target)
    for seed in seeds:
        one(seed)
        for m in mutations(seed, rnd, ROUNDS.get(target, 10)):
            one(m)


def test_pcapng_seeds_read_as_the_pcap_they_came_from() -> None:
    import io

    from inspector.source.open import _open

    data = (fuzz_parsers.ROOT / "captures" / "teams-turn.pcap").read_bytes()
    a = [s[1:6] for s in _open("a", io.BytesIO(data)).spans()]
    b = [s[1:6] for s in _open("b", io.BytesIO(fuzz_entry.pcap_to_pcapng(data))).spans()]
    assert len(a) == len(b) > 100
    assert [bytes(x[1][x[2] : x[3]]) for x in a] == [bytes(x[1][x[2] : x[3]]) for x in b]


def test_flow_serialization_round_trips() -> None:
    view = fuzz_entry.deserialize_flow(bytes([1]) + b"\x00\x35\x13\x88" + b"\x00\x04\x01abc")
    assert view.proto == "udp" and view.orig_p == 53 and view.resp_p == 5000
    assert view.datagrams[0].payload == b"abc" and view.datagrams[0].from_orig
    again = fuzz_entry.deserialize_flow(fuzz_entry.serialize_flow(view))
    assert again.datagrams == view.datagrams


def test_every_module_imports_for_instrumentation() -> None:
    """atheris instruments what is imported inside its block: the lazily imported readers and
    dissectors too, once import_all has imported every module there."""
    import sys

    assert fuzz_parsers.import_all() == []
    assert {"inspector.source.pcap", "inspector.source.pcapng", "inspector.dissect.rtp"} <= set(
        sys.modules
    )
