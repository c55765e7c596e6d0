"""Sessions per client and app; silence splits them; other flows join by time."""

from __future__ import annotations

from inspector.assess.sessions import OUTSIDE, SPLIT_GAP_S, Span, group_sessions

CLIENT = "192.168.1.20"


def test_long_silence_splits_and_third_party_joins_by_time() -> None:
    a = Span("A", CLIENT, 1000.0, 1060.0, "Zoom")
    b = Span("B", CLIENT, 1060.0 + SPLIT_GAP_S + 1, 1060.0 + SPLIT_GAP_S + 11, "Zoom")
    fb = Span("FB", CLIENT, 1030.0, 1031.0)
    lone = Span("X", CLIENT, 99999.0, 100000.0)
    sessions, assign = group_sessions([a, b, fb, lone])
    assert [s.session_id for s in sessions] == ["S1", "S2"]
    assert assign == {"A": "S1", "B": "S2", "FB": "S1", "X": OUTSIDE}


def test_sessions_are_per_client_and_per_app() -> None:
    spans = [
        Span("A", CLIENT, 0.0, 1.0, "Zoom"),
        Span("B", "192.168.1.21", 0.0, 1.0, "Zoom"),
        Span("C", CLIENT, 0.0, 1.0, "Signal"),
    ]
    sessions, _ = group_sessions(spans)
    assert len(sessions) == 3


def test_a_flow_of_another_client_does_not_join() -> None:
    spans = [Span("A", CLIENT, 0.0, 10.0, "Zoom"), Span("B", "192.168.1.99", 5.0, 6.0)]
    assert group_sessions(spans)[1]["B"] == OUTSIDE
