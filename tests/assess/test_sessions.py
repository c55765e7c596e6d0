"""Sessions per client and app; silence splits them; other flows join by time."""

from __future__ import annotations

from inspector.assess.sessions import OUTSIDE, SPLIT_GAP_S, group_sessions
from tests.factories import flow


def test_long_silence_splits_and_third_party_joins_by_time() -> None:
    a = flow("A", ts=1000.0, duration_s=60.0)
    b = flow("B", ts=1000.0 + 60 + SPLIT_GAP_S + 1, duration_s=10.0)
    fb = flow("FB", ts=1030.0, duration_s=1.0, resp_h="157.240.1.1")
    lone = flow("X", ts=99999.0)
    sessions, assign = group_sessions([a, b, fb, lone], {"A": "Zoom", "B": "Zoom"})
    assert [s.session_id for s in sessions] == ["S1", "S2"]
    assert assign["A"] == "S1" and assign["B"] == "S2"
    assert assign["FB"] == "S1"
    assert assign["X"] == OUTSIDE


def test_sessions_are_per_client() -> None:
    a = flow("A", orig_h="192.168.1.20")
    b = flow("B", orig_h="192.168.1.21")
    sessions, _ = group_sessions([a, b], {"A": "Zoom", "B": "Zoom"})
    assert len(sessions) == 2
