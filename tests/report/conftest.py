"""Fixtures for the report tests: the sample and the hostile capture, analysed and written once."""

from __future__ import annotations

from pathlib import Path

import pytest

import inspector
from inspector.api import Result
from inspector.report.outputs import write_outputs
from tests.report.hostile import write_hostile_capture, write_no_session_capture

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "captures" / "zoom-2020.pcap"


@pytest.fixture(scope="session")
def hostile_pcap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_capture(tmp_path_factory.mktemp("hostile") / "hostile.pcap")


@pytest.fixture(scope="session")
def hostile_result(hostile_pcap: Path) -> Result:
    return inspector.analyze(hostile_pcap)


@pytest.fixture(scope="session")
def hostile_out(hostile_result: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-out")
    write_outputs(hostile_result, out)
    return out


@pytest.fixture(scope="session")
def sample_result() -> Result:
    return inspector.analyze(SAMPLE)


@pytest.fixture(scope="session")
def sample_out(sample_result: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample-out")
    write_outputs(sample_result, out)
    return out


@pytest.fixture(scope="session")
def no_session_result(tmp_path_factory: pytest.TempPathFactory) -> Result:
    path = write_no_session_capture(tmp_path_factory.mktemp("plain") / "plain.pcap")
    return inspector.analyze(path)
