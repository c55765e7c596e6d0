"""Name the server side of each flow, with provenance, in order of trust.

TLS SNI, QUIC SNI, HTTP Host, then a DNS answer seen earlier in the capture for the server's
address (time-aware: the answer must precede the flow and its TTL must still hold; CNAME chains
resolve to the name the client asked for), then the certificate's names. When one address was,
at that time, the answer for several names, the name is ``dns_ambiguous`` and all candidates are
kept (as TrackerControl does).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DNS_GRACE_S", "DnsIndex", "NameEvidence", "choose_name", "host_name"]

#: Answers are accepted this long past their TTL (resolvers and clients round and cache).
DNS_GRACE_S = 30.0
#: A flow may start this much before the answer's capture time (clock skew between directions).
DNS_EARLY_S = 1.0


@dataclass(frozen=True, slots=True)
class NameEvidence:
    name: str
    source: str  #: tls_sni, quic_sni, http_host, dtls_sni, dns, dns_ambiguous, cert_san, none
    candidates: tuple[str, ...] = ()
    detail: str = ""


class DnsIndex:
    """Address -> the names DNS answers gave it, by time."""

    def __init__(self, answers: Iterable[Any]) -> None:
        by_addr: dict[str, list[tuple[float, int, str, int]]] = {}
        for a in answers:
            if a.rr_type not in ("A", "AAAA") or not a.value:
                continue
            name = (a.query or a.rr_name).rstrip(".").lower()
            if not name:
                continue
            ttl = int(a.ttl) if a.ttl is not None else 0
            by_addr.setdefault(a.value, []).append((float(a.ts), ttl, name, int(a.frame or 0)))
        self._by_addr = {k: sorted(v) for k, v in by_addr.items()}
        self._times = {k: [e[0] for e in v] for k, v in self._by_addr.items()}

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


def _first(rows: Sequence[Any], attr: str) -> str:
    for r in rows:
        v = getattr(r, attr, "") or ""
        if v:
            return str(v)
    return ""


def choose_name(
    uid: str, server: str, ts: float, by_table: Mapping[str, Mapping[str, list[Any]]], dns: DnsIndex
) -> NameEvidence:
    """The best-supported name for the server side of flow ``uid``."""
    tls = by_table.get("tls", {}).get(uid, [])
    sni = _first(tls, "sni")
    if sni:
        ech = _first(tls, "ech")
        detail = "ClientHello server_name"
        if ech == "real":
            detail += " (outer name of an Encrypted ClientHello: the real destination is hidden)"
        return NameEvidence(sni, "tls_sni", (), detail)
    quic = by_table.get("quic", {}).get(uid, [])
    sni = _first(quic, "sni")
    if sni:
        return NameEvidence(sni, "quic_sni", (), "QUIC Initial ClientHello server_name")
    http = by_table.get("http", {}).get(uid, [])
    host = _first(http, "host")
    if host:
        name = host_name(host)
        return NameEvidence(name, "http_host", (), "HTTP Host header")
    dtls = by_table.get("dtls", {}).get(uid, [])
    sni = _first(dtls, "sni")
    if sni:
        return NameEvidence(sni, "dtls_sni", (), "DTLS ClientHello server_name")
    hits = dns.names_at(server, ts)
    if len(hits) == 1:
        name, ans_ts, ttl, frame = hits[0]
        return NameEvidence(
            name,
            "dns",
            (name,),
            f"DNS answer in frame {frame} ({ts - ans_ts:.1f}s before, TTL {ttl}s)",
        )
    if hits:
        names = tuple(h[0] for h in hits)
        return NameEvidence(
            names[0],
            "dns_ambiguous",
            names,
            f"{len(names)} names resolved to {server} at that time",
        )
    for rows, what in ((tls, "TLS"), (dtls, "DTLS")):
        sans = _first(rows, "cert_sans")
        subject = _first(rows, "cert_subject")
        if rows and getattr(rows[0], "cert_self_signed", False):
            continue  # a self-signed certificate (CN=WebRTC) names nobody
        names = [n for n in sans.split(";") if n] if sans else []
        if not names and subject:
            cn = next((p[3:] for p in subject.split(",") if p.upper().startswith("CN=")), "")
            names = [cn] if cn else []
        if names:
            return NameEvidence(
                names[0],
                "cert_san",
                tuple(names[:20]),
                f"server certificate in the {what} handshake (cleartext in {what} <= 1.2)",
            )
    return NameEvidence("", "none")
