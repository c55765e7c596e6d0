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
        "ip.addr==192.0.2.1 && ip.addr==198.51.100.1"
    )
    assert p.text("DNS to 192.168.1.2:53 asking, then 192.168.1.2.") == (
        "DNS to 198.51.100.1:53 asking, then 198.51.100.1."
    )
    assert p.text("version 1.192.168.1.20") == "version 1.192.168.1.20"  # not an address
    assert p.text("[fe80::1%en0]:5353 and fe80::1") == "[2001:db8:2::1]:5353 and 2001:db8:2::1"
    assert p.text("PTR 2.1.168.192.in-addr.arpa") == "PTR 1.100.51.198.in-addr.arpa"
    assert p.text("mac 02:00:00:00:00:01 / 02-00-00-00-00-01") == (
        "mac 00:00:5e:00:53:01 / 00:00:5e:00:53:01"
    )
    # a real MAC is never its own pseudonym
    assert p.text("and 00:00:5e:00:53:02") == "and 00:00:5e:00:53:03"
    # pseudonyms are left alone when text is rewritten again
    assert p.text("ip.addr==192.0.2.1 and 00:00:5e:00:53:01") == (
        "ip.addr==192.0.2.1 and 00:00:5e:00:53:01"
    )
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
    assert "192.0.2.1" in text and "198.51.100.1" in text
    servers = set(sample_result.flows["resp_h"]) - {
        a for a in sample_result.flows["resp_h"] if is_local_address(a)
    }
    for server in servers:
        assert server in text  # public server addresses are evidence and stay
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["attribution"]["client"] == "192.0.2.1"
    assert "abspath" not in summary["inputs"][0] and "/" not in summary["inputs"][0]["path"]
    assert summary["pseudonymized"]["tokens"]["client"] == 1
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "replaced by pseudonyms" in page
    assert str(tmp_path) not in page and "inspector evidence OUTDIR F0001" in page
    # the original result is untouched
    assert sample_result.summary["attribution"]["client"] == client


def test_tokens_are_stable(sample_result: Result) -> None:
    a, b = pseudonymize(sample_result), pseudonymize(sample_result)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
        assert list(a.tables[name].dtypes) == list(sample_result.tables[name].dtypes)
    # the map's key id is random (it must not be derived from the addresses); the rest is stable
    assert a.summary["pseudonymized"].pop("key_id") != b.summary["pseudonymized"].pop("key_id")
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
    # a public client address too
    assert list(f["orig_h"]) == ["2001:db8:1::1", "2001:db8:1::1"]
    # the other participant, not servers
    assert list(f["resp_h"]) == ["203.0.113.1", "157.240.1.1"]
    assert f["encryption_evidence"].iloc[0] == "DTLS with 203.0.113.1"
    # 203.0.113.9 is in the data, so it is never handed out as a pseudonym
    assert result.tables["stun"]["xor_mapped"].iloc[0] == "[2001:db8:3::1]:40000;203.0.113.2:5000"


def test_frame_clauses_become_dns_clauses_or_go() -> None:
    tables = {name: empty_frame(name) for name in load_all()}
    flows = tables["flows"].reindex(range(1))
    flows["uid"], flows["ts"] = ["C1"], [1.0]
    flows["first_frame"], flows["last_frame"] = [5, 9]
    flows["orig_h"] = pd.array(["192.168.1.20"], dtype="string")
    flows["resp_h"] = pd.array(["157.240.1.1"], dtype="string")
    tables["flows"] = flows
    findings = tables["findings"].reindex(range(3))
    base = "(ip.addr==192.168.1.20 && ip.addr==157.240.1.1 && tcp.port==5 && tcp.port==443)"
    findings["evidence_filter"] = pd.array(
        [base + " || frame.number in {2}", base + " || frame.number in {6}", 'dns.qry.name == "x"'],
        dtype="string",
    )
    findings["uids"] = pd.array(["C1", "C1", "D1"], dtype="string")
    findings["frames"] = pd.array(["5;2", "5;6", "3"], dtype="string")
    tables["findings"] = findings
    result = pseudonymize(Result(tables, {"attribution": {"client": "192.168.1.20"}}))
    got = list(result.tables["findings"]["evidence_filter"])
    public = base.replace("192.168.1.20", "192.0.2.1")
    assert got == [public + " || dns.a == 157.240.1.1", public, 'dns.qry.name == "x"']
