"""FlowEvidence facts about decryption: which flows a logged key opened, which completed a
TLS or QUIC handshake (report/unread.py words them)."""

from __future__ import annotations

from inspector.dissect.keylog import DecryptedMark
from inspector.evidence import build_evidence
from inspector.schema.quic import QuicRow
from inspector.schema.tls import TlsRow
from tests.factories import evidence, flow, make


def test_marks_set_decrypted_for_their_flow_only() -> None:
    a, b = flow(uid="CA"), flow(uid="CB")
    evs = build_evidence({"flows": [a, b]}, [DecryptedMark("CB", 1.0, "quic")])
    assert [e.decrypted for e in evs] == [False, True]


def test_encrypted_content_needs_a_server_hello() -> None:
    conn = flow()
    assert not evidence(conn).encrypted_content
    assert not evidence(
        conn, tls=[make(TlsRow, conn.uid, server_hello_seen=False)]
    ).encrypted_content
    assert evidence(conn, tls=[make(TlsRow, conn.uid, server_hello_seen=True)]).encrypted_content
    assert evidence(conn, quic=[make(QuicRow, conn.uid, server_hello_seen=True)]).encrypted_content
