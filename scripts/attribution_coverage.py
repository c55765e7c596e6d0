#!/usr/bin/env python3
"""Attribution coverage over a folder of captures (default: the shared 203-capture corpus).

Usage::

    python scripts/attribution_coverage.py [CAPTURES] [--flows-cache FILE] [--reuse] [--json OUT]

Runs ``inspector.analyze`` on every capture (``.pcap``, ``.pcapng``, ``.cap``, ``.gz`` ...) one at
a time and reports, over the flows whose server address is public (not local, see
:mod:`inspector.attribute.local`):

* the share of those flows, and of their bytes (both directions), with **no owning
  organisation** (``pipeline_no_org_*``), and with neither an owner nor a known hosting provider
  ("hosted on X", the ``hosted_on`` column: ``pipeline_no_org_or_host_*``), judged twice: by the
  pipeline's own ``organisation`` column, and by the
  bundled database through :func:`inspector.attribute.entities.describe_endpoint` (owner from the
  name first, then from the address; a hosting provider's customer range is "hosted on X" and
  is reported separately, never counted as the owner);
* per conferencing/messaging capture (the file name names the app, see :data:`APP_FILES`):
  whether the vendor's own servers are named (some public flow whose owner entity is the app's).

``--flows-cache FILE`` stores the per-flow columns the metric needs (file, server name, address,
bytes, organisation); ``--reuse`` reads that file instead of re-running the pipeline, so the
database side can be re-measured in seconds. Targets of issue 12: <= 25 % of flows and <= 10 %
of bytes without an organisation.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.apps import app_profile  # noqa: E402
from inspector.attribute.database import Database, bundled_database  # noqa: E402
from inspector.attribute.entities import describe_endpoint  # noqa: E402
from inspector.attribute.local import is_local  # noqa: E402

DEFAULT_CAPTURES = (ROOT / ".." / "shared" / "captures" / "real").resolve()
SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz", ".pcap.gz", ".pcapng.gz", ".dump", ".trace")
CACHE_COLUMNS = (
    *("file", "server_name", "resp_h", "proto", "resp_p", "bytes", "organisation", "hosted_on"),
)
#: Pattern on the capture's path (lower case) -> the app it records (a capture may name several).
APP_FILES: tuple[tuple[str, str], ...] = (
    (r"zoom", "Zoom"),  # also the Princeton-Cabernet zoom-analysis folder
    (r"teams(?!peak)", "Microsoft Teams/Skype"),
    (r"skype", "Microsoft Teams/Skype"),
    (r"webex", "Webex"),
    (r"meet|hangout|duo", "Google Meet"),
    (r"jitsi", "Jitsi"),
    (r"slack", "Slack"),
    (r"discord", "Discord"),
    (r"whatsapp", "WhatsApp"),
    (r"signal", "Signal"),
    (r"facetime", "FaceTime"),
    (r"telegram", "Telegram"),
    (r"messenger", "Messenger"),
    (r"viber", "Viber"),
    (r"threema", "Threema"),
    (r"(?:^|/)line[-_.]", "LINE"),
    (r"wechat", "WeChat"),
)


@dataclass(frozen=True, slots=True)
class FlowFact:
    file: str
    server_name: str
    resp_h: str
    proto: str
    resp_p: int
    bytes: int
    organisation: str
    hosted_on: str = ""


def captures(root: Path) -> list[Path]:
    out = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name.lower().endswith(SUFFIXES) and "keys" not in p.parts
    ]
    return out


def run_pipeline(files: Iterable[Path], root: Path) -> list[FlowFact]:
    from inspector.api import analyze
    from inspector.errors import InputError

    facts: list[FlowFact] = []
    for i, path in enumerate(files, 1):
        rel = str(path.relative_to(root))
        try:
            result = analyze(path)
        except InputError as err:
            print(f"[{i}] {rel}: skipped ({err})", file=sys.stderr)
            continue
        flows = result.tables["flows"]
        for r in flows.itertuples(index=False):
            total = int(r.orig_bytes or 0) + int(r.resp_bytes or 0)
            facts.append(
                FlowFact(
                    rel,
                    str(r.server_name or ""),
                    str(r.resp_h),
                    str(r.proto),
                    int(r.resp_p or 0),
                    total,
                    str(r.organisation or ""),
                    str(r.hosted_on or ""),
                )
            )
        print(f"[{i}] {rel}: {len(flows)} flows", file=sys.stderr)
    return facts


def write_cache(path: Path, facts: list[FlowFact]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CACHE_COLUMNS)
        for f in facts:
            w.writerow([getattr(f, c) for c in CACHE_COLUMNS])


def read_cache(path: Path) -> list[FlowFact]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            FlowFact(
                r["file"],
                r["server_name"],
                r["resp_h"],
                r["proto"],
                int(r["resp_p"]),
                int(r["bytes"]),
                r["organisation"],
                r.get("hosted_on") or "",
            )
            for r in csv.DictReader(fh)
        ]


def apps_of(file: str) -> list[str]:
    low = file.lower()
    return [app for pattern, app in APP_FILES if re.search(pattern, low)]


def measure(facts: list[FlowFact], db: Database) -> dict[str, object]:
    public = [f for f in facts if f.resp_h and not is_local(f.resp_h)]
    total_bytes = sum(f.bytes for f in public) or 1
    pipe_missing = [f for f in public if not f.organisation]
    pipe_nothing = [f for f in pipe_missing if not f.hosted_on]
    db_missing: list[FlowFact] = []
    hosted_only: list[FlowFact] = []
    named_app: dict[str, set[str]] = {}
    seen: dict[str, set[str]] = {}
    for f in public:
        ep = describe_endpoint(db, f.server_name, f.resp_h)
        seen.setdefault(f.file, set()).add(
            ep.owner or (f"hosted on {ep.host}" if ep.host else f"unknown {f.resp_h}")
        )
        if not ep.owner:
            db_missing.append(f)
            if ep.host:
                hosted_only.append(f)
        elif ep.entity:
            named_app.setdefault(f.file, set()).add(ep.entity)
    destinations = {(f.file, f.server_name or f.resp_h) for f in public}
    unknown_destinations = {(f.file, f.server_name or f.resp_h) for f in db_missing}
    unknown_names: dict[str, int] = {}
    for f in db_missing:
        key = f.server_name or f"{f.resp_h} ({f.proto}/{f.resp_p})"
        unknown_names[key] = unknown_names.get(key, 0) + f.bytes
    per_capture = []
    for file in sorted({f.file for f in facts}):
        for app in apps_of(file):
            profile = app_profile(app)
            entity = profile.entity if profile else ""
            flows_of = [f for f in public if f.file == file]
            per_capture.append(
                {
                    "file": file,
                    "app": app,
                    "public_flows": len(flows_of),
                    "vendor_named": bool(entity) and entity in named_app.get(file, set()),
                    "destinations": sorted(seen.get(file, set())),
                }
            )

    def pct(part: float, whole: float) -> float:
        return round(100.0 * part / whole, 1) if whole else 0.0

    return {
        "database_version": db.version,
        "flows": len(facts),
        "public_flows": len(public),
        "public_bytes": sum(f.bytes for f in public),
        "pipeline_no_org_flows_pct": pct(len(pipe_missing), len(public)),
        "pipeline_no_org_bytes_pct": pct(sum(f.bytes for f in pipe_missing), total_bytes),
        "pipeline_no_org_or_host_flows_pct": pct(len(pipe_nothing), len(public)),
        "pipeline_no_org_or_host_bytes_pct": pct(sum(f.bytes for f in pipe_nothing), total_bytes),
        "database_no_owner_flows_pct": pct(len(db_missing), len(public)),
        "database_no_owner_bytes_pct": pct(sum(f.bytes for f in db_missing), total_bytes),
        "hosted_only_flows_pct": pct(len(hosted_only), len(public)),
        "hosted_only_bytes_pct": pct(sum(f.bytes for f in hosted_only), total_bytes),
        "database_no_owner_or_host_flows_pct": pct(len(db_missing) - len(hosted_only), len(public)),
        "public_destinations": len(destinations),
        "database_no_owner_destinations_pct": pct(len(unknown_destinations), len(destinations)),
        "per_capture": per_capture,
        "top_unknown_by_bytes": sorted(unknown_names.items(), key=lambda kv: -kv[1])[:40],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("captures", nargs="?", type=Path, default=DEFAULT_CAPTURES)
    parser.add_argument("--flows-cache", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="read --flows-cache, skip analysis")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    args = parser.parse_args(argv)
    if args.reuse:
        if args.flows_cache is None or not args.flows_cache.is_file():
            print("attribution_coverage: --reuse needs an existing --flows-cache", file=sys.stderr)
            return 2
        facts = read_cache(args.flows_cache)
    else:
        if not args.captures.is_dir():
            print(f"attribution_coverage: {args.captures} is not a folder", file=sys.stderr)
            return 2
        facts = run_pipeline(captures(args.captures), args.captures)
        if args.flows_cache is not None:
            write_cache(args.flows_cache, facts)
    report = measure(facts, bundled_database())
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for key, value in report.items():
        if key in ("per_capture", "top_unknown_by_bytes"):
            continue
        print(f"{key}: {value}")
    print("conferencing/messaging captures (vendor's servers named?):")
    for row in report["per_capture"]:  # type: ignore[union-attr]
        mark = "yes" if row["vendor_named"] else "NO"
        print(f"  {mark:3} {row['app']:16} {row['file']} ({row['public_flows']} public flows)")
        if not row["vendor_named"]:
            print(f"        talks to: {'; '.join(row['destinations'])}")
    print("largest unattributed destinations (bytes):")
    for name, size in report["top_unknown_by_bytes"][:20]:  # type: ignore[index]
        print(f"  {size:>12} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
