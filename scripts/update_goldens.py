"""Rewrite captures/golden/<scenario>.findings.csv from the current analysis.

Run after a deliberate change of behaviour, then read the diff: every changed line is a changed
claim the tool makes about a capture. ``tests/test_scenarios.py`` compares against these files.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import inspector  # noqa: E402

GOLDEN_COLUMNS = [
    "finding_id",
    "session_id",
    "app",
    "finding",
    "severity",
    "destination",
    "organisation",
    "category",
    "verdict",
    "modifiers",
    "confidence",
    "frames",
    "flows",
]


def golden_frame(capture: Path):  # type: ignore[no-untyped-def]
    result = inspector.analyze(capture)
    return result.findings[GOLDEN_COLUMNS]


def main() -> None:
    for capture in sorted((ROOT / "captures").glob("*.pcap")):
        out = ROOT / "captures" / "golden" / f"{capture.stem}.findings.csv"
        golden_frame(capture).to_csv(out, index=False, lineterminator="\n")
        print(out.relative_to(ROOT))


if __name__ == "__main__":
    main()
