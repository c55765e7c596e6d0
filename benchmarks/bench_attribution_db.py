#!/usr/bin/env python3
"""Micro benchmark: cost of loading the attribution database and of one lookup.

Usage::

    python benchmarks/bench_attribution_db.py [--compare OLD_DATA_DIR] [--n 200000]
        [--capture PCAP]

Measures, for the bundled database (and optionally an older copy of ``inspector/data`` for
comparison): load time, ``lookup_ip`` and ``lookup_domain`` per call over random public
addresses and a mix of known/unknown names, and :func:`describe_endpoint` per call. Best of 5.
With ``--capture`` (and ``--compare``), the capture is collected once and the whole attribution
stage (``inspector.attribute.stage.attribute``) is timed with each database, alternately, best of
3: an A/B of the data change in the same process. The attribution budget is checked against the
full-pipeline benchmark
(benchmarks/RESULTS-pipeline.md), which this only complements. ``lookup_domain`` is measured
without its memo (``_lookup_domain``) and with it (names repeat across flows).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.attribute.database import Database, load_database
from inspector.attribute.entities import describe_endpoint

NAMES = (
    "graph.facebook.com",
    "www.facebook.com",
    "us04web.zoom.us",
    "mobile.pipe.aria.microsoft.com",
    "d1234.cloudfront.net",
    "www.google.de",
    "unknown-host.example.org",
    "a.b.c.d.e.example.net",
    "skypedataprdcolneu04.cloudapp.net",
    "mapi.apptimize.com",
)


def best(fn: Callable[[], None], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(label: str, directory: Path | None, n: int) -> None:
    t_load = best(lambda: load_database(directory), 3)
    db: Database = load_database(directory)
    rng = random.Random(1)
    octet = rng.randint
    addrs = [f"{octet(1, 223)}.{octet(0, 255)}.{octet(0, 255)}.1" for _ in range(n)]
    names = [NAMES[i % len(NAMES)] for i in range(n)]
    t_ip = best(lambda: [db.lookup_ip(a) for a in addrs]) / n
    t_cold = best(lambda: [db._lookup_domain(x) for x in names]) / n  # without the memo
    t_name = best(lambda: [db.lookup_domain(x) for x in names]) / n
    t_ep = best(lambda: [describe_endpoint(db, x, a) for x, a in zip(names, addrs, strict=True)])
    t_ep /= n
    print(
        f"{label}: {db.range_count} ranges, {db.domain_count} name patterns; "
        f"load {t_load * 1e3:.1f} ms; lookup_ip {t_ip * 1e6:.2f} us; "
        f"lookup_domain {t_cold * 1e6:.2f} us (memoised {t_name * 1e6:.2f} us); "
        f"describe_endpoint {t_ep * 1e6:.2f} us per call"
    )


def stage_ab(capture: Path, old: Path | None) -> None:
    from inspector.attribute.stage import attribute
    from inspector.config import Config
    from inspector.evidence import build_evidence
    from inspector.pipeline import collect

    t0 = time.perf_counter()
    collected = collect([str(capture)], Config())
    dissect = time.perf_counter() - t0
    evidence = build_evidence(collected.rows)
    dbs = {"bundled": load_database(None)}
    if old is not None:
        dbs = {"old": load_database(old), **dbs}
    best_s = dict.fromkeys(dbs, float("inf"))
    for _ in range(3):
        for label, db in dbs.items():
            db._name_memo.clear()
            t = time.perf_counter()
            attribute(evidence, db, "")
            best_s[label] = min(best_s[label], time.perf_counter() - t)
    flows = len(collected.rows.get("flows", []))
    print(f"{capture}: {collected.total} packets, {flows} flows, packet stages {dissect:.2f} s")
    for label, sec in best_s.items():
        share = sec / dissect
        print(f"  attribution with {label} database: {sec:.3f} s ({share:.1%} of packet stages)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", type=Path, default=None)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--capture", type=Path, default=None)
    args = parser.parse_args()
    if args.capture is not None:
        stage_ab(args.capture, args.compare)
        return 0
    if args.compare is not None:
        measure(f"old ({args.compare})", args.compare, args.n)
    measure("bundled", None, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
