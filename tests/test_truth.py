"""The tshark-labelled truth set of issue 11 (tests/truth/truth.csv) and the tool's score on it.

The first tests check the truth file itself (columns, vocabulary, one row per flow, a tshark
justification on every row). The last two run the tool on every capture of the truth set and
asserts the acceptance of issue 11: none of its error classes (false end-to-end, false plaintext,
"encrypted" on cleartext), and 99 % verdict and role agreement.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from inspector.apps import APPS as APP_REGISTRY
from inspector.assess.encryption import VERDICT_RULES
from inspector.vocab import Modifier, Role, Verdict
from tests.conftest import real_dir

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "tests" / "truth" / "truth.csv"

COLUMNS = [
    "capture",
    "proto",
    "orig_h",
    "orig_p",
    "resp_h",
    "resp_p",
    "direction_free",
    "app",
    "role",
    "verdict",
    "modifiers",
    "reason",
    "note",
]
#: The label vocabulary is the tool's own (inspector/vocab.py, the app registry, the verdict
#: rule table): a label the tool could never output cannot be in the truth set.
VERDICTS = {str(v) for v in Verdict}
ROLES = {str(r) for r in Role}
APPS = {""} | {p.name for p in APP_REGISTRY}
MODIFIERS = {str(m) for m in Modifier}
REASONS = {r.reason for r in VERDICT_RULES if r.outcome is Verdict.UNKNOWN}


def _scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "score_truth", ROOT / "scripts" / "score_truth.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["score_truth"] = mod
    spec.loader.exec_module(mod)
    return mod


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = _scorer().load_truth(TRUTH)
    return rows


def test_truth_file_has_the_documented_columns_and_enough_rows() -> None:
    with TRUTH.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    assert header == COLUMNS
    rows = _rows()
    assert len(rows) >= 400
    assert len({r["capture"] for r in rows}) >= 50


def test_truth_labels_use_the_taxonomy_vocabulary() -> None:
    for r in _rows():
        where = (r["capture"], r["orig_h"], r["orig_p"], r["resp_h"], r["resp_p"])
        assert r["proto"] in {"tcp", "udp", "icmp"}, where
        assert r["verdict"] in VERDICTS, where
        assert r["role"] in ROLES, where
        assert r["app"] in APPS, where
        assert r["direction_free"] in {"yes", "no"}, where
        mods = [m for m in r["modifiers"].split(";") if m]
        assert set(mods) <= MODIFIERS, where
        if r["verdict"] == "UNKNOWN":
            assert r["reason"] in REASONS, where
        else:
            assert r["reason"] == "", where


def test_every_row_is_one_flow_and_justified_by_tshark() -> None:
    keys = Counter(
        (
            r["capture"],
            r["proto"],
            frozenset({(r["orig_h"], r["orig_p"]), (r["resp_h"], r["resp_p"])}),
        )
        for r in _rows()
    )
    assert [k for k, n in keys.items() if n > 1] == []
    for r in _rows():
        assert r["note"].startswith("tshark -r "), r["note"][:80]
        assert " -> " in r["note"] and "REVIEW" not in r["note"], r["note"][:80]


def test_truth_captures_exist_in_the_corpus() -> None:
    root = real_dir()
    missing = sorted({r["capture"] for r in _rows() if not (root / r["capture"]).is_file()})
    assert missing == []


def test_scorer_matches_rows_in_either_orientation() -> None:
    st = _scorer()
    truth = [dict(zip(COLUMNS, ["c", "udp", "10.0.0.1", "5000", "10.0.0.2", "6000"], strict=False))]
    truth[0].update(verdict="PLAINTEXT", role="media", app="")
    flow = {
        "proto": "udp",
        "orig_h": "10.0.0.2",
        "orig_p": "6000",
        "resp_h": "10.0.0.1",
        "resp_p": "5000",
        "encryption_verdict": "PROPRIETARY_ENCRYPTED",
        "role": "media",
        "app": "Zoom",
        "orig_pkts": "3",
        "resp_pkts": "0",
    }
    score = st.Score(st.match(truth, [flow]))
    assert len(score.false_encrypted()) == 1
    assert score.summary()["role_agreement"] == 1.0
    assert score.summary()["verdict_agreement"] == 0.0


@cache
def _score() -> Any:
    st = _scorer()
    return st, st.score(_rows(), real_dir())


def test_tool_makes_none_of_the_issue_11_errors_on_the_truth_set() -> None:
    """The error classes a journalist would print: none on the truth set."""
    st, score = _score()
    summary = score.summary()
    assert summary["missing"] == 0, st.render(score)
    assert summary["false_e2e"] == 0, st.render(score)
    assert summary["false_plaintext"] == 0, st.render(score)
    assert summary["false_encrypted_on_cleartext"] == 0, st.render(score)


def test_tool_meets_the_issue_11_agreement_on_the_truth_set() -> None:
    st, score = _score()
    summary = score.summary()
    assert summary["verdict_agreement"] >= 0.99, st.render(score)
    assert summary["role_agreement"] >= 0.99, st.render(score)
