"""The plain-language headline summary of a session, one test per kind of sentence."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from inspector.report.headlines import headlines


def _finding(kind: str, destination: str, **kw: Any) -> dict[str, Any]:
    base = {"kind": kind, "destination": destination, "organisation": "", "sdk": ""}
    return {**base, "category": "", "verdict": "", **kw}


def _session(**kw: Any) -> SimpleNamespace:
    return SimpleNamespace(**{"media_verdicts": "", "media_kinds": "", "peer_to_peer": False, **kw})


def test_trackers_named_once_with_their_organisation() -> None:
    tracker = _finding("third_party_telemetry", "t.example", organisation="Ads Inc")
    lines = headlines("Zoom", _session(), [tracker, dict(tracker)])
    assert lines[0] == "This Zoom session contacted 1 third-party tracker: t.example (Ads Inc)."


def test_no_tracker_said_only_for_a_session() -> None:
    assert headlines("Zoom", _session(), [])[0].endswith("known to the bundled database.")
    assert headlines("", None, []) == []


def test_media_verdicts_and_peer_to_peer() -> None:
    lines = headlines("Zoom", _session(media_verdicts="PLAINTEXT", peer_to_peer=True), [])
    assert any(line.startswith("Media (audio/video): not encrypted") for line in lines)
    assert lines[-1] == "Some media went directly between participants (peer-to-peer)."


def test_missing_peer_to_peer_is_not_claimed() -> None:
    lines = headlines("Zoom", _session(peer_to_peer=pd.NA), [])
    assert "No audio or video flows were recognised in this session." in lines
    assert not any("peer-to-peer" in line for line in lines)


def test_alert_kinds_list_their_destinations() -> None:
    found = [_finding("plaintext_http", f"h{i}.example") for i in range(7)]
    lines = headlines("", None, found)
    assert lines == [
        "Unencrypted web request: h0.example, h1.example, h2.example, h3.example and "
        "h4.example and 2 more."
    ]
