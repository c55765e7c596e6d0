"""inspector.batch_pages: run pages and report.csv rows made by the workers equal the main
process's, with finding ids numbered through the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.batch import run_batch
from inspector.batch_pages import page_text, with_ids
from inspector.report import outputs

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes().replace(str(folder).encode(), b"OUT")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("jobs", [1, 2])
def test_outputs_from_worker_pages_equal_the_main_process_ones(tmp_path: Path, jobs: int) -> None:
    made, own = tmp_path / "made", tmp_path / "own"
    paths = [CAPTURES / "zoom-2020.pcap", CAPTURES / "webrtc-p2p.pcap"]
    batch = run_batch(paths, jobs=jobs, pages=str(made))
    pre = batch.prebuilt
    assert pre is not None and sorted(pre.pages) == [1, 2] and pre.report is not None
    findings = batch.result.tables["findings"]
    assert len(findings) > len(batch.outcomes[0].result.tables["findings"]) > 0  # type: ignore[union-attr]
    assert any(pre.nonce in text for text in pre.pages.values())  # ids left as markers
    outputs.write_outputs(batch.result, made, prebuilt=pre)
    outputs.write_outputs(batch.result, own, prebuilt=None)
    a, b = _files(made), _files(own)
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []
    assert not any(pre.nonce.encode() in data for data in a.values())
    second = a["files/002-webrtc-p2p.pcap.html"].decode()
    assert f"F{len(batch.outcomes[0].result.tables['findings']) + 1:04d}" in second  # type: ignore[union-attr]


def test_resumed_captures_of_the_same_name_keep_their_own_pages(tmp_path: Path) -> None:
    """Two captures named alike (two folders), the second run resumed from the cache: each
    capture's page shows its own flows only."""
    for folder, capture in (("a", "zoom-2020.pcap"), ("b", "webrtc-p2p.pcap")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.pcap").write_bytes((CAPTURES / capture).read_bytes())
    paths = [tmp_path / "a" / "same.pcap", tmp_path / "b" / "same.pcap"]
    out, cache = tmp_path / "out", tmp_path / "cache"
    run_batch(paths, jobs=1, pages=str(out), cache_dir=cache)
    again = run_batch(paths, jobs=1, pages=str(out), cache_dir=cache)
    assert all(o.cached for o in again.outcomes)
    outputs.write_outputs(again.result, out, prebuilt=again.prebuilt)
    for entry in again.result.summary["files"]:
        page = (out / "files").glob(f"{entry['index']:03d}-*.html")
        text = next(iter(page)).read_text(encoding="utf-8")
        own = again.outcomes[entry["index"] - 1].result.tables["flows"]  # type: ignore[union-attr]
        other = again.outcomes[2 - entry["index"]].result.tables["flows"]  # type: ignore[union-attr]
        assert all(server in text for server in set(own["resp_h"]))
        assert not any(server in text for server in set(other["resp_h"]) - set(own["resp_h"]))


def test_with_ids_numbers_markers_through_the_run() -> None:
    text = "<b>Fabc0000001</b> x Fabc0000012 Fzzz0000003 Fabc00001"
    assert with_ids(text, "abc", 40) == "<b>F0041</b> x F0052 Fzzz0000003 Fabc00001"


def test_page_left_to_the_main_process_when_ids_reach_five_digits() -> None:
    pages = {1: "Fn0000001"}
    assert page_text(pages, "n", {"index": 1, "findings": 3}, 9990) == "F9991"
    assert page_text(pages, "n", {"index": 1, "findings": 3}, 9997) is None
    assert page_text(pages, "n", {"index": 2, "findings": 3}, 0) is None
    assert page_text(pages, "", {"index": 1, "findings": 3}, 0) is None


def test_pseudonymised_or_single_runs_get_no_worker_pages(tmp_path: Path) -> None:
    one = run_batch([CAPTURES / "zoom-2020.pcap"], jobs=2, pages=str(tmp_path))
    assert one.prebuilt is None and one.jobs == 1  # one capture: no pages, no worker processes
    two = run_batch([CAPTURES / "zoom-2020.pcap", CAPTURES / "webrtc-p2p.pcap"], jobs=1)
    assert two.prebuilt is None
