"""Every packet of every real capture is accounted for, and nothing crashes.

For each row of ../shared/captures/real/EXPECTED.csv: ``total = decoded + skipped + malformed``
equals the packet count tshark reported, and no stage produced an ``internal_error`` weird row.
A handful of files also go through the command line. Skips cleanly without the corpus.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inspector.pipeline import collect
from tests.conftest import expected_rows, real_dir

#: Files for the command-line check: pcap, pcapng, gzip, several link types, GTP, VLAN.
CLI_FILES = [
    "ndpi/pcap/443-curl.pcap",
    "ndpi/pcap/google_meet.pcapng",
    "ndpi/pcap/zoom.pcap",
    "wireshark/captures/dns+icmp.pcapng.gz",
    "other/Princeton-Cabernet_zoom-analysis/test_data/test4_rawip.pcap",
]


def test_every_packet_is_accounted_for() -> None:
    rows = expected_rows()
    root = real_dir()
    assert len(rows) >= 200
    problems = []
    for row in rows:
        out = collect([str(root / row["path"])])
        summary = out.summary()
        total = summary["packets"]["total"]
        if total != int(row["packets"]):
            problems.append(f"{row['path']}: {total} packets, tshark saw {row['packets']}")
        internal = [w for w in out.rows.get("weird", []) if w.name == "internal_error"]  # type: ignore[attr-defined]
        if internal:
            problems.append(f"{row['path']}: {len(internal)} internal errors, e.g. {internal[0]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CLI_FILES)
def test_command_line_on_real_captures(name: str, tmp_path: Path) -> None:
    path = real_dir() / name
    if not path.is_file():
        pytest.skip(f"{name} not in this corpus")
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "analyze", str(path), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out").is_dir()
