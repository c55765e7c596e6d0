"""The http dissector on the shared real-capture corpus, compared with tshark (EXPECTED.csv).

Every ``http_hosts`` value must appear as an ``http.host`` of the same capture, except where the
request is only visible after decrypting TLS (listed, with the reason, in ``EXPLAINED``).
"""

from __future__ import annotations

from inspector.dissect.http import dissect
from inspector.schema.http import HttpRow
from inspector.schema.weird import WeirdRow
from tests.conftest import expected_rows, real_dir, split_list

#: (capture, tshark host) -> why the inspector cannot see it.
EXPLAINED: dict[tuple[str, str], str] = {
    ("wireshark/captures/tls12-dsb.pcapng", host): (
        "the request is TLS application data on port 443; tshark decrypts it with the keys in "
        "the pcapng Decryption Secrets Block, the inspector does not decrypt TLS"
    )
    for host in ("example.com", "example.net")
}


def run(path: str) -> tuple[list[HttpRow], list[WeirdRow]]:
    from inspector.pipeline import flow_views

    rows: list[HttpRow] = []
    weirds: list[WeirdRow] = []
    for view in flow_views(str(real_dir() / path)):
        for row in dissect(view):
            if isinstance(row, HttpRow):
                rows.append(row)
            elif isinstance(row, WeirdRow):
                weirds.append(row)
    return rows, weirds


def test_every_tshark_host_is_found() -> None:
    checked = found = 0
    misses: list[str] = []
    explained: list[str] = []
    for expected in expected_rows():
        hosts = split_list(expected["http_hosts"])
        if not hosts:
            continue
        rows, weirds = run(expected["path"])
        assert weirds == [], expected["path"]
        got = {row.host for row in rows}
        for host in hosts:
            checked += 1
            key = (expected["path"], host)
            if host in got:
                found += 1
                assert key not in EXPLAINED, f"{key} is found now: drop it from EXPLAINED"
            elif key in EXPLAINED:
                explained.append(f"{key}: {EXPLAINED[key]}")
            else:
                misses.append(f"{expected['path']}: {host!r}")
    print(f"\nhttp: {checked} tshark hosts, {found} found, explained {explained}, misses {misses}")
    assert checked >= 30
    assert misses == []


def test_runs_on_every_capture() -> None:
    """dissect() returns rows (never raises) on every capture of the corpus."""
    total = sum(len(run(expected["path"])[0]) for expected in expected_rows())
    assert total > 50
