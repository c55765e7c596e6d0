"""The scenario captures: golden findings, and the facts each scenario exists to show."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import inspector

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
SCENARIOS = sorted(p.stem for p in CAPTURES.glob("*.pcap"))


def _golden_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "update_goldens", ROOT / "scripts" / "update_goldens.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@cache
def result(name: str) -> inspector.Result:
    return inspector.analyze(CAPTURES / f"{name}.pcap")


def test_every_scenario_has_a_golden_file() -> None:
    assert len(SCENARIOS) >= 8
    for name in SCENARIOS:
        assert (CAPTURES / "golden" / f"{name}.findings.csv").is_file(), name


@pytest.mark.parametrize("name", SCENARIOS)
def test_findings_match_golden(name: str) -> None:
    mod = _golden_module()
    got = result(name).findings[mod.GOLDEN_COLUMNS].astype("string").fillna("")
    want = pd.read_csv(
        CAPTURES / "golden" / f"{name}.findings.csv", dtype="string", keep_default_na=False
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def media(name: str) -> pd.DataFrame:
    f = result(name).flows
    return f[f.role.isin(["media", "relay"])]


def test_no_scenario_claims_end_to_end_without_grounds() -> None:
    for name in SCENARIOS:
        verdicts = set(result(name).flows.encryption_verdict)
        assert not verdicts & {"LIKELY_E2E", "E2E_INDICATED"}, name


def test_zoom_2020_ecb_and_facebook_sdk() -> None:
    m = media("zoom-2020")
    assert set(m.app) == {"Zoom"} and set(m.encryption_verdict) == {"PROPRIETARY_ENCRYPTED"}
    assert m.encryption_modifiers.str.contains("ECB_SUSPECTED").any()
    f = result("zoom-2020").findings
    assert {"ecb_suspected", "third_party_telemetry"} <= set(f.finding)
    assert "graph.facebook.com" in set(f[f.finding == "third_party_telemetry"].destination)


def test_zoom_current_gcm_is_not_ecb() -> None:
    m = media("zoom-current")
    assert set(m.encryption_verdict) == {"PROPRIETARY_ENCRYPTED"}
    assert not m.encryption_modifiers.fillna("").str.contains("ECB").any()
    kinds = set(";".join(m.media_kinds.fillna("")).split(";"))
    assert {"audio", "video"} <= kinds


def test_webrtc_sfu_is_hop_by_hop() -> None:
    m = media("webrtc-sfu")
    assert set(m.app) == {"Jitsi"} and set(m.encryption_verdict) == {"HOP_BY_HOP_SRTP"}
    assert not m.peer_to_peer.any()


def test_webrtc_p2p_is_undetermined_not_e2e() -> None:
    m = media("webrtc-p2p")
    assert m.peer_to_peer.all()
    assert set(m.encryption_verdict) == {"UNKNOWN"}
    assert set(m.encryption_reason) == {"P2P_DTLS_APP_UNKNOWN"}


def test_cleartext_rtp_is_plaintext() -> None:
    m = media("rtp-cleartext")
    assert len(m) == 1 and m.iloc[0].encryption_verdict == "PLAINTEXT"
    assert "opus" in m.iloc[0].encryption_evidence.lower()
    f = result("rtp-cleartext").findings
    assert (f.finding == "plaintext_media").any()


def test_teams_media_through_turn() -> None:
    m = media("teams-turn")
    assert set(m.role) == {"relay"} and set(m.app) == {"Microsoft Teams/Skype"}
    # SRTP ends at the TURN peer 198.51.100.9, not at Microsoft's relay: not identified (issue 11)
    assert set(m.encryption_verdict) == {"UNKNOWN"}
    assert set(m.encryption_reason) == {"RELAY_PEER_UNIDENTIFIED"}


def test_meet_over_quic() -> None:
    r = result("meet-quic")
    q = r.flows[r.flows.server_name_source == "quic_sni"]
    assert list(q.server_name) == ["meet.google.com"]
    assert set(q.encryption_verdict) == {"TRANSPORT_TLS"}
    assert set(media("meet-quic").encryption_verdict) == {"HOP_BY_HOP_SRTP"}


def test_telemetry_heavy_flags_every_tracker() -> None:
    f = result("telemetry-heavy").findings
    third = set(f[f.finding == "third_party_telemetry"].destination)
    assert {
        "app-measurement.com",
        "app.adjust.com",
        "o1234.ingest.sentry.io",
        "googleads.g.doubleclick.net",
        "app.launchdarkly.com",
        "api.mixpanel.com",
        "graph.facebook.com",
        "api2.branch.io",
    } <= third
