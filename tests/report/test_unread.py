"""What the run could not read (report/unread.py): counted from flows.content_decrypted."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

import inspector
from inspector.config import Config
from inspector.report.html import render_html
from inspector.report.terminal import make_console, print_report
from inspector.report.unread import GUIDE, Unread, headline, unread, unread_lines

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def _flows(*rows: tuple[str, str, object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uid": [f"C{i}" for i in range(len(rows))],
            "proto": [p for _, p, _ in rows],
            "server_name": [n for n, _, _ in rows],
            "resp_h": ["192.0.2.1"] * len(rows),
            "content_decrypted": pd.array([d for _, _, d in rows], dtype="boolean"),
        }
    )


def test_counts_unread_flows_by_destination() -> None:
    u = unread(_flows(("a.com", "tcp", False), ("a.com", "udp", False), ("", "tcp", False)))
    assert (u.flows, u.destinations, u.decrypted) == (3, 2, 0)
    assert u.top == [("a.com", 2), ("192.0.2.1", 1)] and not u.partial and not u.listed


def test_flows_without_a_handshake_are_not_counted() -> None:
    u = unread(_flows(("a.com", "tcp", None), ("b.com", "udp", True)))
    assert (u.flows, u.decrypted) == (0, 1)
    assert headline(u) == "" and unread_lines(u) == []


def test_partial_keys_list_the_unread_flows() -> None:
    u = unread(_flows(("a.com", "tcp", True), ("b.com", "udp", False)))
    assert u.partial
    assert u.listed == [{"uid": "C1", "destination": "b.com", "protocol": "QUIC"}]
    assert headline(u).startswith("Logged keys opened 1 flow; 1 TLS/QUIC flow to 1 destination")


def test_headline_wording() -> None:
    assert headline(Unread(1, 1, 0, [("g.example", 1)])) == (
        "1 TLS/QUIC flow to 1 destination could not be read without keys: its handshake "
        "completed and what it carried is encrypted (g.example)."
    )
    many = Unread(12, 7, 0, [("a", 4), ("b", 3), ("c", 2), ("d", 1), ("e", 1)])
    assert "(by destination: a 4, b 3, c 2, d 1, e 1 and 2 more)" in headline(many)
    assert GUIDE in unread_lines(many)[1]


def test_without_keys_report_and_terminal_say_so() -> None:
    result = inspector.analyze(CAPTURES / "telemetry-tls13.pcapng")
    assert result.flows["content_decrypted"].tolist() == [False]
    page = render_html(result)
    assert 'id="unread"' in page and "SSLKEYLOGFILE" in page and "PCAPdroid" in page
    assert "docs/decryption.md" in page
    buf = io.StringIO()
    print_report(result, make_console(buf, width=200))
    assert "1 TLS/QUIC flow to 1 destination could not be read without keys" in buf.getvalue()


def test_with_keys_nothing_is_said() -> None:
    keys = str(CAPTURES / "telemetry-tls13.keys")
    result = inspector.analyze(CAPTURES / "telemetry-tls13.pcapng", Config(keylogs=(keys,)))
    assert result.flows["content_decrypted"].tolist() == [True]
    assert 'id="unread"' not in render_html(result)


def test_non_tls_flows_have_no_value() -> None:
    result = inspector.analyze(CAPTURES / "rtp-cleartext.pcap")
    assert result.flows["content_decrypted"].isna().all()
