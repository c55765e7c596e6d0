"""CI form of the mutation campaign (scripts/fuzz_captures.py): a fixed sample of 300 mutants.

The sample is drawn from the shared corpus plus the bundled captures when the corpus is present,
else from the bundled captures alone; every mutant must keep the invariant (no traceback, no
hang, balanced accounting, no internal_error, complete outputs; via the CLI for a share).
"""

from __future__ import annotations

import json

from tests.fuzz.harness import fuzz_captures, fuzz_mutate

SAMPLE = ["--count", "300", "--seed", "20261206", "--jobs", "2"]
SAMPLE += ["--cli-every", "60", "--outputs-every", "3", "--progress-every", "100000"]


def test_fixed_sample_of_mutants_keeps_the_invariant() -> None:
    report = fuzz_captures.campaign(fuzz_captures.parse_args(SAMPLE))
    assert report["count"] == 300
    assert report["failures_total"] == 0, json.dumps(report["failures"], indent=1)[:4000]
    assert report["outcomes"].get("ok", 0) > 150  # most mutants still read as captures
    assert sum(report["cli_checked"].values()) == 5


def test_mutants_are_reproducible_from_their_recipe() -> None:
    src = sorted(fuzz_captures.capture_sources(None))[0].read_bytes()
    for index in range(50):
        a = fuzz_mutate.make_mutant(src, 7, index)
        assert a == fuzz_mutate.make_mutant(src, 7, index)
    assert len({fuzz_mutate.make_mutant(src, 7, i)[0] for i in range(50)}) > 45


def test_every_operator_changes_pcap_and_pcapng_structure() -> None:
    """Each operator, applied alone, yields bytes that differ from the source on some seed."""
    import random

    pcap = (fuzz_captures.ROOT / "captures" / "teams-turn.pcap").read_bytes()
    for name, op in fuzz_mutate.OPERATORS.items():
        changed = False
        for seed in range(20):
            buf = bytearray(pcap)
            op(buf, fuzz_mutate.layout(pcap), random.Random(seed))
            changed |= bytes(buf) != pcap
        assert changed, name
