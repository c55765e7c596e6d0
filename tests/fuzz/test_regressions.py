"""Every crasher the fuzzers found, replayed: it must now give a result or one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.harness import fuzz_captures, fuzz_mutate

HERE = Path(__file__).resolve().parent / "regressions"
MUTANTS = sorted(p for p in HERE.iterdir() if p.name.endswith((".pcap", ".pcapng", ".gz")))
RECIPES = sorted(HERE.glob("*.json"))


@pytest.mark.parametrize("path", MUTANTS, ids=lambda p: p.name)
def test_committed_mutant(tmp_path: Path, path: Path) -> None:
    outcome, detail = fuzz_captures.analyse_in_process(path, tmp_path / "a", 30.0)
    assert outcome in ("ok", "rejected"), detail
    cli, detail = fuzz_captures.analyse_cli(path, tmp_path / "b", 30.0, {})
    assert cli == outcome, detail


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_recipe_from_the_shared_corpus(tmp_path: Path, path: Path) -> None:
    recipe = json.loads(path.read_text())
    source = fuzz_captures.resolve_source(recipe["source"])
    if not source.is_file():
        pytest.skip(f"shared capture not present: {recipe['source']}")
    _, ops = fuzz_mutate.make_mutant(source.read_bytes(), recipe["seed"], recipe["index"])
    assert ops == recipe["ops"]  # the recipe still builds the same mutant
    task = {"index": recipe["index"], "seed": recipe["seed"], "source": str(source)}
    task |= {"min_seconds": 30.0, "cli": True, "outputs": True, "env": {}}
    rec = fuzz_captures.run_one(task, tmp_path)
    assert rec["outcome"] in ("ok", "rejected"), rec["detail"]
