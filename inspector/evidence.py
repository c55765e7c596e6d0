"""FlowEvidence: the one typed record per flow that every stage after dissect reads.

The packet stages produce narrow tables (``flows``, ``tls``, ``rtp``...) joined by ``uid``. The
pipeline builds one :class:`FlowEvidence` per flow from them, once; attribution, assessment and
findings are pure functions of these records. Rows are kept exactly as captured: ``orig`` is the
side that sent the first packet (as in Zeek). Who the client is, is a fact attribution decides
and :class:`Endpoints` applies, never a rewrite of a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from inspector.dissect.keylog import DecryptedMark
from inspector.schema.base import Row
from inspector.schema.content import ContentRow
from inspector.schema.dns import DnsAnswerRow, DnsRow
from inspector.schema.dtls import DtlsRow
from inspector.schema.flows import FlowRow
from inspector.schema.http import HttpRow
from inspector.schema.quic import QuicRow
from inspector.schema.rtp import RtpRow
from inspector.schema.signalling import SignallingRow
from inspector.schema.signatures import SignatureRow
from inspector.schema.stun import StunRow
from inspector.schema.tls import TlsRow

__all__ = ["Endpoints", "FlowEvidence", "build_evidence", "endpoints"]

R = TypeVar("R", bound=Row)


@dataclass(frozen=True, slots=True)
class FlowEvidence:
    """One flow as captured, with every dissector row about it."""

    conn: FlowRow
    tls: tuple[TlsRow, ...] = ()
    quic: tuple[QuicRow, ...] = ()
    dtls: tuple[DtlsRow, ...] = ()
    stun: tuple[StunRow, ...] = ()
    rtp: tuple[RtpRow, ...] = ()
    http: tuple[HttpRow, ...] = ()
    dns: tuple[DnsRow, ...] = ()
    dns_answers: tuple[DnsAnswerRow, ...] = ()
    signatures: tuple[SignatureRow, ...] = ()
    #: at most one row: the classes of every datagram the flow table kept
    content: tuple[ContentRow, ...] = ()
    signalling: tuple[SignallingRow, ...] = ()
    #: a logged secret (--keylog or the pcapng's own) opened this flow's TLS or QUIC content
    decrypted: bool = False

    @property
    def uid(self) -> str:
        return self.conn.uid

    @property
    def services(self) -> frozenset[str]:
        """Protocols the dissectors recognised (the conn row's ``service``)."""
        return frozenset(s for s in self.conn.service.split(";") if s)

    @property
    def encrypted_content(self) -> bool:
        """A TLS or QUIC handshake completed (the server's hello was read): what the connection
        carried after it is encrypted under keys agreed in it."""
        return any(t.server_hello_seen for t in self.tls) or any(
            q.server_hello_seen for q in self.quic
        )

    @property
    def cleartext_http(self) -> tuple[HttpRow, ...]:
        """HTTP requests read off the wire (not decrypted from inside TLS)."""
        return tuple(h for h in self.http if not h.inside_tls)

    @property
    def payload_bytes(self) -> int:
        return int(self.conn.orig_payload_bytes) + int(self.conn.resp_payload_bytes)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """A flow's two sides named by role (client and server) instead of by first packet."""

    client_is_orig: bool
    client_h: str
    client_p: int
    server_h: str
    server_p: int
    client_pkts: int
    server_pkts: int
    client_bytes: int
    server_bytes: int

    def sent_by_client(self, from_orig: bool | None) -> bool:
        """Whether a row marked ``from_orig`` (as captured) was sent by the client."""
        return bool(from_orig) == self.client_is_orig


def endpoints(conn: FlowRow, client_is_orig: bool) -> Endpoints:
    """The client/server view of ``conn`` for the orientation attribution decided."""
    if client_is_orig:
        return Endpoints(
            True,
            conn.orig_h,
            int(conn.orig_p),
            conn.resp_h,
            int(conn.resp_p),
            int(conn.orig_pkts),
            int(conn.resp_pkts),
            int(conn.orig_bytes),
            int(conn.resp_bytes),
        )
    return Endpoints(
        False,
        conn.resp_h,
        int(conn.resp_p),
        conn.orig_h,
        int(conn.orig_p),
        int(conn.resp_pkts),
        int(conn.orig_pkts),
        int(conn.resp_bytes),
        int(conn.orig_bytes),
    )


def _by_uid(rows: Iterable[R]) -> dict[str, list[R]]:
    out: dict[str, list[R]] = {}
    for r in rows:
        out.setdefault(r.uid, []).append(r)  # type: ignore[attr-defined]
    return out


def _rows(tables: Mapping[str, Sequence[Row]], name: str, cls: type[R]) -> dict[str, list[R]]:
    rows = tables.get(name, ())
    for r in rows:
        if not isinstance(r, cls):
            raise TypeError(f"table {name!r} holds {type(r).__name__}, not {cls.__name__}")
    return _by_uid(rows)  # type: ignore[arg-type]


def build_evidence(
    tables: Mapping[str, Sequence[Row]], decrypted: Iterable[Row] = ()
) -> list[FlowEvidence]:
    """One record per flow of ``tables['flows']``, in the order the flows were written;
    ``decrypted`` are the decrypting dissector's marks (``DecryptedMark``)."""
    opened = {r.uid for r in decrypted if isinstance(r, DecryptedMark)}
    tls = _rows(tables, "tls", TlsRow)
    quic = _rows(tables, "quic", QuicRow)
    dtls = _rows(tables, "dtls", DtlsRow)
    stun = _rows(tables, "stun", StunRow)
    rtp = _rows(tables, "rtp", RtpRow)
    http = _rows(tables, "http", HttpRow)
    dns = _rows(tables, "dns", DnsRow)
    answers = _rows(tables, "dns_answers", DnsAnswerRow)
    sigs = _rows(tables, "signatures", SignatureRow)
    content = _rows(tables, "content", ContentRow)
    signalling = _rows(tables, "signalling", SignallingRow)
    out: list[FlowEvidence] = []
    for conn in tables.get("flows", ()):
        if not isinstance(conn, FlowRow):
            raise TypeError(f"table 'flows' holds {type(conn).__name__}")
        u = conn.uid
        out.append(
            FlowEvidence(
                conn,
                tuple(tls.get(u, ())),
                tuple(quic.get(u, ())),
                tuple(dtls.get(u, ())),
                tuple(stun.get(u, ())),
                tuple(rtp.get(u, ())),
                tuple(http.get(u, ())),
                tuple(dns.get(u, ())),
                tuple(answers.get(u, ())),
                tuple(sigs.get(u, ())),
                tuple(content.get(u, ())),
                tuple(signalling.get(u, ())),
                u in opened,
            )
        )
    return out
