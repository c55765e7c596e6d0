"""The QUIC dissector on the shared real-capture corpus, against tshark's view (EXPECTED.csv).

tshark 4.0 misses some SNIs of ClientHellos split over several Initials, so the bar is: every
name tshark found must be found here too (finding more is fine). Skips without the corpus.
"""

from __future__ import annotations

from functools import cache

from inspector.dissect import quic
from inspector.schema.quic import QuicRow
from inspector.schema.weird import WeirdRow
from tests.conftest import expected_rows, real_dir, split_list


@cache
def _rows(rel: str) -> tuple[tuple[QuicRow, ...], tuple[WeirdRow, ...]]:
    from inspector.pipeline import flow_views

    rows = [r for view in flow_views(str(real_dir() / rel)) for r in quic.dissect(view)]
    return (
        tuple(r for r in rows if isinstance(r, QuicRow)),
        tuple(r for r in rows if isinstance(r, WeirdRow)),
    )


def _quic(rel: str) -> tuple[QuicRow, ...]:
    return _rows(rel)[0]


def _misses(column: str) -> tuple[int, list[str]]:
    total = 0
    misses: list[str] = []
    for row in expected_rows():
        names = split_list(row[column])
        if not names:
            continue
        found = {r.sni for r in _quic(row["path"])}
        total += len(names)
        misses += [f"{row['path']}: {name}" for name in names if name not in found]
    return total, misses


def test_every_tshark_quic_sni_is_found() -> None:
    total, misses = _misses("quic_snis")
    assert total >= 50
    assert misses == []


def test_every_tshark_gquic_sni_is_found() -> None:
    total, misses = _misses("gquic_snis")
    assert total >= 15
    assert misses == []


def test_no_internal_errors_and_few_anomalies() -> None:
    for row in expected_rows():
        if not (row["quic_snis"] or row["gquic_snis"]):
            continue
        quic_rows, weirds = _rows(row["path"])
        assert quic_rows, row["path"]
        assert all(w.name.startswith("quic_") for w in weirds), row["path"]
        assert not [w for w in weirds if w.name == "quic_decrypt_failed"], row["path"]


def test_versions_are_named() -> None:
    cases = {
        "ndpi/pcap/quic-v2.pcapng": "2",
        "ndpi/pcap/quic-29.pcap": "draft-29",
        "ndpi/pcap/quic-24.pcap": "draft-24",
        "ndpi/pcap/quic-mvfst-22.pcap": "mvfst-22",
        "ndpi/pcap/quic-mvfst-27.pcapng": "mvfst-27",
        "ndpi/pcap/quic_t50.pcap": "T050",
        "ndpi/pcap/quic_t51.pcap": "T051",
        "ndpi/pcap/quic_q46.pcap": "Q046",
        "ndpi/pcap/gquic.pcap": "Q050",
    }
    real_dir()
    for rel, version in cases.items():
        assert version in {r.version for r in _quic(rel)}, rel


def test_retry_captures() -> None:
    for rel, sni in (
        ("suricata-verify/quic-retry/input.pcap", "www.gravatar.com"),
        ("suricata-verify/quic-retry-multiple/input.pcap", "public-api.wordpress.com"),
    ):
        (row,) = _quic(rel)
        assert row.retry and row.sni == sni and row.server_hello_seen
        assert row.decrypt_failures == 0


def test_post_quantum_hello_over_several_initials() -> None:
    (row,) = _quic("zeek/traces/quic/quic-decrypt-fail-google-de-51833.pcap")
    assert row.sni == "www.google.de" and row.post_quantum is True
    assert row.client_hello_complete and row.client_hello_packets >= 2
    assert row.group == "X25519MLKEM768"


def test_chrome_quic_ja4() -> None:
    """Chrome's QUIC JA4 as FoxIO publishes it (and Suricata's ja4.hash documentation shows)."""
    chrome = "q13d0310h3_55b375c5d22e_cd85d2d88918"
    rows = _quic("suricata-verify/ja4-quic/input.pcap")
    assert len(rows) == 11
    assert {r.ja4 for r in rows} == {chrome}
    (row,) = _quic("suricata-verify/ja4-tls-quic/input.pcap")
    assert (row.sni, row.alpn, row.ja4) == ("cloudflare-quic.com", "h3", chrome)


def test_gquic_user_agent() -> None:
    (row,) = _quic("ndpi/pcap/gquic.pcap")
    assert row.gquic and row.sni == "www.gstatic.com" and "Chrome/" in row.user_agent


def test_grease_version_initial_is_listed_with_its_version() -> None:
    from inspector.dissect import quic
    from inspector.pipeline import flow_views
    from inspector.schema.quic import QuicRow

    path = real_dir() / "ndpi/pcap/quic-forcing-vn-with-data.pcapng"
    rows = [r for v in flow_views(str(path)) for r in quic.dissect(v) if isinstance(r, QuicRow)]
    # tshark -Y quic.version==0xbabababa: frame 1 ("Forcing Version Negotiation"); it cannot
    # decrypt it, the v1 salt here can (a 283-byte ClientHello, the same DCID as frame 3)
    listed = [r for r in rows if r.version_reserved]
    assert [(r.frame, r.version, r.initial_salt) for r in listed] == [(1, "0xbabababa", "v1")]
    (conn,) = [r for r in rows if not r.version_reserved]
    assert conn.version == "1" and conn.client_hello_complete and conn.server_hello_seen
