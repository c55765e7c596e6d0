"""inspector.assess.helpers: websites talking to a local helper web server (Zoom's 2019 case)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.assess.helpers import helper_findings, is_loopback_host, site_of
from inspector.schema.findings import FindingRow
from inspector.schema.flows import FlowRow
from inspector.schema.http import HttpRow
from inspector.tables import to_frame


def flow(
    uid: str = "C1",
    orig_h: str = "127.0.0.1",
    orig_p: int = 51000,
    resp_h: str = "127.0.0.1",
    resp_p: int = 19421,
    proto: str = "tcp",
    **kw: object,
) -> FlowRow:
    base = {
        "uid": uid,
        "ts": 1000.0,
        "proto": proto,
        "orig_h": orig_h,
        "orig_p": orig_p,
        "resp_h": resp_h,
        "resp_p": resp_p,
        "duration_s": 2.5,
        "orig_pkts": 5,
        "resp_pkts": 4,
        "orig_bytes": 700,
        "resp_bytes": 300,
        "orig_payload_bytes": 400,
        "resp_payload_bytes": 100,
        "history": "ShADadFf",
        "service": "http",
        "end_reason": "end_of_input",
        "tunnel": "",
        "first_frame": 1,
        "last_frame": 9,
        "file": "lo.pcapng",
    }
    base.update(kw)
    return FlowRow(**base)  # type: ignore[arg-type]


def req(uid: str = "C1", **kw: object) -> HttpRow:
    base: dict[str, object] = {
        "ts": 1000.1,
        "uid": uid,
        "frame": 4,
        "method": "GET",
        "host": "localhost:19421",
        "uri": "/launch?action=join&confno=123",
        "version": "HTTP/1.1",
        "origin": "https://evil.example",
        "frames": "4",
    }
    base.update(kw)
    return HttpRow(**base)  # type: ignore[arg-type]


def test_website_origin_to_local_port_is_a_finding() -> None:
    (row,) = helper_findings([flow()], [req(status=200, reason="OK")])
    assert isinstance(row, FindingRow)
    assert row.finding == "local_helper"
    assert row.finding_id == "F0001"
    assert row.destination == "127.0.0.1:19421"
    assert row.explanation.startswith(
        "A website (https://evil.example) sent 1 request to a local helper service on "
        "127.0.0.1:19421; such services let web pages drive a desktop app, as Zoom's macOS "
        "helper did in 2019."
    )
    assert "https://evil.example (Origin header)" in row.evidence
    assert "GET /launch?action=join&confno=123 -> 200" in row.evidence
    assert row.severity == "high"  # the helper answered the website with 2xx
    assert row.confidence == "high"
    assert row.evidence_filter == "ip.addr==127.0.0.1 && tcp.dstport==19421 && tcp.len>0"
    assert row.frames == "4"
    assert row.uids == "C1"
    assert row.flows == 1
    assert (row.bytes_to_server, row.bytes_from_server) == (700, 300)
    assert (row.first_seen, row.last_seen) == (1000.0, 1002.5)
    assert row.session_id == "outside"
    assert row.file == "lo.pcapng"
    assert row.country == ""
    assert row.caveat


def test_no_response_is_medium_and_says_so() -> None:
    (row,) = helper_findings([flow()], [req()])
    assert row.severity == "medium"
    assert "no response seen" in row.evidence


def test_referer_alone_counts_and_names_the_origin_of_the_page() -> None:
    (row,) = helper_findings([flow()], [req(origin="", referer="https://evil.example/join?x=1")])
    assert "https://evil.example (Referer header)" in row.evidence
    assert "(https://evil.example)" in row.explanation


def test_origin_and_referer_of_one_site_are_listed_once_with_both_headers() -> None:
    (row,) = helper_findings([flow()], [req(referer="https://evil.example/page")])
    assert row.evidence.startswith("https://evil.example (Origin, Referer header)")


def test_several_sites_and_flows_group_into_one_finding_per_port() -> None:
    flows = [flow("C1"), flow("C2", orig_p=51001, ts=1005.0), flow("C3", resp_p=19422)]
    reqs = [
        req("C1", frames="4;5", frame=4),
        req("C2", origin="http://other.example:8080", frames="14", frame=14),
        req("C3", frames="24", frame=24),
    ]
    rows = helper_findings(flows, reqs, first_id=7)
    assert [r.finding_id for r in rows] == ["F0007", "F0008"]
    first = rows[0]
    assert first.destination == "127.0.0.1:19421"
    assert first.explanation.startswith(
        "Websites (https://evil.example, http://other.example:8080) sent 2 requests"
    )
    assert first.frames == "5;14"  # the frame completing each request head
    assert first.uids == "C1;C2"
    assert first.flows == 2
    assert first.last_seen == 1007.5
    assert rows[1].destination == "127.0.0.1:19422"


@pytest.mark.parametrize(
    "origin",
    [
        "",
        "null",
        "http://localhost:3000",
        "http://app.localhost",
        "http://127.0.0.1:19421",
        "http://127.9.9.9",
        "http://[::1]:8000",
        "chrome-extension://abcdefghijklmnop",
        "file:///Users/me/page.html",
        "not a url",
        "https://",
    ],
)
def test_local_or_non_website_origins_are_not_findings(origin: str) -> None:
    assert helper_findings([flow()], [req(origin=origin, referer="")]) == []


def test_origin_naming_the_hosts_own_address_is_local() -> None:
    f = flow(orig_h="192.168.1.5", resp_h="192.168.1.5")
    assert helper_findings([f], [req(origin="http://192.168.1.5:3000", host="")]) == []


@pytest.mark.parametrize("port", [80, 443])
def test_standard_web_ports_are_not_helpers(port: int) -> None:
    assert helper_findings([flow(resp_p=port)], [req(host="localhost")]) == []


def test_remote_server_is_not_a_local_helper() -> None:
    f = flow(orig_h="192.168.1.5", resp_h="93.184.216.34")
    assert helper_findings([f], [req(host="93.184.216.34:19421")]) == []


def test_same_host_over_a_lan_address_counts() -> None:
    f = flow(orig_h="192.168.1.5", resp_h="192.168.1.5")
    (row,) = helper_findings([f], [req(host="192.168.1.5:19421")])
    assert row.destination == "192.168.1.5:19421"


@pytest.mark.parametrize(
    ("method", "host"),
    [("GET", "www.example.com"), ("CONNECT", "www.example.com:443"), ("GET", "evil.example:80")],
)
def test_requests_for_other_hosts_go_to_a_local_proxy_not_a_helper(method: str, host: str) -> None:
    assert helper_findings([flow(resp_p=8080)], [req(method=method, host=host)]) == []


def test_empty_host_or_ip_literal_host_still_counts() -> None:
    assert len(helper_findings([flow()], [req(host="")])) == 1
    assert len(helper_findings([flow()], [req(host="127.0.0.1:19421")])) == 1


def test_ipv6_loopback_destination_and_filter() -> None:
    f = flow(orig_h="::1", resp_h="::1")
    (row,) = helper_findings([f], [req(host="[::1]:19421")])
    assert row.destination == "[::1]:19421"
    assert row.evidence_filter == "ipv6.addr==::1 && tcp.dstport==19421 && tcp.len>0"


def test_request_sent_by_the_responder_uses_the_originator_as_server() -> None:
    # capture started mid-flow: the server's packet came first, so orig is the helper
    f = flow(orig_h="127.0.0.1", orig_p=19421, resp_h="127.0.0.1", resp_p=51000)
    (row,) = helper_findings([f], [req(client_is_orig=False)])
    assert row.destination == "127.0.0.1:19421"
    assert (row.bytes_to_server, row.bytes_from_server) == (300, 700)


def test_udp_and_unknown_flows_are_ignored() -> None:
    assert helper_findings([flow(proto="udp")], [req()]) == []
    assert helper_findings([], [req()]) == []


def test_assessed_columns_are_carried_over() -> None:
    f = dataclasses.replace(
        flow(),
        session_id="S1",
        app="Zoom",
        organisation="",
        category="unknown",
        encryption_verdict="PLAINTEXT",
        encryption_modifiers="",
        attribution_source="",
    )
    (row,) = helper_findings([f], [req()])
    assert (row.session_id, row.app, row.verdict, row.category) == (
        "S1",
        "Zoom",
        "PLAINTEXT",
        "unknown",
    )


def test_dataframe_rows_give_the_same_findings() -> None:
    flows, reqs = [flow(), flow("C2", orig_p=51001)], [req(status=204), req("C2", status=None)]
    frame_flows = list(to_frame("flows", flows).itertuples(index=False))
    frame_http = list(to_frame("http", reqs).itertuples(index=False))
    expected = helper_findings(flows, reqs)
    assert len(expected) == 1 and expected[0].severity == "high"
    assert helper_findings(frame_flows, frame_http) == expected


@pytest.mark.parametrize(
    ("value", "site"),
    [
        ("https://evil.example", "https://evil.example"),
        ("HTTPS://Evil.Example:8443/path?q#f", "https://evil.example:8443"),
        ("http://[2001:db8::1]:81/x", "http://[2001:db8::1]:81"),
        ("wss://chat.example", "wss://chat.example"),
        ("http://evil.example:99999", ""),  # invalid port
        ("http://[::1", ""),
        ("null", ""),
        ("moz-extension://1234", ""),
        ("", ""),
    ],
)
def test_site_of(value: str, site: str) -> None:
    assert site_of(value) == site


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LocalHost.", True),
        ("x.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost.example", False),
        ("10.0.0.1", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_site_of_never_raises(value: str) -> None:
    assert isinstance(site_of(value), str)


@settings(max_examples=200, deadline=None)
@given(
    origin=st.text(max_size=40),
    referer=st.text(max_size=40),
    host=st.text(max_size=30),
    method=st.sampled_from(["GET", "POST", "CONNECT", "OPTIONS", ""]),
    status=st.one_of(st.none(), st.integers(100, 599)),
)
def test_any_header_values_give_rows_or_nothing(
    origin: str, referer: str, host: str, method: str, status: int | None
) -> None:
    rows = helper_findings(
        [flow()], [req(origin=origin, referer=referer, host=host, method=method, status=status)]
    )
    assert len(rows) <= 1
    for r in rows:
        assert r.finding == "local_helper"
        assert r.destination == "127.0.0.1:19421"
