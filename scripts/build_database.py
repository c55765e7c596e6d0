#!/usr/bin/env python3
"""Build the bundled attribution database (inspector/data/) from the sourced reference data.

Usage::

    python scripts/build_database.py [REFERENCE_DIR] [--out DIR] [--date YYYY-MM-DD]

REFERENCE_DIR (default ``../shared/reference`` next to the repository) must hold
``telemetry_domains.csv`` (domain_pattern, organisation, category, sdk_name, source) and
``vendors.csv`` (vendor, organisation, kind, value, protocol_ports, role, source, notes) and
``ndpi/`` (nDPI's prefixes and host patterns, LGPL-3.0, see :mod:`build_ndpi`). The project's own
curated endpoint rows come from ``scripts/reference/endpoints.csv`` (specific SDK/telemetry
endpoints, and whole services re-categorised as ``online_service``), each with its source.
``location_ranges.csv`` in the output folder (AS routes from the IPFire location database, CC BY-SA
4.0, written by ``scripts/build_location.py``) is read as one more input when present: its hash,
date and row count go into ``database.json``.

Outputs (sorted, deterministic, UTF-8, ``\\n`` line ends): ``domains.csv``, ``ip_ranges.csv``,
``ports.csv``, ``ndpi_hosts.csv``, ``ndpi_ranges.csv`` (with the LGPL notice and licence file) and
``database.json`` (name, version ``YYYY.MM.DD-N``, built date, sha256 of every
input and output, row counts). Running it again on unchanged inputs keeps the version; any change
bumps N (same day) or starts ``<today>-1``.

Every output row keeps the ``source`` text of the input row(s) it came from (several sources are
joined with `` ; ``). The category mapping to the closed vocabulary of
:mod:`inspector.attribute.database` is documented next to each table below.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import ipaddress
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_ndpi
from build_ports import PORT_COLUMNS, build_ports

from inspector.attribute.database import CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = (ROOT / ".." / "shared" / "reference").resolve()
DEFAULT_OUT = ROOT / "inspector" / "data"
NAME = "conference-inspector attribution database"
TELEMETRY = "telemetry_domains.csv"
VENDORS = "vendors.csv"
ENDPOINTS = ROOT / "scripts" / "reference" / "endpoints.csv"
#: AS routes from the IPFire location database, written into ``out`` by scripts/build_location.py
#: (it needs Debian's libloc-database): an input of this build, recorded in database.json.
LOCATION = "location_ranges.csv"
#: Hosting providers' customer namespaces: a name below them was chosen by the customer, so the
#: provider is "hosted on", never the owner (owner from a more specific row, else unknown).
HOSTING_DOMAINS = frozenset(
    {
        *("cloudfront.net", "amazonaws.com", "fastly.net", "akamaihd.net", "edgesuite.net"),
        *("akamaitechnologies.com", "akamaiedge.net", "akamai.net", "edgekey.net"),
        *("azureedge.net", "blob.core.windows.net", "cloudapp.net", "trafficmanager.net"),
        *("azurewebsites.net", "googleusercontent.com", "appspot.com", "herokuapp.com"),
        *("rackcdn.com", "llnwd.net", "edgecastcdn.net", "firebaseio.com"),
    }
)

# --------------------------------------------------------------------------------------------
# Category mapping, telemetry_domains.csv (third parties) -> closed vocabulary
# --------------------------------------------------------------------------------------------
#: telemetry_domains.csv ``category`` -> vocabulary. ``push`` depends on the organisation, see
#: :func:`telemetry_category`.
TELEMETRY_CATEGORY = {
    "analytics": "analytics",
    "advertising": "advertising",
    "attribution": "attribution",
    "social_sdk": "social_sdk",
    "customer_support": "customer_support",
    "feature_flags": "feature_flags",
    "crash_reporting": "crash_reporting",
    "error_monitoring": "crash_reporting",  # Sentry, Bugsnag, App Insights, New Relic, Datadog
    "cdn": "cdn_cloud",
    "cloud": "cdn_cloud",
    "push": "analytics",  # Braze, OneSignal, Airship, CleverTap...: engagement SDKs ingest events
}
#: ``push`` rows run by the platform owner (APNs, FCM/mtalk) are the operating system's service.
PLATFORM_PUSH_ORGS = ("Apple", "Google")
#: Per-pattern exceptions, each with its reason.
TELEMETRY_OVERRIDES = {
    # Windows diagnostic data: the operating system's telemetry, not the conferencing client's.
    "vortex.data.microsoft.com": "os_services",
    "vortex-win.data.microsoft.com": "os_services",
    "settings-win.data.microsoft.com": "os_services",
    # Firebase Installations is called by the Firebase SDK inside the app (an installation ID for
    # Analytics/Remote Config), not by the OS push service, so it is not "os_services".
    "firebaseinstallations.googleapis.com": "analytics",
}

# --------------------------------------------------------------------------------------------
# vendors.csv: vendor names and first-party roles -> vocabulary
# --------------------------------------------------------------------------------------------
#: vendors.csv ``vendor`` -> the conferencing product a row belongs to ("" = platform service).
VENDOR_NAMES = {
    "Zoom": "Zoom",
    "Microsoft Teams": "Microsoft Teams",
    "Microsoft Teams / Office": "Microsoft Teams",  # shared Office telemetry, listed for Teams
    "Skype (consumer)": "Skype",
    "Webex": "Webex",
    "Google Meet": "Google Meet",
    "Jitsi Meet (meet.jit.si)": "Jitsi",
    "Jitsi as a Service (JaaS)": "Jitsi",
    "Jitsi (self-hosted)": "Jitsi",
    "Slack": "Slack",
    "Slack huddles": "Slack",
    "Discord": "Discord",
    "WhatsApp": "WhatsApp",
    "Signal": "Signal",
    "FaceTime": "FaceTime",
    # Apple's whole 17.0.0.0/8 carries every Apple service (iCloud, App Store, APNs, FaceTime):
    # an address there names Apple, not the FaceTime app.
    "FaceTime / APNs": "",
    "Telegram": "Telegram",
    "Messenger": "Messenger",
    "APNs": "",  # Apple Push Notification service: an OS service for every app
}
#: First-party ``role`` keywords, tried in this order (first group with a hit wins);
#: no hit -> "first-party signalling" (a service host of the vendor).
ROLE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("first-party telemetry", ("telemetry",)),
    ("first-party signalling", ("signalling", "signaling", "gateway", "websocket", "messag")),
    ("first-party media", ("media", "voice", r"\brtc\b", r"\bsfu\b")),
    (
        "first-party web",
        (
            *("web", "static", "cdn", "assets", "status", "storage"),
            *("update", "uptime", "link-preview", "zoom apps"),
        ),
    ),
)
#: (vendors.csv vendor, value) -> category, where the keywords would mislead.
ROLE_OVERRIDES = {
    # "public service + media": the host name serves web + XMPP (BOSH/WebSocket) on TCP 443;
    # the media goes to videobridge addresses, not to this name.
    ("Jitsi Meet (meet.jit.si)", "meet.jit.si"): "first-party signalling",
}
#: Third-party dependency rows of vendors.csv with no covering telemetry row: role keywords.
DEPENDENCY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("os_services", ("certificate", "ocsp")),
    ("crash_reporting", ("crash", "performance", "log export")),
    ("analytics", ("metrics", "a/b")),
    ("customer_support", ("support", "chatbot", "guidance")),
)

DOMAIN_COLUMNS = (
    "pattern",
    "match",
    "organisation",
    "category",
    "vendor",
    "sdk_name",
    "source",
    "role",
    "source_category",
    "hosting",
    "date",
)
RANGE_COLUMNS = (
    "network",
    "organisation",
    "vendor",
    "role",
    "source",
    "category",
    "protocol_ports",
    "notes",
    "hosting",
    "date",
)


@dataclass
class DomainRow:
    pattern: str
    match: str
    organisation: str
    category: str
    vendor: str = ""
    sdk_name: str = ""
    sources: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    source_category: str = ""
    date: str = ""

    def out(self) -> dict[str, str]:
        return {
            "pattern": self.pattern,
            "match": self.match,
            "organisation": self.organisation,
            "category": self.category,
            "vendor": self.vendor,
            "sdk_name": self.sdk_name,
            "source": join(self.sources),
            "role": join(self.roles),
            "source_category": self.source_category,
            "hosting": "true" if self.pattern in HOSTING_DOMAINS else "false",
            "date": self.date,
        }


class BuildError(Exception):
    """The reference files contradict the build rules (fix the CSV or the mapping)."""


def join(parts: Iterable[str]) -> str:
    seen: list[str] = []
    for p in parts:
        p = p.strip()
        if p and p not in seen:
            seen.append(p)
    return " ; ".join(seen)


def clean_domain(value: str) -> str:
    d = value.strip().lower().rstrip(".")
    if not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", d):
        raise BuildError(f"not a domain: {value!r}")
    return d


def telemetry_category(row: dict[str, str]) -> str:
    pattern = clean_domain(row["domain_pattern"])
    if pattern in TELEMETRY_OVERRIDES:
        return TELEMETRY_OVERRIDES[pattern]
    raw = row["category"].strip()
    if raw == "push" and row["organisation"].startswith(PLATFORM_PUSH_ORGS):
        return "os_services"
    if raw not in TELEMETRY_CATEGORY:
        raise BuildError(f"{TELEMETRY}: unmapped category {raw!r} for {pattern}")
    return TELEMETRY_CATEGORY[raw]


def keyword_category(text: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    low = text.lower()
    for category, words in rules:
        if any(re.search(w, low) for w in words):
            return category
    return None


def vendor_name(raw: str) -> str:
    if raw in VENDOR_NAMES:
        return VENDOR_NAMES[raw]
    return re.sub(r"\s*\(.*\)$", "", raw).strip()


def first_party_category(row: dict[str, str]) -> str:
    """Category of a vendors.csv first-party row (domain or range)."""
    override = ROLE_OVERRIDES.get((row["vendor"], row["value"]))
    if override:
        return override
    if not vendor_name(row["vendor"]):
        return "os_services"
    return keyword_category(row["role"], ROLE_RULES) or "first-party signalling"


def vendor_domains(value: str) -> list[tuple[str, str]]:
    """``(pattern, match)`` of a vendors.csv ``domain`` value (``" / "`` lists, ``*.`` = suffix)."""
    out = []
    for part in value.split(" / "):
        part = part.strip()
        if part.startswith("*."):
            out.append((clean_domain(part[2:]), "suffix"))
        else:
            out.append((clean_domain(part), "exact"))
    return out


def covering(rows: dict[tuple[str, str], DomainRow], pattern: str) -> DomainRow | None:
    """The most specific telemetry suffix row covering ``pattern`` (itself excluded)."""
    labels = pattern.split(".")
    for i in range(1, len(labels) - 1):
        hit = rows.get((".".join(labels[i:]), "suffix"))
        if hit is not None:
            return hit
    return None


def apply_endpoints(
    rows: dict[tuple[str, str], DomainRow], endpoints: list[dict[str, str]], date: str
) -> None:
    """Curated endpoint rows: add a specific endpoint, or re-categorise a whole-service row.

    A curated row replaces organisation, category, vendor and sdk_name of an existing row with the
    same (pattern, match) and keeps that row's sources; its ``note`` goes to ``role``.
    """
    for r in endpoints:
        match = r["match"].strip()
        pattern = r["pattern"].strip().lower()
        if match == "suffix":
            pattern = clean_domain(pattern)
        elif match not in ("exact", "stem", "label_prefix"):
            raise BuildError(f"endpoints.csv: bad match {match!r} for {pattern}")
        row = rows.get((pattern, match))
        if row is None:
            row = rows[(pattern, match)] = DomainRow(pattern, match, "", "")
        row.organisation = r["organisation"].strip()
        row.category = r["category"].strip()
        row.vendor = r["vendor"].strip()
        row.sdk_name = r["sdk_name"].strip()
        row.sources.append(r["source"])
        row.roles.append(r["note"])
        row.source_category = join([row.source_category, "endpoints.csv"])
        row.date = max(row.date, date)


def build_domains(
    telemetry: list[dict[str, str]],
    vendors: list[dict[str, str]],
    endpoints: list[dict[str, str]] | None = None,
    dates: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    dates = dates or {}
    rows: dict[tuple[str, str], DomainRow] = {}
    for r in telemetry:
        pattern = clean_domain(r["domain_pattern"])
        if (pattern, "suffix") in rows:
            raise BuildError(f"{TELEMETRY}: {pattern} listed twice")
        rows[(pattern, "suffix")] = DomainRow(
            pattern=pattern,
            match="suffix",
            organisation=r["organisation"].strip(),
            category=telemetry_category(r),
            sdk_name=r["sdk_name"].strip(),
            sources=[r["source"]],
            source_category=r["category"].strip(),
            date=dates.get(TELEMETRY, ""),
        )
    telemetry_rows = dict(rows)

    for r in vendors:
        kind = r["kind"].strip()
        if kind in ("domain_suffix", "domain"):
            if kind == "domain_suffix":
                targets = [(clean_domain(r["value"]), "suffix")]
            else:
                targets = vendor_domains(r["value"])
            category = first_party_category(r)
            vendor = vendor_name(r["vendor"])
            for key in targets:
                row = rows.get(key)
                if row is not None and row.vendor and row.vendor != vendor:
                    raise BuildError(f"{VENDORS}: {key[0]} claimed by {row.vendor} and {vendor}")
                if row is None:
                    row = rows[key] = DomainRow(key[0], key[1], r["organisation"].strip(), category)
                # vendors.csv decides ownership and category; telemetry keeps sdk_name, source.
                row.organisation = r["organisation"].strip()
                row.category = category
                row.vendor = vendor
                row.sources.append(r["source"])
                row.roles.append(r["role"])
                row.source_category = join([row.source_category, f"vendors:{kind}"])
                row.date = max(row.date, dates.get(VENDORS, ""))
        elif kind == "third_party_dependency":
            key = (clean_domain(r["value"]), "suffix")
            note = f"third-party dependency of {vendor_name(r['vendor'])}: {r['role'].strip()}"
            row = rows.get(key)
            if row is None:
                cover = covering(telemetry_rows, key[0])
                if cover is not None:
                    category = cover.category
                else:
                    category = keyword_category(r["role"], DEPENDENCY_RULES) or "unknown"
                row = rows[key] = DomainRow(key[0], key[1], r["organisation"].strip(), category)
                if cover is not None:
                    row.sdk_name = cover.sdk_name
                    row.roles.append(f"category of {cover.pattern} ({TELEMETRY})")
            if row.vendor:
                raise BuildError(f"{VENDORS}: {key[0]} is first-party of {row.vendor}")
            row.sources.append(r["source"])
            row.roles.append(note)
            row.source_category = join([row.source_category, "vendors:third_party_dependency"])
            row.date = max(row.date, dates.get(VENDORS, ""))
    apply_endpoints(rows, endpoints or [], dates.get(ENDPOINTS.name, ""))
    for row in rows.values():
        if row.category not in CATEGORIES:
            raise BuildError(f"category {row.category!r} of {row.pattern} not in the vocabulary")
    return [rows[k].out() for k in sorted(rows)]


def build_ranges(vendors: list[dict[str, str]], date: str = "") -> list[dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in vendors:
        if r["kind"] not in ("ipv4_cidr", "ipv6_cidr"):
            continue
        try:
            net = ipaddress.ip_network(r["value"].strip(), strict=True)
        except ValueError as err:
            raise BuildError(f"{VENDORS}: bad network {r['value']!r} ({err})") from None
        if f"ipv{net.version}_cidr" != r["kind"]:
            raise BuildError(f"{VENDORS}: {net} is not {r['kind']}")
        key = str(net)
        if key in out:
            raise BuildError(f"{VENDORS}: network {key} listed twice")
        out[key] = {
            "network": key,
            "organisation": r["organisation"].strip(),
            "vendor": vendor_name(r["vendor"]),
            "role": r["role"].strip(),
            "source": r["source"].strip(),
            "category": first_party_category(r),
            "protocol_ports": r["protocol_ports"].strip(),
            "notes": r["notes"].strip(),
            "hosting": "false",
            "date": date,
        }
    nets = sorted(out, key=lambda k: (ipaddress.ip_network(k).version, ipaddress.ip_network(k)))
    return [out[k] for k in nets]


def published_lists(vendors: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "vendor": vendor_name(r["vendor"]),
            "url": r["value"].strip(),
            "format": r["role"].strip(),
            "source": r["source"].strip(),
        }
        for r in vendors
        if r["kind"] == "list_url"
    ]


def to_csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def read_csv(path: Path, columns: set[str]) -> tuple[list[dict[str, str]], bytes]:
    raw = path.read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    if not rows or not columns <= set(rows[0]):
        raise BuildError(f"{path}: expected columns {sorted(columns)}")
    return rows, raw


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def next_version(previous: dict[str, object], today: dt.date) -> str:
    prefix = today.strftime("%Y.%m.%d")
    old = str(previous.get("version", ""))
    if old.startswith(prefix + "-") and old[len(prefix) + 1 :].isdigit():
        return f"{prefix}-{int(old[len(prefix) + 1 :]) + 1}"
    return f"{prefix}-1"


def input_dates(
    raws: dict[str, bytes], previous: dict[str, object], today: dt.date
) -> dict[str, dict[str, str]]:
    """Per input: sha256 and the date it was first built with that content (kept on rebuilds)."""
    old = previous.get("inputs")
    old = old if isinstance(old, dict) else {}
    out = {}
    for name, raw in raws.items():
        digest = sha256(raw)
        prev = old.get(name)
        same = isinstance(prev, dict) and prev.get("sha256") == digest
        out[name] = {"sha256": digest, "date": prev["date"] if same else today.isoformat()}
    return out


def with_notice(data: bytes) -> bytes:
    return build_ndpi.NOTICE.encode("utf-8") + data


def build(
    reference: Path, out: Path, today: dt.date, endpoints: Path | None = ENDPOINTS
) -> dict[str, object]:
    """Write the database files to ``out``; returns the ``database.json`` content.

    ``reference/ndpi/`` is optional (without it no nDPI file is written); ``endpoints`` None
    leaves the curated endpoint rows out.
    """
    telemetry, t_raw = read_csv(
        reference / TELEMETRY, {"domain_pattern", "organisation", "category", "sdk_name", "source"}
    )
    vendors, v_raw = read_csv(
        reference / VENDORS,
        {"vendor", "organisation", "kind", "value", "protocol_ports", "role", "source", "notes"},
    )
    raws = {TELEMETRY: t_raw, VENDORS: v_raw}
    curated: list[dict[str, str]] = []
    if endpoints is not None:
        curated, raws[endpoints.name] = read_csv(endpoints, {"pattern", "match", "source", "note"})
    ndpi = reference / build_ndpi.NDPI_DIR
    if ndpi.is_dir():
        for name in (build_ndpi.PREFIXES, build_ndpi.HOSTS):
            raws[f"ndpi/{name}"] = (ndpi / name).read_bytes()
    location = out / LOCATION
    if location.is_file():  # built by scripts/build_location.py from Debian's libloc-database
        raws[LOCATION] = location.read_bytes()
    meta_path = out / "database.json"
    previous: dict[str, object] = {}
    if meta_path.is_file():
        previous = json.loads(meta_path.read_text(encoding="utf-8"))
    inputs = input_dates(raws, previous, today)
    dates = {name: v["date"] for name, v in inputs.items()}
    dates[ENDPOINTS.name] = dates.get(endpoints.name, "") if endpoints else ""
    domains = build_domains(telemetry, vendors, curated, dates)
    ranges = build_ranges(vendors, dates[VENDORS])
    files = {
        "domains.csv": to_csv(DOMAIN_COLUMNS, domains),
        "ip_ranges.csv": to_csv(RANGE_COLUMNS, ranges),
    }
    ports = build_ports(vendors, vendor_name)
    if ports:
        files["ports.csv"] = to_csv(PORT_COLUMNS, ports)
    rows = {"domains": len(domains), "ip_ranges": len(ranges), "ports": len(ports)}
    not_bundled: dict[str, int] = {}
    if ndpi.is_dir():
        hosts, skipped_hosts = build_ndpi.build_hosts(build_ndpi.read(ndpi / build_ndpi.HOSTS))
        nets, not_bundled = build_ndpi.build_prefixes(
            build_ndpi.read(ndpi / build_ndpi.PREFIXES), [r["network"] for r in ranges]
        )
        for row in hosts:
            if row["category"] not in CATEGORIES:
                raise BuildError(f"nDPI host {row['pattern']}: category {row['category']!r}")
        files["ndpi_hosts.csv"] = with_notice(to_csv(build_ndpi.HOST_COLUMNS, hosts))
        files["ndpi_ranges.csv"] = with_notice(to_csv(build_ndpi.RANGE_COLUMNS, nets))
        files[build_ndpi.LICENCE_OUT] = (ndpi / build_ndpi.LICENCE).read_bytes()
        rows.update(ndpi_hosts=len(hosts), ndpi_ranges=len(nets))
        not_bundled["nDPI host patterns starting with '-'"] = skipped_hosts
    if LOCATION in raws:
        text = raws[LOCATION].decode("utf-8")
        rows["location_ranges"] = sum(1 for line in text.splitlines() if line[:1].isalnum()) - 1
    outputs = {name: sha256(data) for name, data in files.items()}
    if previous.get("inputs") == inputs and previous.get("outputs") == outputs:
        version, built = str(previous["version"]), str(previous["built"])
    else:
        version, built = next_version(previous, today), today.isoformat()
    for r in vendors:
        if r["kind"] in ("cloud_provider", "list_url"):
            not_bundled[r["kind"]] = not_bundled.get(r["kind"], 0) + 1
    meta: dict[str, object] = {
        "name": NAME,
        "version": version,
        "built": built,
        "inputs": inputs,
        "outputs": outputs,
        "rows": rows,
        "categories": list(CATEGORIES),
        "published_lists": published_lists(vendors),
        "not_bundled": not_bundled,
        "licence_note": "No third-party tracker list (Disconnect, DuckDuckGo, Exodus, X-Ray) is "
        "bundled; single entries are cited as sources. ndpi_hosts.csv and ndpi_ranges.csv are "
        "derived from nDPI (commit 3b1286ab, 2024-10-21) under LGPL-3.0 "
        f"({build_ndpi.LICENCE_OUT}); location_ranges.csv is derived from the IPFire location "
        "database (Debian libloc-database) under CC BY-SA 4.0 and shared under that licence "
        "(scripts/build_location.py); the rest of the package keeps its own licence.",
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    if not ports and (out / "ports.csv").exists():
        (out / "ports.csv").unlink()
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    today = args.date or dt.datetime.now(dt.UTC).date()
    try:
        meta = build(args.reference, args.out, today)
    except (OSError, UnicodeDecodeError, BuildError, ValueError, csv.Error) as err:
        print(f"build_database: {err}", file=sys.stderr)
        return 1
    print(f"{meta['name']} {meta['version']} ({meta['built']}): {meta['rows']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
