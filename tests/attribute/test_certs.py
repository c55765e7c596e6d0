"""Owners from a CA-verified certificate subject (O=), only when the database names nobody."""

from __future__ import annotations

from typing import Any

from inspector.attribute.certs import CertIndex, subject_field
from inspector.attribute.database import bundled_database
from inspector.attribute.stage import attribute
from inspector.schema.tls import TlsRow
from tests.factories import evidence, flow, make

MOZ = "CN=mozilla.org,O=Mozilla Corporation,L=Mountain View,ST=California,C=US"
HUAWEI = "CN=cloud.huawei.asia,O=Huawei Software Technologies Co.\\, Ltd.,L=Nanjing,C=CN"


def _tls_flow(uid: str, subject: str, sans: str = "", self_signed: bool = False, **kw: Any) -> Any:
    row = make(
        TlsRow,
        uid,
        sni=kw.pop("sni", ""),
        cert_subject=subject,
        cert_issuer="CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US",
        cert_sans=sans,
        cert_self_signed=self_signed,
        client_is_orig=True,
        frame=4,
    )
    return evidence(flow(uid, service="tls", **kw), tls=[row])


def test_subject_field_unescapes_rfc4514() -> None:
    assert subject_field(MOZ, "O") == "Mozilla Corporation"
    assert subject_field(HUAWEI, "O") == "Huawei Software Technologies Co., Ltd."
    assert subject_field("CN=example.org", "O") == ""
    assert subject_field("OU=Web,CN=x", "O") == ""  # OU is not O


def test_index_by_name_and_wildcard() -> None:
    ev = _tls_flow("C1", MOZ, "mozilla.org;*.mozilla.org")
    idx = CertIndex([ev])
    found = idx.owner("t.pcap", "www.mozilla.org")
    assert found is not None and found.organisation == "Mozilla Corporation"
    assert "DigiCert Inc" in found.source and "frame 4" in found.source
    assert idx.owner("t.pcap", "www.example.org") is None
    assert idx.owner("other.pcap", "mozilla.org") is None  # one capture file only


def test_self_signed_and_dv_certificates_name_nobody() -> None:
    assert len(CertIndex([_tls_flow("C1", MOZ, "mozilla.org", self_signed=True)])) == 0
    assert len(CertIndex([_tls_flow("C2", "CN=mozilla.org", "mozilla.org")])) == 0


def test_attribution_uses_the_certificate_only_without_a_database_owner() -> None:
    moz = _tls_flow("C1", MOZ, "www.mozilla.org", sni="www.mozilla.org", resp_h="203.0.113.7")
    resumed = evidence(
        flow("C2", service="tls", resp_h="203.0.113.8", ts=1001.0),
        tls=[make(TlsRow, "C2", sni="www.mozilla.org", client_is_orig=True)],
    )
    lying = _tls_flow("C3", "CN=graph.facebook.com,O=Not Meta", "graph.facebook.com",
                      sni="graph.facebook.com", resp_h="203.0.113.9")  # fmt: skip
    got = attribute([moz, resumed, lying], bundled_database(), "192.168.1.20").by_uid
    for uid in ("C1", "C2"):
        o = got[uid].owner
        assert (o.organisation, o.owner_from) == ("Mozilla Corporation", "certificate"), uid
        assert o.source.startswith("certificate subject O=Mozilla Corporation")
    assert got["C3"].owner.organisation.startswith("Meta")  # the database row wins


def test_unnamed_flow_takes_its_address_certificate_only_when_unambiguous() -> None:
    a = _tls_flow("C1", MOZ, "mozilla.org", resp_h="203.0.113.7")
    b = _tls_flow("C2", HUAWEI, "cloud.huawei.asia", resp_h="203.0.113.7", ts=1001.0)
    idx = CertIndex([a])
    assert idx.owner_of_address("t.pcap", "203.0.113.7") is not None
    assert CertIndex([a, b]).owner_of_address("t.pcap", "203.0.113.7") is None


def test_the_earliest_certificate_wins_whatever_the_flow_order() -> None:
    """One process and a merge of flow shards end flows in different orders: same owner."""
    subject = "CN=a.example,O=Example Corp"

    def ev(uid: str, frame: int) -> Any:
        conn = flow(uid, resp_h="203.0.113.9")
        return evidence(conn, tls=[make(TlsRow, uid, cert_subject=subject, cert_sans="a.example",
                                        cert_self_signed=False, frame=frame)])  # fmt: skip

    early, late = ev("C1", 30), ev("C2", 7)
    for order in ([early, late], [late, early]):
        idx = CertIndex(order)
        by_name, by_addr = (
            idx.owner("t.pcap", "a.example"),
            idx.owner_of_address("t.pcap", "203.0.113.9"),
        )
        assert by_name is not None and by_addr is not None
        assert "frame 7" in by_name.source and "frame 7" in by_addr.source
