"""inspector.workers: worker processes only when there is something to share; the command
line starts their server before its own imports, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector import cli, workers

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def test_workers_only_for_several_captures_or_a_large_one() -> None:
    one, two = CAPTURES / "zoom-2020.pcap", CAPTURES / "webrtc-p2p.pcap"
    assert not workers.worth_workers([one], 2)
    assert workers.worth_workers([one, two], 2)
    assert not workers.worth_workers([one, two], 1)
    assert workers.worth_workers([one], 2, split_bytes=1)
    assert not workers.worth_workers([CAPTURES / "missing.pcap"], 2)


@pytest.mark.parametrize(
    ("argv", "started"),
    [
        (["analyze", "ONE", "TWO", "-o", "out", "--jobs", "2"], True),
        (["analyze", "ONE", "TWO", "-o", "out", "--jobs", "1"], False),
        (["analyze", "ONE", "-o", "out", "--jobs", "2"], False),
        (["analyze", "ONE", "TWO", "-o", "out", "--jobs", "2", "--scheduler", "tcp://x:1"], False),
        (["analyze", "ONE", "TWO", "--jobs", "2"], False),  # usage error: left to the parser
        (["analyze", "--help"], False),
        (["schema"], False),
    ],
)
def test_cli_starts_the_server_early_only_for_a_parallel_analyze(
    argv: list[str], started: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(workers, "start_server", lambda: calls.append(1))
    names = {"ONE": str(CAPTURES / "zoom-2020.pcap"), "TWO": str(CAPTURES / "webrtc-p2p.pcap")}
    cli._start_workers([names.get(a, a) for a in argv])
    assert bool(calls) is started
