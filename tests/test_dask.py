"""--scheduler: a real Dask scheduler and two workers, separate processes on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from inspector.batch import run_batch
from inspector.cli import main

pytest.importorskip("distributed")

FILES = (
    "ndpi/pcap/teams.pcap",
    "ndpi/pcap/stun.pcap",
    "ndpi/pcap/quic-mvfst-22.pcap",
    "ndpi/pcap/zoom_p2p.pcapng",
    "ndpi/pcap/signal.pcap",
)
START_TIMEOUT_S = 90


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    with open(log, "wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", *args], stdout=fh, stderr=subprocess.STDOUT, env=env
        )


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address of a scheduler with two single-thread workers; all three killed at the end."""
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        _spawn(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(sched_file),
                *common,
            ],
            tmp / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not sched_file.exists():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail("Dask scheduler did not start: " + (tmp / "scheduler.log").read_text())
            time.sleep(0.2)
        time.sleep(0.5)  # the file is written before it is complete on slow machines
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            procs.append(
                _spawn(
                    [
                        "distributed.cli.dask_worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--name",
                        f"w{i}",
                        *common,
                    ],
                    tmp / f"worker{i}.log",
                )
            )
        with Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import real_dir

    real = real_dir()
    out = tmp_path_factory.mktemp("captures")
    for rel in FILES:
        if (real / rel).is_file():
            (out / Path(rel).name).symlink_to(real / rel)
    (out / "empty.pcap").write_bytes(b"")
    return out


def test_cluster_tables_equal_the_local_run(scheduler: str, folder: Path) -> None:
    local = run_batch([folder], jobs=2, split_bytes=0)
    remote = run_batch([folder], scheduler=scheduler, split_bytes=0)
    assert [(o.file, o.status, o.reason) for o in remote.outcomes] == [
        (o.file, o.status, o.reason) for o in local.outcomes
    ]
    for name, frame in local.result.tables.items():
        pd.testing.assert_frame_equal(remote.result.tables[name], frame, obj=name)
    assert remote.result.summary["packets"] == local.result.summary["packets"]


def test_cli_scheduler(scheduler: str, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(folder), "-o", str(out), "-q", "--scheduler", scheduler]) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert [f["status"] for f in summary["files"]].count("ok") == len(FILES)


def test_unreachable_scheduler_is_bad_usage(folder: Path, tmp_path: Path) -> None:
    argv = ["analyze", str(folder / "stun.pcap"), "-o", str(tmp_path / "o")]
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:9"]) == 2
