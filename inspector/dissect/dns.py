"""The ``dns`` dissector (the wire-format parser is :mod:`inspector.dissect.dns_wire`).

``dissect`` finds cleartext DNS, mDNS (RFC 6762) and LLMNR
(RFC 4795) in a flow, over UDP or TCP (RFC 1035 section 4.2.2 length prefix), pairs responses
with queries and emits ``dns`` / ``dns_answers`` rows. Encrypted DNS is only labelled, by the pure
helpers :func:`encrypted_dns_label` and :func:`doh_resolver`, for the assessment stage.
The parser's names and types are re-exported here for convenience.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inspector.dissect.base import FlowView, ParseError, Stream, weird
from inspector.dissect.dns_wire import (
    DnsMessage,
    DnsQuestion,
    DnsRecord,
    Edns,
    RCode,
    RRType,
    Svcb,
    SvcParamKey,
    escape_label,
    parse_message,
    rcode_name,
    type_name,
)
from inspector.schema.base import Row
from inspector.schema.dns import DnsAnswerRow, DnsRow

__all__ = [
    "DOH_DOMAINS",
    "DOH_HOSTS",
    "DnsMessage",
    "DnsQuestion",
    "DnsRecord",
    "Edns",
    "RCode",
    "RRType",
    "SvcParamKey",
    "Svcb",
    "dissect",
    "doh_resolver",
    "encrypted_dns_label",
    "escape_label",
    "parse_message",
    "rcode_name",
    "type_name",
]


# -- encrypted DNS labels --------------------------------------------------------------------

#: Public DoH resolver host names. Sources: Chromium ``net/dns/public/doh_provider_entry.cc``
#: (DoH templates and DoT host names of its auto-upgrade list), Firefox TRR defaults
#: (``mozilla.cloudflare-dns.com``, ``firefox.dns.nextdns.io``), and AdGuard DNS documentation
#: (``dns.adguard-dns.com``, ``unfiltered.adguard-dns.com``, ``family.adguard-dns.com``).
DOH_HOSTS: frozenset[str] = frozenset(
    """
    dns.google dns.google.com dns64.dns.google 8888.google cloudflare-dns.com
    mozilla.cloudflare-dns.com chrome.cloudflare-dns.com one.one.one.one
    1dot1dot1dot1.cloudflare-dns.com dns.quad9.net dns9.quad9.net dns10.quad9.net
    dns11.quad9.net doh.opendns.com doh.familyshield.opendns.com dns.adguard-dns.com
    unfiltered.adguard-dns.com family.adguard-dns.com doh.cleanbrowsing.org doh.xfinity.com
    doh.cox.net odvr.nic.cz doh.dns.sb public.dns.iij.jp dns.nextdns.io firefox.dns.nextdns.io
    chromium.dns.nextdns.io
    """.split()  # noqa: SIM905
)
#: Domains run only for public resolvers: any name under them counts (``x.cloudflare-dns.com``).
DOH_DOMAINS: tuple[str, ...] = (
    "cloudflare-dns.com",
    "dns.nextdns.io",
    "dns.google",
    "adguard-dns.com",
)


def doh_resolver(name: str) -> bool:
    """True when ``name`` (an SNI or a DNS name) is a known public DoH/DoT resolver host."""
    host = name.strip().rstrip(".").lower()
    if host in DOH_HOSTS:
        return True
    return any(host.endswith("." + domain) for domain in DOH_DOMAINS)


def encrypted_dns_label(proto: str, orig_p: int, resp_p: int, alpns: Iterable[str] = ()) -> str:
    """``dot`` (TCP 853, RFC 7858; or ALPN ``dot``), ``doq`` (UDP 853 or ALPN ``doq``, RFC 9250,
    or a draft's ``doq-iNN``)
    or ``""``. DoH on 443 cannot be told from HTTPS by ports: use :func:`doh_resolver` on the SNI.
    """
    names = {a.lower() for a in alpns}
    if any(n == "doq" or n.startswith("doq-i") for n in names):  # RFC 9250, and its drafts
        return "doq"
    if "dot" in names:
        return "dot"
    if 853 in (orig_p, resp_p):
        return "dot" if proto == "tcp" else "doq" if proto == "udp" else ""
    return ""


# -- the dissector ------------------------------------------------------------------------------

_LABEL_BY_PORT = {5353: "mdns", 5355: "llmnr", 53: "dns"}
#: never probed for DNS: DoQ (853, encrypted) and NetBIOS name service (137, encoded names)
_SKIP_PORTS = frozenset({853, 137})
_MAX_WEIRD = 5
#: answer rows kept per flow: a name bomb (64 kB of pointers to one 255-octet name, in every
#: retained datagram) would otherwise turn 40 MB of capture into millions of rows
MAX_ANSWER_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class _Seen:
    ts: float
    frame: int
    msg: DnsMessage


@dataclass(slots=True)
class _Entry:
    """One transaction being assembled: a query's question and the response that answers it."""

    query: _Seen | None
    question: DnsQuestion | None
    response: _Seen | None = None


def _label(view: FlowView) -> str:
    for port in (5353, 5355, 53):
        if port in (view.orig_p, view.resp_p):
            return _LABEL_BY_PORT[port]
    return ""


def _probe_exchange(view: FlowView) -> bool:
    """DNS on a port that is not 53/5353/5355: the first datagram must be a strict single-
    question query and a response with the same id and question must follow."""
    first = view.datagrams[0].payload if view.datagrams else b""
    if len(first) < 17 or first[2] & 0xF8 or first[4:6] != b"\x00\x01" or first[6:10] != bytes(4):
        return False
    try:
        query = parse_message(first)
    except ParseError:
        return False
    if query.questions[0].qclass & 0x7FFF != 1:
        return False
    key = query.questions[0].name.lower()
    for dgram in view.datagrams[1:]:
        if dgram.from_orig == view.datagrams[0].from_orig or dgram.payload[:2] != first[:2]:
            continue
        try:
            resp = parse_message(dgram.payload)
        except ParseError:
            continue
        if resp.qr and resp.questions and resp.questions[0].name.lower() == key:
            return True
    return False


def _tcp_messages(stream: Stream) -> tuple[list[tuple[float, int, bytes]], str]:
    """Length-prefixed messages of one direction; the second item names a cut tail ("" if none)."""
    out = []
    data = stream.data
    pos = 0
    while pos + 2 <= len(data):
        n = (data[pos] << 8) | data[pos + 1]
        if pos + 2 + n > len(data):
            return out, f"message of {n} octets cut at stream offset {pos}"
        out.append((stream.ts_at(pos), stream.frame_at(pos), data[pos + 2 : pos + 2 + n]))
        pos += 2 + n
    return out, ("" if pos == len(data) else "one octet left after the last message")


def dissect(view: FlowView) -> list[Row]:
    """``dns`` and ``dns_answers`` rows (plus ``weird`` rows) for one flow; never raises."""
    if view.proto == "udp":
        label = _label(view)
        if not label:
            if _SKIP_PORTS & {view.orig_p, view.resp_p} or not _probe_exchange(view):
                return []
            label = "dns"
        raw = [(d.ts, d.frame, d.payload) for d in view.datagrams]
        return _rows(view, raw, "udp", label, [])
    if view.proto == "tcp" and 53 in (view.orig_p, view.resp_p):
        raw, problems = [], []
        for stream in (view.orig, view.resp):
            msgs, cut = _tcp_messages(stream)
            raw.extend(msgs)
            if cut and not (stream.gap or stream.capped):
                problems.append(cut)
        raw.sort(key=lambda m: (m[0], m[1]))
        return _rows(view, raw, "tcp", "dns", problems)
    return []


def _rows(
    view: FlowView, raw: list[tuple[float, int, bytes]], proto: str, label: str, problems: list[str]
) -> list[Row]:
    weirds: list[Row] = [
        weird(view, ParseError(p, "tcp_cut"), "dns") for p in problems[:_MAX_WEIRD]
    ]
    seen: list[_Seen] = []
    for ts, frame, payload in raw:
        try:
            msg = parse_message(payload, lenient=True)
        except ParseError as err:
            if len(weirds) < _MAX_WEIRD:
                weirds.append(weird(view, err, "dns", ts=ts, frame=frame))
            continue
        if not msg.complete and len(weirds) < _MAX_WEIRD:
            weirds.append(weird(view, ParseError("records cut", "truncated"), "dns", ts, frame))
        seen.append(_Seen(ts, frame, msg))
    entries: list[_Entry] = []  # in first-seen order
    pending: dict[tuple[int, str], list[int]] = {}
    answer_rows: list[Row] = []
    dropped = 0
    for item in seen:
        msg = item.msg
        if not msg.qr:
            for q in msg.questions or (None,):
                key = (msg.id, q.name.lower() if q else "")
                pending.setdefault(key, []).append(len(entries))
                entries.append(_Entry(item, q))
            continue
        first_q = msg.questions[0].name if msg.questions else ""
        if msg.questions:
            for q in msg.questions:
                waiting = pending.get((msg.id, q.name.lower()))
                if waiting:
                    entries[waiting.pop(0)].response = item
                else:
                    entries.append(_Entry(None, q, item))
        else:
            owners = dict.fromkeys(rr.name.lower() for rr in msg.answers)
            for owner in [*owners, ""]:
                waiting = pending.get((msg.id, owner))
                if waiting:
                    entries[waiting.pop(0)].response = item
                    break
            else:
                entries.append(_Entry(None, None, item))
        room = MAX_ANSWER_ROWS - len(answer_rows)
        if len(msg.answers) > room:
            dropped += len(msg.answers) - room
        answer_rows.extend(
            DnsAnswerRow(
                item.ts,
                view.uid,
                item.frame,
                first_q,
                rr.name,
                type_name(rr.rtype),
                rr.ttl,
                rr.value,
            )
            for rr in msg.answers[: max(room, 0)]
        )
    if dropped:
        detail = f"{dropped} answer rows left out after the first {MAX_ANSWER_ROWS} of the flow"
        weirds.append(weird(view, ParseError(detail, "answers_capped"), "dns"))
    rows: list[Row] = [_dns_row(view, proto, label, e) for e in entries]
    return rows + answer_rows + weirds


def _dns_row(view: FlowView, proto: str, label: str, entry: _Entry) -> DnsRow:
    query, q, resp = entry.query, entry.question, entry.response
    first = query or resp or _Seen(view.ts, 0, DnsMessage(0, 0, (), (), (), ()))
    answers = resp.msg.answers if resp else ()
    alpn: dict[str, None] = {}
    ech = False
    for rr in answers:
        if rr.svcb is not None:
            alpn.update(dict.fromkeys(rr.svcb.alpn))
            ech = ech or rr.svcb.ech_config_present
    return DnsRow(
        ts=first.ts,
        uid=view.uid,
        frame=first.frame,
        response_frame=resp.frame if resp else None,
        proto=proto,
        transport_label=label,
        trans_id=first.msg.id,
        query=q.name if q else "",
        qtype=type_name(q.qtype) if q else "",
        rcode=rcode_name(resp.msg.rcode) if resp else "",
        rtt_ms=(resp.ts - query.ts) * 1000.0 if resp and query else None,
        answers=";".join(rr.value for rr in answers),
        answer_types=";".join(type_name(rr.rtype) for rr in answers),
        ttls=";".join(str(rr.ttl) for rr in answers),
        cnames=";".join(rr.value for rr in answers if rr.rtype == RRType.CNAME and not rr.error),
        ech_config_present=ech,
        https_alpn=";".join(alpn),
    )
