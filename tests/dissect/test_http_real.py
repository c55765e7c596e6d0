"""The http tables on the shared real-capture corpus, compared with tshark (EXPECTED.csv).

Every ``http_hosts`` value must appear as an ``http.host`` of the same capture (100 %). Two of
them are requests inside TLS that tshark decrypts with the key log the pcapng carries; the
pipeline reads those secrets too (``inside_tls`` rows).
"""

from __future__ import annotations

import inspector
from inspector.dissect.http import dissect
from tests.conftest import expected_rows, real_dir, split_list


def test_every_tshark_host_is_found() -> None:
    checked = found = 0
    misses: list[str] = []
    for expected in expected_rows():
        hosts = split_list(expected["http_hosts"])
        if not hosts:
            continue
        result = inspector.analyze(real_dir() / expected["path"])
        weird = result.tables["weird"]
        assert not weird.source.isin(["http", "tls_decrypt"]).any(), expected["path"]
        got = set(result.tables["http"].host)
        for host in hosts:
            checked += 1
            if host in got:
                found += 1
            else:
                misses.append(f"{expected['path']}: {host!r}")
    print(f"\nhttp: {checked} tshark hosts, {found} found, misses {misses}")
    assert checked >= 30
    assert misses == []


def test_runs_on_every_capture() -> None:
    """dissect() returns rows (never raises) on every capture of the corpus."""
    from inspector.pipeline import flow_views

    total = 0
    for expected in expected_rows():
        for view in flow_views(str(real_dir() / expected["path"])):
            total += sum(1 for row in dissect(view) if row.TABLE == "http")
    assert total > 50
