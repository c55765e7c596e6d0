"""docs/verdicts.md lists exactly the rules the code runs."""

from __future__ import annotations

from pathlib import Path

from inspector.assess.docs import BEGIN, END, generated_section, update
from inspector.assess.encryption import VERDICT_RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"


def test_verdict_doc_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert generated_section() in text, "run: python -m inspector.assess.docs"


def test_every_rule_is_listed_once() -> None:
    section = generated_section().split("## Role rules")[0]
    for r in VERDICT_RULES:
        assert section.count(f"| `{r.name}` |") == 1


def test_update_replaces_only_the_generated_part() -> None:
    text = f"intro\n\n{BEGIN}\nSTALE-LINE\n{END}\noutro\n"
    out = update(text)
    assert out.startswith("intro") and out.endswith("outro\n") and "STALE-LINE" not in out
