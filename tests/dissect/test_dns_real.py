"""The dns dissector on the shared real-capture corpus, compared with tshark (EXPECTED.csv).

Every name tshark lists in ``dns_queries`` must appear as a ``dns.query`` of the same capture.
The only normalisation: tshark 4.0 prints the root as ``<Root>`` (we print ``.``) and escapes a
non-printable label byte as three octal digits where dig (and we) write three decimal digits;
names are compared case-insensitively (DNS names are, RFC 4343).
"""

from __future__ import annotations

import re

import pytest

from inspector.dissect.dns import dissect, escape_label
from inspector.schema.dns import DnsRow
from inspector.schema.weird import WeirdRow
from tests.conftest import expected_rows, real_dir, split_list

#: (capture, tshark name) -> why the inspector cannot see it. Empty: every name is found.
EXPLAINED: dict[tuple[str, str], str] = {}


def tshark_to_dig(name: str) -> str:
    if name == "<Root>":
        return "."
    return re.sub(r"\\([0-7]{3})", lambda m: escape_label(bytes([int(m[1], 8)])), name)


def canon(name: str) -> str:
    return name.lower()


def run(path: str) -> tuple[list[DnsRow], list[WeirdRow]]:
    from inspector.pipeline import flow_views

    rows: list[DnsRow] = []
    weirds: list[WeirdRow] = []
    for view in flow_views(str(real_dir() / path)):
        for row in dissect(view):
            if isinstance(row, DnsRow):
                rows.append(row)
            elif isinstance(row, WeirdRow):
                weirds.append(row)
    return rows, weirds


def test_every_tshark_query_name_is_found() -> None:
    checked = exact = 0
    misses: list[str] = []
    for expected in expected_rows():
        names = split_list(expected["dns_queries"])
        if not names:
            continue
        rows, _ = run(expected["path"])
        got = {row.query for row in rows}
        got_canon = {canon(q) for q in got}
        for name in names:
            checked += 1
            if name in got:
                exact += 1
            elif (
                canon(tshark_to_dig(name)) not in got_canon
                and (expected["path"], name) not in EXPLAINED
            ):
                misses.append(f"{expected['path']}: {name!r}")
    print(f"\ndns: {checked} tshark names, {exact} exact, {checked - exact} normalised, {misses=}")
    assert checked > 100
    assert misses == []


def test_dns_captures_parse_without_weird_rows() -> None:
    """The captures tshark reads DNS from are well-formed: no parse anomaly is expected."""
    for expected in expected_rows():
        if split_list(expected["dns_queries"]):
            _, weirds = run(expected["path"])
            assert weirds == [], expected["path"]


def test_https_records_with_ech() -> None:
    """zeek/traces/dns/ech.pcap: HTTPS answers that tshark shows with echconfig (key 5)."""
    if not (real_dir() / "zeek/traces/dns/ech.pcap").is_file():
        pytest.skip("ech.pcap not in the corpus")
    rows = {row.query: row for row in run("zeek/traces/dns/ech.pcap")[0]}
    assert rows["defo.ie"].ech_config_present and rows["defo.ie"].qtype == "HTTPS"
    assert rows["cloudflare-ech.com"].ech_config_present
    assert rows["cloudflare-ech.com"].https_alpn == "h3;h2"
    assert "ipv4hint=213.108.108.101 ech" in rows["defo.ie"].answers


def test_runs_on_every_capture() -> None:
    """dissect() returns rows (never raises) on every capture of the corpus."""
    total = 0
    for expected in expected_rows():
        rows, _ = run(expected["path"])
        total += len(rows)
    assert total > 300
