"""Replay the corpora the coverage-guided runs grew: every input still meets its invariant.

``scripts/fuzz_parsers.py`` keeps each target's corpus (seeds plus every input that found new
coverage) in ``WORKDIR/corpus/TARGET``. Two kinds are replayed:

* ``tests/fuzz/corpus/TARGET``, committed: grown from the repository's own captures only
  (``fuzz_parsers.py all --bundled-only``), so it may live in the repository; always replayed.
* the corpora of the long runs, derived from the shared captures and therefore never committed
  (as the shared captures are not): replayed when they are there (``INSPECTOR_FUZZ_WORKDIR``,
  default ``/tmp/inspector-fuzz``), skipped otherwise.
A crasher goes to ``regressions/`` with a test (see its README); the ten-minute runs of
issue 17 found none (benchmarks/RESULTS-fuzz.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.harness import fuzz_parsers

WORKDIR = Path(os.environ.get("INSPECTOR_FUZZ_WORKDIR", "/tmp/inspector-fuzz"))
COMMITTED = Path(__file__).resolve().parent / "corpus"
#: at most this many inputs per target (the largest corpora have about a thousand)
LIMIT = 400


@pytest.mark.parametrize("target", sorted(fuzz_parsers.TARGETS))
def test_committed_corpus_replays_clean(target: str) -> None:
    corpus = COMMITTED / target
    assert corpus.is_dir() and any(corpus.iterdir()), f"no committed corpus for {target}"
    _replay(target, corpus)


@pytest.mark.parametrize("target", sorted(fuzz_parsers.TARGETS))
def test_saved_corpus_replays_clean(target: str) -> None:
    corpus = WORKDIR / "corpus" / target
    if not corpus.is_dir():
        pytest.skip(f"no saved corpus for {target} in {WORKDIR} (run scripts/fuzz_parsers.py)")
    _replay(target, corpus)


def _replay(target: str, corpus: Path) -> None:
    one = fuzz_parsers.harness(target, None)
    files = sorted(corpus.iterdir())[:LIMIT]
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a running fuzzer replaced it by a smaller one
            continue
        one(data)
