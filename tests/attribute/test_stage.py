"""The attribution stage end to end, on synthetic rows and on the shared real captures."""

from __future__ import annotations

import pytest

import inspector
from inspector.attribute.database import bundled_database
from inspector.attribute.stage import attribute
from tests.conftest import real_dir
from tests.factories import evidence, flow


def test_server_first_flow_is_oriented_as_data_not_rewritten() -> None:
    f = flow(
        "C1",
        proto="udp",
        orig_h="144.195.44.2",
        orig_p=8801,
        resp_h="192.168.1.20",
        resp_p=60000,
        orig_pkts=3,
        resp_pkts=7,
        history="",
    )
    ev = evidence(f)
    res = attribute([ev], bundled_database(), client="192.168.1.20")
    a = res.by_uid["C1"]
    assert not a.ends.client_is_orig
    assert (a.ends.client_h, a.ends.server_h, a.ends.client_pkts, a.ends.server_pkts) == (
        "192.168.1.20",
        "144.195.44.2",
        7,
        3,
    )
    assert a.owner.organisation.startswith("Zoom")
    assert ev.conn is f and f.orig_h == "144.195.44.2"  # the captured row is untouched
    assert res.meta["flows_flipped"] == 1


def test_published_flow_reads_client_to_server() -> None:
    """teams.pcap: the peer's STUN check came first on a P2P flow; published client -> server."""
    r = analyzed("ndpi/pcap/teams.pcap")
    flipped = r.flows[r.flows.flipped]
    assert len(flipped) == r.summary["attribution"]["flows_flipped"] > 0
    assert set(flipped.orig_h) == {r.summary["attribution"]["client"]}
    stun = r.tables["stun"].merge(flipped[["uid"]], on="uid")
    first = stun.sort_values("frame").groupby("uid").first()
    assert not first.from_orig.any()  # the first message came from the (published) responder


def analyzed(name: str) -> inspector.Result:
    return inspector.analyze(real_dir() / name)


def test_viber_third_party_trackers() -> None:
    r = analyzed("ndpi/pcap/viber.pcap")
    third = r.findings[r.findings.finding == "third_party_telemetry"]
    dests = set(third.destination)
    assert {"graph.facebook.com", "app-measurement.com", "app.adjust.com"} <= dests
    fb = third[third.destination == "graph.facebook.com"].iloc[0]
    assert "looked up" in fb.explanation and fb.organisation.startswith("Meta")


def test_teams_aria_is_microsoft_first_party_telemetry() -> None:
    r = analyzed("ndpi/pcap/teams.pcap")
    aria = r.flows[r.flows.server_name == "mobile.pipe.aria.microsoft.com"]
    assert len(aria) > 0
    assert set(aria.role) == {"first-party telemetry"}
    assert set(aria.organisation) == {"Microsoft Corporation"}
    assert not (
        r.findings.finding.eq("third_party_telemetry")
        & r.findings.destination.eq("mobile.pipe.aria.microsoft.com")
    ).any()


def test_zoom_first_party_and_google_tag_manager() -> None:
    r = analyzed("ndpi/pcap/zoom.pcap")
    zoom = r.flows[r.flows.server_name.fillna("").str.endswith("zoom.us")]
    assert len(zoom) >= 5
    assert set(zoom.vendor) == {"Zoom"}
    assert all(c.startswith("first-party") for c in zoom.category)
    third = r.findings[r.findings.finding == "third_party_telemetry"]
    assert "www.googletagmanager.com" in set(third.destination)


@pytest.mark.parametrize("name", ["ndpi/pcap/viber.pcap", "ndpi/pcap/zoom.pcap"])
def test_every_flow_has_a_name_source(name: str) -> None:
    flows = analyzed(name).flows
    assert flows.server_name_source.notna().all()
    named = flows[flows.server_name_source != "none"]
    assert (named.server_name.str.len() > 0).all()
