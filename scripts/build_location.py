#!/usr/bin/env python3
"""Build ``inspector/data/location_ranges.csv`` from the IPFire location database (CC BY-SA 4.0).

Usage::

    apt-get install libloc-database location      # Debian's packages, offline afterwards
    python scripts/build_location.py [--out inspector/data/location_ranges.csv]
    python scripts/build_database.py              # records the file's hash in database.json

The IPFire location database (https://location.ipfire.org/, shipped by Debian as
``libloc-database``, licence CC BY-SA 4.0, copyright 2017-2022 IPFire Development Team) maps every
announced prefix to its origin AS and every AS to the name its registry holds. Only the prefixes
of the ASes in :data:`ASES` are exported, each row naming its AS, the AS name in the database, the
database's date and the reason the AS is listed:

* **hosting** rows (``hosting=true``, ``cdn_cloud``): the networks of hosting, cloud and CDN
  providers (OVH, Hetzner, DigitalOcean, Akamai, Cloudflare, Fastly, Oracle, Google Cloud...).
  An address there is "hosted on X"; X is never the owner of what it serves. The mixed networks
  of Microsoft (AS8075) and Google (AS15169), which carry both the company's own services and
  its cloud customers, are hosting rows too: the address alone cannot tell which.
* **owner** rows (``online_service``): ASes that only the conferencing/messaging vendor itself
  uses (Zoom, Meta, Telegram, Apple, LINE), the same basis as nDPI's "routes announced by AS".
  They name the owner, not the product: ``vendor`` stays empty, so an address alone is never
  evidence of which app made a flow.

The bundled database consults these rows only for an address that neither the project's ranges
nor nDPI's ranges cover (:meth:`inspector.attribute.database.Database.lookup_ip`). Each AS's
prefixes are collapsed (the database splits a route by country); the export is sorted and stable.
The ``location`` command-line tool (Debian ``location``) reads the database; nothing is fetched.
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "inspector" / "data" / "location_ranges.csv"
DEFAULT_DB = Path("/usr/share/libloc-location/location.db")
COLUMNS = ("network", "organisation", "vendor", "role", "source", "category", "hosting", "date")
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
NOTICE = (
    "# Derived from the IPFire location database (https://location.ipfire.org/), as shipped by\n"
    "# Debian's libloc-database {package} (database of {date}); copyright 2017-2022 IPFire\n"
    "# Development Team; licensed CC BY-SA 4.0:\n"
    "# {licence}\n"
    "# This file is an adaptation (only the prefixes of the ASes listed in\n"
    "# scripts/build_location.py, collapsed per AS) shared under the same licence, CC BY-SA 4.0;\n"
    "# the rest of the package keeps its own licence. Provided as is, without warranties (see\n"
    "# the licence, section 5). Every row names its source.\n"
)


@dataclass(frozen=True, slots=True)
class AsRule:
    """One AS to export: what an address announced by it says, and why it is listed."""

    asn: int
    organisation: str
    expect: str  #: a word the database's AS name must contain (guards against a renumbered AS)
    hosting: bool
    why: str

    @property
    def category(self) -> str:
        return "cdn_cloud" if self.hosting else "online_service"


_HOST = "hosting provider"
_CDN = "CDN"
_MIXED = "own services and cloud customers"
_OWN = "the vendor's own AS"
#: The exported ASes. Hosting providers first, then vendors' own ASes (see the module docstring).
ASES: tuple[AsRule, ...] = (
    AsRule(16276, "OVH SAS (OVHcloud)", "ovh", True, _HOST),
    AsRule(24940, "Hetzner Online GmbH", "hetzner", True, _HOST),
    AsRule(14061, "DigitalOcean, LLC", "digitalocean", True, _HOST),
    AsRule(63949, "Linode (Akamai Technologies)", "linode", True, _HOST),
    AsRule(31898, "Oracle Cloud Infrastructure", "oracle", True, _HOST),
    AsRule(36351, "IBM Cloud (SoftLayer)", "softlayer", True, _HOST),
    AsRule(396982, "Google Cloud (customers)", "google", True, _HOST),
    AsRule(60781, "Leaseweb", "leaseweb", True, _HOST),
    AsRule(28753, "Leaseweb", "leaseweb", True, _HOST),
    AsRule(16265, "Leaseweb", "leaseweb", True, _HOST),
    AsRule(51167, "Contabo GmbH", "contabo", True, _HOST),
    AsRule(12876, "Scaleway (Online S.A.S.)", "online", True, _HOST),
    AsRule(8560, "IONOS SE", "ionos", True, _HOST),
    AsRule(197540, "netcup GmbH", "netcup", True, _HOST),
    AsRule(31034, "Aruba S.p.A.", "aruba", True, _HOST),
    AsRule(20940, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(16625, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(36183, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(21342, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(33905, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(35994, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(12222, "Akamai Technologies", "akamai", True, _CDN),
    AsRule(13335, "Cloudflare, Inc.", "cloudflare", True, _CDN),
    AsRule(54113, "Fastly, Inc.", "fastly", True, _CDN),
    AsRule(15133, "Edgecast (Edgio)", "edgecast", True, _CDN),
    AsRule(8075, "Microsoft Corporation network (AS8075)", "microsoft", True, _MIXED),
    AsRule(15169, "Google LLC network (AS15169)", "google", True, _MIXED),
    AsRule(30103, "Zoom Communications, Inc.", "zoom", False, _OWN),
    AsRule(32934, "Meta Platforms, Inc.", "facebook", False, _OWN),
    AsRule(62041, "Telegram Messenger Inc", "telegram", False, _OWN),
    AsRule(62014, "Telegram Messenger Inc", "telegram", False, _OWN),
    AsRule(59930, "Telegram Messenger Inc", "telegram", False, _OWN),
    AsRule(44907, "Telegram Messenger Inc", "telegram", False, _OWN),
    AsRule(211157, "Telegram Messenger Inc", "telegram", False, _OWN),
    AsRule(714, "Apple Inc.", "apple", False, _OWN),
    AsRule(6185, "Apple Inc.", "apple", False, _OWN),
    AsRule(38631, "LY Corporation (LINE)", "line", False, _OWN),
)


class BuildError(Exception):
    """The database's answer does not match what the build expects."""


_AS_LINE = re.compile(r"^AS(\d+) belongs to (.*)$")


def parse_as_names(text: str) -> dict[int, str]:
    """``location get-as`` output -> {asn: name}; lines of unknown ASes are ignored."""
    names: dict[int, str] = {}
    for line in text.splitlines():
        m = _AS_LINE.match(line.strip())
        if m:
            names[int(m.group(1))] = m.group(2).strip()
    return names


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``location list-networks-by-as`` output -> the networks (blank lines ignored)."""
    return [ipaddress.ip_network(line.strip()) for line in text.splitlines() if line.strip()]


def collapse(
    nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Adjacent and nested networks merged, IPv4 first, each family sorted."""
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network)]
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]


def rows_for(
    rule: AsRule,
    as_name: str,
    nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
    date: str,
) -> list[dict[str, str]]:
    """The CSV rows of one AS; BuildError when the database names the AS differently."""
    if rule.expect not in as_name.lower():
        raise BuildError(f"AS{rule.asn} is {as_name!r} in the database, expected {rule.expect!r}")
    source = f"IPFire location {date} (CC BY-SA 4.0): AS{rule.asn} {as_name}"
    role = f"AS{rule.asn} routes: {rule.why}"
    return [
        {
            "network": str(net),
            "organisation": rule.organisation,
            "vendor": "",
            "role": role,
            "source": source,
            "category": rule.category,
            "hosting": "true" if rule.hosting else "false",
            "date": date,
        }
        for net in collapse(nets)
    ]


def render(rows: list[dict[str, str]], package: str, date: str) -> bytes:
    """The file: the licence notice, then the CSV."""
    buf = io.StringIO()
    buf.write(NOTICE.format(package=package, date=date, licence=LICENCE_URL))
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


Runner = Callable[[list[str]], str]


def location_cli(db: Path) -> Runner:
    def run(args: list[str]) -> str:
        cmd = ["location", "--database", str(db), *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    return run


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}


def parse_version(text: str) -> str:
    """``location version`` (``Sat, 29 Oct 2022 05:59:54 GMT``) -> ``2022-10-29``."""
    m = re.search(r"(\d{1,2}) (\w{3}) (\d{4})", text)
    if not m or m.group(2) not in _MONTHS:
        raise BuildError(f"unexpected database version {text.strip()!r}")
    return f"{m.group(3)}-{_MONTHS[m.group(2)]:02d}-{int(m.group(1)):02d}"


def build(run: Runner, package: str) -> bytes:
    """Every row of :data:`ASES`, read through ``run`` (the ``location`` tool)."""
    date = parse_version(run(["version"]))
    names = parse_as_names(run(["get-as", *(str(r.asn) for r in ASES)]))
    rows: list[dict[str, str]] = []
    for rule in ASES:
        if rule.asn not in names:
            raise BuildError(f"AS{rule.asn} is not in the database")
        nets = parse_networks(run(["list-networks-by-as", str(rule.asn)]))
        rows += rows_for(rule, names[rule.asn], nets, date)
    return render(rows, package, date)


def debian_version(package: str = "libloc-database") -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "unknown version"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(
            f"build_location: {args.db} missing (apt-get install libloc-database)", file=sys.stderr
        )
        return 2
    try:
        data = build(location_cli(args.db), debian_version())
    except (OSError, subprocess.CalledProcessError, BuildError, ValueError) as err:
        print(f"build_location: {err}", file=sys.stderr)
        return 1
    args.out.write_bytes(data)
    rows = data.count(b"\n") - NOTICE.count("\n") - 1
    print(f"build_location: {rows} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
