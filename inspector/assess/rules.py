"""Ordered rule tables: the first rule whose predicate holds decides (as h11 dispatches readers).

A rule is a row: a name, a predicate over the flow's facts that returns the facts the outcome
needs (or ``None`` when it does not apply), the outcome, a reason code, a confidence and the
sentence that documents it. ``docs/verdicts.md`` lists the rows of the verdict table, generated
from it (``python -m inspector.assess.rules``), and a test covers every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from inspector.vocab import Confidence

__all__ = ["Facts", "Rule", "first_match", "rules_markdown"]

#: Structured facts a rule found (frames, names, codecs...); rendered into prose by report/.
Facts = Mapping[str, object]
C = TypeVar("C")
Out = TypeVar("Out")


@dataclass(frozen=True, slots=True)
class Rule(Generic[C, Out]):
    name: str
    when: Callable[[C], Facts | None]
    outcome: Out
    reason: str
    confidence: Confidence
    doc: str


def first_match(table: Sequence[Rule[C, Out]], ctx: C) -> tuple[Rule[C, Out], Facts]:
    """The first rule of ``table`` that applies to ``ctx``, with the facts it found."""
    for rule in table:
        facts = rule.when(ctx)
        if facts is not None:
            return rule, facts
    raise LookupError("rule table has no catch-all row")


def rules_markdown(table: Sequence[Rule[C, Out]]) -> str:
    """The table as Markdown rows, in order (the generated part of the docs)."""
    lines = [
        "| # | rule | outcome | reason | confidence | when |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(table, 1):
        lines.append(
            f"| {i} | `{r.name}` | `{r.outcome}` | `{r.reason}` | {r.confidence} | {r.doc} |"
        )
    return "\n".join(lines)
