"""Score the tool against the tshark-labelled truth set (tests/truth/truth.csv, issue 11).

Usage:
    python3 scripts/score_truth.py [--truth tests/truth/truth.csv] [--root ../shared/captures/real]
        [--flows-dir DIR] [--json OUT.json] [--limit N]

For every capture named in the truth set it runs ``inspector.analyze`` (or, with --flows-dir, reads
``DIR/<capture path with / replaced by _>/flows.csv`` written by ``inspector analyze -o``), matches
each truth row to the tool's flows by capture + protocol + 5-tuple in either orientation (ICMP and
ICMPv6 rows, one per address pair, match every ICMP flow of the tool between the two addresses,
whatever types it keys them by), and prints:

- the verdict confusion matrix (rows: truth, columns: tool; MISSING = no tool flow for the tuple);
- verdict, role and app agreement;
- the acceptance classes of issue 11: false LIKELY_E2E/E2E_INDICATED, false PLAINTEXT, and
  "encrypted" verdicts (PROPRIETARY_ENCRYPTED, HOP_BY_HOP_SRTP, TRANSPORT_TLS) on flows tshark
  decodes as cleartext (truth PLAINTEXT);
- every disagreement, with the row's tshark justification.

When the tool splits one 5-tuple into several flows (idle timeouts), the row agrees only if every
one of them carries the labelled value; the confusion matrix counts the flow with most packets.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "tests" / "truth" / "truth.csv"
CORPUS = (ROOT / ".." / "shared" / "captures" / "real").resolve()

VERDICTS = (
    "PLAINTEXT",
    "TRANSPORT_TLS",
    "HOP_BY_HOP_SRTP",
    "PROPRIETARY_ENCRYPTED",
    "LIKELY_E2E",
    "E2E_INDICATED",
    "UNKNOWN",
)
E2E = {"LIKELY_E2E", "E2E_INDICATED"}
ENCRYPTED = {"PROPRIETARY_ENCRYPTED", "HOP_BY_HOP_SRTP", "TRANSPORT_TLS"}
MISSING = "MISSING"

Flow = dict[str, str]


@dataclass
class RowResult:
    truth: dict[str, str]
    flows: list[Flow]

    @property
    def main(self) -> Flow | None:
        if not self.flows:
            return None
        return max(self.flows, key=lambda f: _int(f.get("orig_pkts")) + _int(f.get("resp_pkts")))

    def values(self, column: str) -> set[str]:
        return {str(f.get(column) or "") for f in self.flows}

    def agrees(self, truth_col: str, tool_col: str) -> bool:
        return bool(self.flows) and self.values(tool_col) == {self.truth[truth_col]}


@dataclass
class Score:
    rows: list[RowResult] = field(default_factory=list)

    def confusion(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for r in self.rows:
            m = r.main
            out[r.truth["verdict"]][m["encryption_verdict"] if m else MISSING] += 1
        return out

    def rate(self, truth_col: str, tool_col: str) -> float:
        return sum(r.agrees(truth_col, tool_col) for r in self.rows) / max(len(self.rows), 1)

    def false_e2e(self) -> list[RowResult]:
        return [
            r
            for r in self.rows
            if r.truth["verdict"] not in E2E and r.values("encryption_verdict") & E2E
        ]

    def false_plaintext(self) -> list[RowResult]:
        return [
            r
            for r in self.rows
            if r.truth["verdict"] != "PLAINTEXT" and "PLAINTEXT" in r.values("encryption_verdict")
        ]

    def false_encrypted(self) -> list[RowResult]:
        return [
            r
            for r in self.rows
            if r.truth["verdict"] == "PLAINTEXT" and r.values("encryption_verdict") & ENCRYPTED
        ]

    def missing(self) -> list[RowResult]:
        return [r for r in self.rows if not r.flows]

    def disagreements(self) -> list[RowResult]:
        return [
            r
            for r in self.rows
            if not (r.agrees("verdict", "encryption_verdict") and r.agrees("role", "role"))
        ]

    def summary(self) -> dict[str, object]:
        return {
            "rows": len(self.rows),
            "captures": len({r.truth["capture"] for r in self.rows}),
            "verdict_agreement": self.rate("verdict", "encryption_verdict"),
            "role_agreement": self.rate("role", "role"),
            "app_agreement": self.rate("app", "app"),
            "false_e2e": len(self.false_e2e()),
            "false_plaintext": len(self.false_plaintext()),
            "false_encrypted_on_cleartext": len(self.false_encrypted()),
            "missing": len(self.missing()),
            "confusion": {k: dict(v) for k, v in self.confusion().items()},
        }


def _int(v: object) -> int:
    try:
        return int(float(str(v)))
    except ValueError:
        return 0


def load_truth(path: Path = TRUTH) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _key(proto: str, a: str, pa: str, b: str, pb: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return proto, frozenset({(a, str(pa)), (b, str(pb))})


def _pair(proto: str, a: str, b: str) -> tuple[str, frozenset[str]]:
    return proto, frozenset({a, b})


def match(truth: Iterable[dict[str, str]], flows: Iterable[Flow]) -> list[RowResult]:
    """Tool flows of ONE capture matched to that capture's truth rows."""
    by_key: dict[object, list[Flow]] = defaultdict(list)
    by_pair: dict[object, list[Flow]] = defaultdict(list)
    for f in flows:
        p = "icmp" if str(f["proto"]).startswith("icmp") else str(f["proto"])
        by_key[_key(p, f["orig_h"], f["orig_p"], f["resp_h"], f["resp_p"])].append(f)
        by_pair[_pair(p, f["orig_h"], f["resp_h"])].append(f)
    out = []
    for t in truth:
        if t["proto"] == "icmp":
            hits = by_pair.get(_pair("icmp", t["orig_h"], t["resp_h"]), [])
        else:
            hits = by_key.get(
                _key(t["proto"], t["orig_h"], t["orig_p"], t["resp_h"], t["resp_p"]), []
            )
        out.append(RowResult(t, list(hits)))
    return out


def tool_flows(capture: Path, flows_dir: Path | None, rel: str) -> list[Flow]:
    """The tool's flows for one capture: from a previous ``inspector analyze -o`` or in-process."""
    if flows_dir is not None:
        path = flows_dir / rel.replace("/", "_") / "flows.csv"
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    import inspector

    frame = inspector.analyze(capture).flows.astype(str)
    return frame.to_dict("records")


def score(
    truth: list[dict[str, str]],
    root: Path = CORPUS,
    flows_dir: Path | None = None,
) -> Score:
    by_cap: dict[str, list[dict[str, str]]] = defaultdict(list)
    for t in truth:
        by_cap[t["capture"]].append(t)
    result = Score()
    for cap, rows in by_cap.items():
        flows = tool_flows(root / cap, flows_dir, cap)
        result.rows += match(rows, flows)
    return result


def render(s: Score) -> str:
    conf = s.confusion()
    cols = [*VERDICTS, MISSING]
    width = max(len(c) for c in cols) + 1
    lines = ["verdict confusion matrix (rows: truth, columns: tool)", ""]
    lines.append(" " * width + "".join(c[:9].rjust(10) for c in cols) + "     total")
    for v in VERDICTS:
        cnt = conf.get(v, Counter())
        lines.append(
            v.ljust(width)
            + "".join(str(cnt.get(c, 0)).rjust(10) for c in cols)
            + str(sum(cnt.values())).rjust(10)
        )
    summ = s.summary()
    lines += [
        "",
        f"rows {summ['rows']} over {summ['captures']} captures; "
        f"tool flow missing for {summ['missing']}",
        f"verdict agreement {summ['verdict_agreement']:.1%}, "
        f"role agreement {summ['role_agreement']:.1%}, "
        f"app agreement {summ['app_agreement']:.1%}",
        f"false LIKELY_E2E/E2E_INDICATED: {summ['false_e2e']}",
        f"false PLAINTEXT: {summ['false_plaintext']}",
        f"'encrypted' (PROPRIETARY_ENCRYPTED/HOP_BY_HOP_SRTP/TRANSPORT_TLS) on cleartext: "
        f"{summ['false_encrypted_on_cleartext']}",
        "",
        "disagreements (verdict or role): capture proto orig -> resp | truth | tool | tshark note",
    ]
    for r in s.disagreements():
        t = r.truth
        tool = (
            ", ".join(
                sorted(
                    {
                        f"{f.get('encryption_verdict')}/{f.get('role')}/{f.get('app') or '-'}"
                        for f in r.flows
                    }
                )
            )
            or MISSING
        )
        where = f"{t['orig_h']}:{t['orig_p']} -> {t['resp_h']}:{t['resp_p']}"
        lines.append(
            f"{t['capture']} {t['proto']} {where} | "
            f"{t['verdict']}/{t['role']}/{t['app'] or '-'}"
            f"{' ' + t['reason'] if t['reason'] else ''} | {tool} | {t['note'][:160]}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--truth", type=Path, default=TRUTH)
    ap.add_argument("--root", type=Path, default=CORPUS)
    ap.add_argument("--flows-dir", type=Path, help="reuse inspector analyze -o outputs from here")
    ap.add_argument("--json", type=Path, help="also write the summary as JSON")
    ap.add_argument("--capture", action="append", help="only these captures (repeatable)")
    args = ap.parse_args(argv)
    truth = load_truth(args.truth)
    if args.capture:
        truth = [t for t in truth if t["capture"] in set(args.capture)]
    if not (args.root / "EXPECTED.csv").is_file():
        print(f"corpus not found: {args.root}", file=sys.stderr)
        return 2
    s = score(truth, args.root, args.flows_dir)
    print(render(s))
    if args.json:
        args.json.write_text(json.dumps(s.summary(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
