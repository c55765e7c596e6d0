"""Personal-data findings: what each destination received, and tracker severity raised by it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import inspector
from inspector.assess.stage import assess
from inspector.config import Config
from inspector.findings import Finding, FlowRecord
from inspector.personal import DataFinding, build_data_findings, raise_for_personal_data
from inspector.schema.data_shared import DataSharedRow
from inspector.vocab import FindingKind, Severity
from tests.factories import attribution, evidence, flow, make

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
DSB = CAPTURES / "telemetry-tls13-dsb.pcapng"  # secrets embedded: decryptable as given
PLAIN = CAPTURES / "telemetry-tls13.pcapng"  # the same traffic, keys in a separate file
KNOWN = CAPTURES / "telemetry-known-values.txt"


def _record(uid: str) -> FlowRecord:
    ev = evidence(flow(uid))
    att = attribution(ev, name="graph.facebook.com", organisation="Meta Platforms, Inc.")
    return FlowRecord(ev, att, assess([ev], {uid: att}).by_uid[uid])


def _data(uid: str, category: str, party: str = "third") -> DataSharedRow:
    return make(
        DataSharedRow, uid, destination="graph.facebook.com", party=party, category=category,
        field=f"form:{category}", detector="test", frames="10",
    )  # fmt: skip


def test_the_sdk_capture_names_what_meta_received() -> None:
    r = inspector.analyze(DSB, Config(known_values=(str(KNOWN),)))
    data = r.tables["data_shared"]
    found = r.findings[r.findings.finding == "personal_data"]
    assert len(found) == 1
    row = found.iloc[0]
    assert row.destination == "graph.facebook.com" and row.severity == "high"
    assert row.category.split(";") == sorted(set(data.category))
    assert "third party" in row.explanation and "device model" in row.explanation
    # no app is identified in this capture (flows.party unknown): the text says whose word it is
    assert set(r.flows[r.flows.server_name == "graph.facebook.com"].party) == {"unknown"}
    assert "the app that sent it is not identified in the capture" in row.explanation


def test_party_wording_follows_the_flow_party() -> None:
    from inspector.report.personal_text import data_rows

    rec = _record("C1")  # the factory's flow has no app: its party is unknown
    (f,) = build_data_findings([_data("C1", "device_model")], [rec])
    assert f.flow_party == "unknown"
    decided = DataFinding(
        f.destination, f.organisation, "third", f.file, "third", f.records, f.rows
    )
    texts = [row.explanation for row in data_rows([f, decided])]
    assert "not identified in the capture" in texts[0]
    assert "; third party) received" in texts[1]


def test_without_keys_nothing_is_claimed() -> None:
    r = inspector.analyze(PLAIN)
    assert len(r.tables["data_shared"]) == 0
    assert "personal_data" not in set(r.findings.finding)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_the_filter_selects_the_request_frames() -> None:
    r = inspector.analyze(DSB, Config(known_values=(str(KNOWN),)))
    row = r.findings[r.findings.finding == "personal_data"].iloc[0]
    out = subprocess.run(
        ["tshark", "-r", str(DSB), "-Y", row.evidence_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    listed = {int(n) for n in row.frames.split(";")}
    assert listed and listed <= {int(n) for n in out.stdout.split()}


def test_severity_follows_the_party() -> None:
    rec = _record("C1")
    third = build_data_findings([_data("C1", "device_model")], [rec])
    first = build_data_findings([_data("C1", "device_model", "first")], [rec])
    unknown = build_data_findings([_data("C1", "device_model", "")], [rec])
    assert [f.severity for f in (*third, *first, *unknown)] == [
        Severity.HIGH, Severity.LOW, Severity.MEDIUM,
    ]  # fmt: skip
    assert isinstance(third[0], DataFinding) and third[0].categories == ["device_model"]


def test_rows_of_flows_not_in_the_capture_are_not_findings() -> None:
    assert build_data_findings([_data("HAR1", "locale")], [_record("C1")]) == []


def test_a_tracker_that_carried_personal_data_becomes_high() -> None:
    rec, other = _record("C1"), _record("C2")
    carried = Finding(FindingKind.THIRD_PARTY_TELEMETRY, Severity.MEDIUM, "S1", "", "a", "f", [rec])
    quiet = Finding(FindingKind.THIRD_PARTY_TELEMETRY, Severity.MEDIUM, "S1", "", "b", "f", [other])
    raise_for_personal_data([carried, quiet], [_data("C1", "locale")])
    assert (carried.severity, carried.personal_data) == (Severity.HIGH, True)
    assert (quiet.severity, quiet.personal_data) == (Severity.MEDIUM, False)
