"""Score the inspector's telemetry findings against the labelled truth set (issue 12).

Runs ``inspector.analyze`` on every capture of ``tests/truth/telemetry.csv`` (or, with
``--corpus``, on every capture listed in the shared corpus' EXPECTED.csv) and compares the
``third_party_telemetry`` / ``first_party_telemetry`` findings with the labels:

- precision and recall of third-party findings, keyed by (capture, destination);
- how many first-party destinations (``party == first``: the destination's parent entity is the
  capture app's entity) were reported as third party;
- every disagreement, with its kind.

A third-party finding whose destination has no row in the truth set counts as a false positive:
the truth set lists every telemetry destination of the corpus, so an unlabelled name is not one.

    python scripts/score_telemetry.py            # captures in the truth set
    python scripts/score_telemetry.py --corpus   # all captures of EXPECTED.csv
    python scripts/score_telemetry.py --json     # numbers as JSON (for CI or notes)
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "tests" / "truth" / "telemetry.csv"
REAL = (ROOT / ".." / "shared" / "captures" / "real").resolve()
THIRD = "third_party_telemetry"
FIRST = "first_party_telemetry"
KINDS = (THIRD, FIRST)

Key = tuple[str, str]  # (capture path relative to the corpus, destination, lower case)
Predict = Callable[[Path], dict[str, set[str]]]


@dataclass
class Score:
    """What the comparison found; ``ok`` says whether the issue-12 acceptance holds."""

    captures: int = 0
    truth_third: int = 0
    reported_third: int = 0
    true_positives: int = 0
    first_party_as_third: int = 0
    truth_first_telemetry: int = 0
    reported_first_telemetry_hits: int = 0
    disagreements: list[dict[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / self.reported_third if self.reported_third else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth_third if self.truth_third else 1.0

    def ok(self, precision: float = 0.95, recall: float = 0.90) -> bool:
        return (
            self.precision >= precision and self.recall >= recall and self.first_party_as_third == 0
        )

    def as_dict(self) -> dict[str, object]:
        kinds = Counter(d["kind"] for d in self.disagreements)
        return {
            "captures": self.captures,
            "truth_third_party": self.truth_third,
            "reported_third_party": self.reported_third,
            "true_positives": self.true_positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "first_party_reported_as_third_party": self.first_party_as_third,
            "truth_first_party_telemetry": self.truth_first_telemetry,
            "first_party_telemetry_reported_as_first_party": self.reported_first_telemetry_hits,
            "disagreements_by_kind": dict(kinds.most_common()),
            "disagreements": self.disagreements,
        }


def load_truth(path: Path = TRUTH) -> dict[Key, dict[str, str]]:
    """The truth set keyed by (capture, destination)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {(r["capture"], r["destination"].lower()): r for r in csv.DictReader(fh)}


def corpus_captures(real: Path = REAL) -> list[str]:
    with (real / "EXPECTED.csv").open(newline="", encoding="utf-8") as fh:
        return [r["path"] for r in csv.DictReader(fh)]


def tool_findings(path: Path) -> dict[str, set[str]]:
    """Destinations (lower case) of the tool's telemetry findings, by finding kind."""
    import inspector

    found = inspector.analyze(path).findings
    out: dict[str, set[str]] = {k: set() for k in KINDS}
    for kind, dest in zip(found["finding"], found["destination"], strict=True):
        if kind in out and isinstance(dest, str) and dest:
            out[kind].add(dest.lower())
    return out


def _disagreement(key: Key, row: dict[str, str] | None, said: str) -> dict[str, str] | None:
    expected = row["expected"] if row else "unlabelled"
    party = row["party"] if row else ""
    if expected == THIRD and said == THIRD:
        return None
    if expected == FIRST and said == FIRST:
        return None
    if expected in ("not_telemetry", "unlabelled") and said == "":
        return None
    if said == THIRD and party == "first":
        kind = "first party reported as third party"
    elif said == THIRD and expected == "unlabelled":
        kind = "unlabelled destination reported as third party"
    elif said == THIRD:
        kind = "not telemetry reported as third party"
    elif expected == THIRD and said == FIRST:
        kind = "third party reported as first party"
    elif expected == THIRD:
        how = row.get("contacted", "") if row else ""
        kind = f"third party missed ({how or 'unknown'})"
    elif expected == FIRST:
        kind = (
            "first-party telemetry not reported" if not said else f"first party reported as {said}"
        )
    else:
        kind = f"{expected} reported as {said}"
    return {
        "capture": key[0],
        "destination": key[1],
        "expected": expected,
        "party": party,
        "capture_app": row["capture_app"] if row else "",
        "tool": said or "(no telemetry finding)",
        "kind": kind,
    }


CONFIDENCE = {"low": 0, "medium": 1, "high": 2}


def score(
    truth: dict[Key, dict[str, str]],
    captures: Iterable[str],
    predict: Predict = tool_findings,
    real: Path = REAL,
    min_confidence: str = "low",
) -> Score:
    """Compare ``predict``'s findings on ``captures`` with ``truth``.

    Rows below ``min_confidence`` are left out entirely: neither scored nor counted as unlabelled.
    """
    floor = CONFIDENCE[min_confidence]
    skipped = {
        k for k, r in truth.items() if CONFIDENCE.get(r.get("confidence", "high"), 2) < floor
    }
    result = Score()
    for capture in sorted(set(captures)):
        result.captures += 1
        found = predict(real / capture)
        said: dict[str, str] = {d: FIRST for d in found.get(FIRST, set())}
        said.update({d: THIRD for d in found.get(THIRD, set())})  # third wins a tie
        labelled = {k[1] for k in truth if k[0] == capture}
        for dest in sorted(labelled | set(said)):
            key = (capture, dest)
            if key in skipped:
                continue
            row = truth.get(key)
            tool = said.get(dest, "")
            expected = row["expected"] if row else "unlabelled"
            result.truth_third += expected == THIRD
            result.reported_third += tool == THIRD
            result.true_positives += expected == THIRD and tool == THIRD
            result.first_party_as_third += bool(row) and row["party"] == "first" and tool == THIRD
            result.truth_first_telemetry += expected == FIRST
            result.reported_first_telemetry_hits += expected == FIRST and tool == FIRST
            d = _disagreement(key, row, tool)
            if d:
                result.disagreements.append(d)
    return result


def report(s: Score) -> str:
    lines = [
        f"captures scored: {s.captures}",
        f"third-party precision: {s.true_positives}/{s.reported_third} = {s.precision:.1%}",
        f"third-party recall:    {s.true_positives}/{s.truth_third} = {s.recall:.1%}",
        f"first-party destinations reported as third party: {s.first_party_as_third}",
        f"first-party telemetry reported as first party: "
        f"{s.reported_first_telemetry_hits}/{s.truth_first_telemetry}",
        f"acceptance (P>=95%, R>=90%, 0 first-as-third): {'PASS' if s.ok() else 'FAIL'}",
        "",
        f"disagreements ({len(s.disagreements)}):",
    ]
    for kind, n in Counter(d["kind"] for d in s.disagreements).most_common():
        lines.append(f"  {n:3d}  {kind}")
    lines.append("")
    for d in s.disagreements:
        app = f" [{d['capture_app']}]" if d["capture_app"] else ""
        lines.append(
            f"  {d['capture']}{app}: {d['destination']}: expected {d['expected']}"
            f"{' (first party)' if d['party'] == 'first' else ''}, tool {d['tool']} -> {d['kind']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=TRUTH, help="truth CSV (default: %(default)s)")
    ap.add_argument("--real", type=Path, default=REAL, help="shared corpus folder")
    ap.add_argument("--corpus", action="store_true", help="score every capture of EXPECTED.csv")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument(
        "--min-confidence",
        choices=sorted(CONFIDENCE, key=CONFIDENCE.__getitem__),
        default="low",
        help="leave out truth rows below this confidence (default: all rows)",
    )
    args = ap.parse_args(argv)
    if not (args.real / "EXPECTED.csv").is_file():
        print(f"score_telemetry: no corpus at {args.real}", file=sys.stderr)
        return 2
    truth = load_truth(args.truth)
    captures = corpus_captures(args.real) if args.corpus else [k[0] for k in truth]
    s = score(truth, captures, real=args.real, min_confidence=args.min_confidence)
    print(json.dumps(s.as_dict(), indent=1) if args.json else report(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
