"""Client choice and client -> server orientation (a fact, never a rewrite)."""

from __future__ import annotations

from inspector.attribute.orient import client_is_orig, guess_client
from inspector.schema.tls import TlsRow
from tests.factories import evidence, flow, make


def test_busiest_local_endpoint_is_the_client() -> None:
    flows = [
        flow("C1", orig_h="192.168.1.5", orig_pkts=5, resp_pkts=5),
        flow("C2", orig_h="192.168.1.20", orig_pkts=500, resp_pkts=500),
        flow("C3", orig_h="203.0.113.1", resp_h="198.51.100.1", orig_pkts=9000),
    ]
    assert guess_client(flows) == "192.168.1.20"


def test_server_spoke_first() -> None:
    f = flow(
        "C1", orig_h="144.195.44.2", orig_p=8801, resp_h="192.168.1.20", resp_p=60000, proto="udp"
    )
    assert not client_is_orig(evidence(f), "192.168.1.20")
    assert client_is_orig(evidence(flow("C2")), "192.168.1.20")


def test_protocol_evidence_beats_addresses() -> None:
    f = flow("C1", orig_h="192.168.1.20", resp_h="192.168.1.30")
    ev = evidence(f, tls=[make(TlsRow, "C1", client_is_orig=False)])
    assert not client_is_orig(ev, "192.168.1.20")
