"""Name the server side of each flow, with provenance, in order of trust.

TLS SNI, QUIC SNI, HTTP Host, then a DNS answer seen earlier in the capture for the server's
address (time-aware: the answer must precede the flow and its TTL must still hold; CNAME chains
resolve to the name the client asked for), then the domain a cleartext signalling message
addresses to the server or the server announces (:func:`signalling_name`: the Request-URI of a
SIP REGISTER, the ``to`` of an XMPP stream header, the REALM of a STUN/TURN server), then the
certificate's names, and last a reverse-DNS (PTR) answer in the capture for the server's address
(the address holder's own name for it: ``b.resolvers.level3.net``). When one address was,
at that time, the answer for several names, the name is ``dns_ambiguous`` and all candidates are
kept (as TrackerControl does).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from inspector.evidence import FlowEvidence
from inspector.schema.dns import DnsAnswerRow
from inspector.schema.dtls import DtlsRow
from inspector.schema.tls import TlsRow

__all__ = [
    "DNS_GRACE_S",
    "DnsIndex",
    "NameEvidence",
    "arpa_address",
    "choose_name",
    "host_name",
    "signalling_name",
]

#: Answers are accepted this long past their TTL (resolvers and clients round and cache).
DNS_GRACE_S = 30.0
#: A flow may start this much before the answer's capture time (clock skew between directions).
DNS_EARLY_S = 1.0


@dataclass(frozen=True, slots=True)
class NameEvidence:
    name: str
    #: tls_sni, quic_sni, http_host, dtls_sni, dns, dns_ambiguous, sip_register, xmpp_to,
    #: stun_realm, cert_san, dns_ptr, none
    source: str
    candidates: tuple[str, ...] = ()
    detail: str = ""
    dns_frame: int = 0  #: frame of the DNS answer that named the server (source ``dns``)


class DnsIndex:
    """Address -> the names DNS answers gave it, by time."""

    def __init__(self, answers: Iterable[DnsAnswerRow]) -> None:
        by_addr: dict[str, list[tuple[float, int, str, int]]] = {}
        answers_ptr: list[DnsAnswerRow] = []
        for a in answers:
            if a.rr_type == "PTR" and a.value:
                answers_ptr.append(a)
            if a.rr_type not in ("A", "AAAA") or not a.value:
                continue
            name = (a.query or a.rr_name).rstrip(".").lower()
            if not name:
                continue
            ttl = int(a.ttl) if a.ttl is not None else 0
            by_addr.setdefault(a.value, []).append((float(a.ts), ttl, name, int(a.frame or 0)))
        self._by_addr = {k: sorted(v) for k, v in by_addr.items()}
        self._times = {k: [e[0] for e in v] for k, v in self._by_addr.items()}
        #: address -> (frame, PTR name): the earliest reverse answer per address
        self._ptr: dict[str, tuple[int, str]] = {}
        for a in answers_ptr:
            addr = arpa_address(a.rr_name or a.query)
            name = a.value.rstrip(".").lower()
            frame = int(a.frame or 0)
            if addr and name and (addr not in self._ptr or frame < self._ptr[addr][0]):
                self._ptr[addr] = (frame, name)

    def ptr(self, addr: str) -> tuple[int, str] | None:
        """``(frame, name)`` of a reverse-DNS answer for ``addr`` anywhere in the capture."""
        if not self._ptr:
            return None
        try:
            key = str(ipaddress.ip_address(addr))
        except ValueError:
            return None
        return self._ptr.get(key)

    def names_at(self, addr: str, ts: float) -> list[tuple[str, float, int, int]]:
        """``(name, answer_ts, ttl, frame)`` of every answer for ``addr`` valid at ``ts``."""
        entries = self._by_addr.get(addr)
        if not entries:
            return []
        hi = bisect.bisect_right(self._times[addr], ts + DNS_EARLY_S)
        valid: dict[str, tuple[str, float, int, int]] = {}
        for ans_ts, ttl, name, frame in entries[:hi]:
            if ts <= ans_ts + max(ttl, 0) + DNS_GRACE_S:
                valid[name] = (name, ans_ts, ttl, frame)  # latest answer per name wins
        return sorted(valid.values(), key=lambda e: -e[1])


_PORT = re.compile(r":[0-9]{1,5}$")


def arpa_address(name: str) -> str:
    """``8.8.8.8.in-addr.arpa`` / a 32-nibble ``ip6.arpa`` name -> the address ("" otherwise)."""
    n = name.rstrip(".").lower()
    try:
        if n.endswith(".in-addr.arpa"):
            parts = n.removesuffix(".in-addr.arpa").split(".")
            return str(ipaddress.IPv4Address(".".join(reversed(parts)))) if len(parts) == 4 else ""
        if n.endswith(".ip6.arpa"):
            nibbles = n.removesuffix(".ip6.arpa").split(".")
            if len(nibbles) != 32 or any(len(x) != 1 for x in nibbles):
                return ""
            return str(ipaddress.IPv6Address(int("".join(reversed(nibbles)), 16)))
    except ValueError:
        return ""
    return ""


def host_name(host: str) -> str:
    """The name in an HTTP Host value: a trailing ``:port`` and IPv6 brackets removed, nothing
    else touched (the value is kept whole when it is not of that form)."""
    if host.startswith("[") and "]" in host:
        inner, _, rest = host[1:].partition("]")
        if ":" in inner and (rest == "" or _PORT.fullmatch(rest)):
            return inner
    if host.count(":") == 1 and _PORT.search(host):
        return host[: host.rindex(":")]
    return host


def _first(values: Iterable[str]) -> str:
    return next((v for v in values if v), "")


def _cert_names(rows: Sequence[TlsRow] | Sequence[DtlsRow]) -> list[str]:
    if not rows or rows[0].cert_self_signed:
        return []  # a self-signed certificate (CN=WebRTC) names nobody
    sans = _first(r.cert_sans for r in rows if isinstance(r, TlsRow))
    names = [n for n in sans.split(";") if n] if sans else []
    subject = _first(r.cert_subject for r in rows)
    if not names and subject:
        cn = next((p[3:] for p in subject.split(",") if p.upper().startswith("CN=")), "")
        names = [cn] if cn else []
    return names


def _protocol_name(ev: FlowEvidence) -> NameEvidence | None:
    sni = _first(r.sni for r in ev.tls)
    if sni:
        detail = "ClientHello server_name"
        if _first(r.ech for r in ev.tls) == "real":
            detail += " (outer name of an Encrypted ClientHello: the real destination is hidden)"
        return NameEvidence(sni, "tls_sni", (), detail)
    sni = _first(r.sni for r in ev.quic)
    if sni:
        return NameEvidence(sni, "quic_sni", (), "QUIC Initial ClientHello server_name")
    host = _first(r.host for r in ev.http)
    if host:
        return NameEvidence(host_name(host), "http_host", (), "HTTP Host header")
    sni = _first(r.sni for r in ev.dtls)
    if sni:
        return NameEvidence(sni, "dtls_sni", (), "DTLS ClientHello server_name")
    return None


def _dns_name(server: str, ts: float, dns: DnsIndex) -> NameEvidence | None:
    hits = dns.names_at(server, ts)
    if len(hits) == 1:
        name, ans_ts, ttl, frame = hits[0]
        return NameEvidence(
            name,
            "dns",
            (name,),
            f"DNS answer in frame {frame} ({ts - ans_ts:.1f}s before, TTL {ttl}s)",
            frame,
        )
    if hits:
        names = tuple(h[0] for h in hits)
        return NameEvidence(
            names[0],
            "dns_ambiguous",
            names,
            f"{len(names)} names resolved to {server} at that time",
        )
    return None


#: RFC 3261 section 10.2: a REGISTER's Request-URI "names the domain of the location service for
#: which the registration is meant"; the user part and URI parameters are not part of it.
_SIP_REGISTER = re.compile(r"REGISTER sips?:(?:[^@\s]*@)?([A-Za-z0-9.-]+)(?::\d+)?[;?\s]")
#: RFC 6120 section 4.7.2: the initiating entity's stream header ``to`` is the receiving
#: entity's domain (the server's).
_XMPP_TO = re.compile(r"<stream:stream\b[^>]*?\sto=(?:'([^']+)'|\"([^\"]+)\")")
_HOST = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _stun_realm(ev: FlowEvidence, client_is_orig: bool) -> NameEvidence | None:
    """The REALM a STUN/TURN server sent (RFC 8489 section 14.9: "typically a domain name")."""
    for r in ev.stun:
        if r.from_orig is not client_is_orig and r.realm:
            name = r.realm.strip().rstrip(".").lower()
            if _HOST.fullmatch(name):
                return NameEvidence(name, "stun_realm", (), f"STUN REALM sent by the server "
                                    f"(frame {r.frame})")  # fmt: skip
    return None


def signalling_name(ev: FlowEvidence, client_is_orig: bool) -> NameEvidence | None:
    """The domain a cleartext signalling message of the flow gives the server.

    A SIP REGISTER's Request-URI host or an XMPP stream header's ``to``, only when the flow's
    first packet came from the client (the message is the client's); else the REALM the server
    sent in STUN/TURN. An address literal or a word that is no domain is no name (None).
    """
    if not client_is_orig:
        return _stun_realm(ev, client_is_orig)
    for r in ev.signalling:
        line = r.first_line or ""
        if r.protocol == "sip" and (m := _SIP_REGISTER.match(line + " ")):
            name, source, what = m.group(1), "sip_register", "SIP REGISTER Request-URI"
        elif r.protocol == "xmpp" and (m := _XMPP_TO.search(line)):
            name, source, what = m.group(1) or m.group(2), "xmpp_to", "XMPP stream header 'to'"
        else:
            continue
        name = name.rstrip(".").lower()
        if _HOST.fullmatch(name):
            return NameEvidence(name, source, (), f"{what} (frame {r.frame})")
    return _stun_realm(ev, client_is_orig)


def choose_name(ev: FlowEvidence, server: str, dns: DnsIndex) -> NameEvidence:
    """The best-supported name for the server side of a flow."""
    found = (
        _protocol_name(ev)
        or _dns_name(server, ev.conn.ts, dns)
        or signalling_name(ev, server == ev.conn.resp_h)
    )
    if found is not None:
        return found
    for rows, what in ((ev.tls, "TLS"), (ev.dtls, "DTLS")):
        names = _cert_names(rows)
        if names:
            return NameEvidence(
                names[0],
                "cert_san",
                tuple(names[:20]),
                f"server certificate in the {what} handshake (cleartext in {what} <= 1.2)",
            )
    ptr = dns.ptr(server)
    if ptr is not None:
        frame, name = ptr
        detail = f"reverse DNS (PTR) answer in frame {frame}: the address holder's name for it"
        return NameEvidence(name, "dns_ptr", (name,), detail)
    return NameEvidence("", "none")
