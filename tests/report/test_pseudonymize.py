"""--pseudonymize: personal addresses replaced by stable tokens everywhere; servers kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from inspector.api import Result
from inspector.report.outputs import write_outputs
from inspector.report.pseudonymize import Pseudonymizer, is_local_address, pseudonymize
from inspector.schema import load_all
from inspector.tables import empty_frame


def all_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8-sig") for p in sorted(out.iterdir()))


def test_is_local_address() -> None:
    for a in (
        "192.168.1.20",
        "10.1.2.3",
        "172.31.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "127.0.0.1",
        "fe80::1",
        "fe80::1%en0",
        "fd00::5",
        "::1",
        "::ffff:192.168.0.1",
    ):
        assert is_local_address(a), a
    for a in ("157.240.1.1", "8.8.8.8", "2a03:2880::1", "198.51.100.7", "zoom.us", "", "::"):
        assert not is_local_address(a), a


def test_text_replacement_boundaries() -> None:
    p = Pseudonymizer()
    p.register("192.168.1.20", "client")
    assert p.text("ip.addr==192.168.1.20 && ip.addr==192.168.1.2") == (
        "ip.addr==client-1 && ip.addr==local-1"
    )
    assert p.text("DNS to 192.168.1.2:53 asking, then 192.168.1.2.") == (
        "DNS to local-1:53 asking, then local-1."
    )
    assert p.text("version 1.192.168.1.20") == "version 1.192.168.1.20"  # not an address
    assert p.text("[fe80::1%en0]:5353 and fe80::1") == "[local-2]:5353 and local-2"
    assert p.text("mac 02:00:00:00:00:01 / 02-00-00-00-00-01") == "mac mac-1 / mac-1"
    assert p.text("Alices-iPhone._airplay._tcp.local") == "host-1._airplay._tcp.local"
    assert p.text("_services._dns-sd._udp.local") == "_services._dns-sd._udp.local"
    assert p.text("157.240.1.1 time 22:13:20 cert AB:CD:EF:01:02:03:04:05:06") == (
        "157.240.1.1 time 22:13:20 cert AB:CD:EF:01:02:03:04:05:06"
    )


def test_sample_every_output(sample_result: Result, tmp_path: Path) -> None:
    client = sample_result.summary["attribution"]["client"]
    public = pseudonymize(sample_result)
    write_outputs(public, tmp_path)
    text = all_text(tmp_path)
    assert client not in text and "192.168." not in text
    assert "client-1" in text and "local-1" in text
    servers = set(sample_result.flows["resp_h"]) - {
        a for a in sample_result.flows["resp_h"] if is_local_address(a)
    }
    for server in servers:
        assert server in text  # public server addresses are evidence and stay
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["attribution"]["client"] == "client-1"
    assert "abspath" not in summary["inputs"][0] and "/" not in summary["inputs"][0]["path"]
    assert summary["pseudonymized"]["tokens"]["client"] == 1
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "replaced by tokens" in page
    assert str(tmp_path) not in page and "inspector evidence OUTDIR F0001" in page
    # the original result is untouched
    assert sample_result.summary["attribution"]["client"] == client


def test_tokens_are_stable(sample_result: Result) -> None:
    a, b = pseudonymize(sample_result), pseudonymize(sample_result)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
        assert list(a.tables[name].dtypes) == list(sample_result.tables[name].dtypes)
    assert a.summary == b.summary


def test_peers_and_stun_reflexive_addresses() -> None:
    tables = {name: empty_frame(name) for name in load_all()}
    flows = tables["flows"].reindex(range(2))
    flows["uid"] = ["C1", "C2"]
    flows["ts"] = [1.0, 2.0]
    flows["orig_h"] = pd.array(["2a01:e0a::20", "2a01:e0a::20"], dtype="string")
    flows["resp_h"] = pd.array(["81.2.69.160", "157.240.1.1"], dtype="string")
    flows["peer_to_peer"] = pd.array([True, False], dtype="boolean")
    flows["encryption_evidence"] = pd.array(["DTLS with 81.2.69.160", ""], dtype="string")
    tables["flows"] = flows
    stun = tables["stun"].reindex(range(1))
    stun["xor_mapped"] = pd.array(["[2a01:e0a::99]:40000;203.0.113.9:5000"], dtype="string")
    tables["stun"] = stun
    sessions = tables["sessions"].reindex(range(1))
    sessions["client"] = pd.array(["2a01:e0a::20"], dtype="string")
    tables["sessions"] = sessions
    result = pseudonymize(Result(tables, {"attribution": {"client": "2a01:e0a::20"}}))
    f = result.tables["flows"]
    assert list(f["orig_h"]) == ["client-1", "client-1"]  # a public client address too
    assert list(f["resp_h"]) == ["peer-1", "157.240.1.1"]  # the other participant, not servers
    assert f["encryption_evidence"].iloc[0] == "DTLS with peer-1"
    assert result.tables["stun"]["xor_mapped"].iloc[0] == "[peer-2]:40000;peer-3:5000"
