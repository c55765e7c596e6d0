"""DNS messages (RFC 1035, EDNS RFC 6891, SVCB/HTTPS RFC 9460) and the ``dns`` dissector.

``parse_message`` is a pure parser. ``dissect`` finds cleartext DNS, mDNS (RFC 6762) and LLMNR
(RFC 4795) in a flow, over UDP or TCP (RFC 1035 section 4.2.2 length prefix), pairs responses
with queries and emits ``dns`` / ``dns_answers`` rows. Encrypted DNS is only labelled, by the pure
helpers :func:`encrypted_dns_label` and :func:`doh_resolver`, for the assessment stage.

Names are rendered like dig does: bytes outside 0x21-0x7E become ``\\DDD`` (decimal), the
zone-file specials ``. " ( ) @ $ \\`` inside a label get a backslash, and ``;`` becomes ``\\059``
so that no value ever contains the ';' used to join lists. Nothing is lost.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.base import FlowView, ParseError, Stream, weird
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


class RRType(IntEnum):
    """Resource record types this module names (IANA DNS parameters registry)."""

    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    HINFO = 13
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    NAPTR = 35
    OPT = 41
    DS = 43
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    NSEC3 = 50
    SVCB = 64
    HTTPS = 65
    IXFR = 251
    AXFR = 252
    ANY = 255
    CAA = 257


class RCode(IntEnum):
    """Response codes (RFC 1035 4.1.1, RFC 6891 extended, RFC 7873 BADCOOKIE)."""

    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10
    DSOTYPENI = 11
    BADVERS = 16
    BADKEY = 17
    BADTIME = 18
    BADMODE = 19
    BADNAME = 20
    BADALG = 21
    BADTRUNC = 22
    BADCOOKIE = 23


class SvcParamKey(IntEnum):
    """SVCB/HTTPS SvcParamKeys (RFC 9460 section 14.3.2; 7 RFC 9461, 8 RFC 9540)."""

    MANDATORY = 0
    ALPN = 1
    NO_DEFAULT_ALPN = 2
    PORT = 3
    IPV4HINT = 4
    ECH = 5
    IPV6HINT = 6
    DOHPATH = 7
    OHTTP = 8


_KEY_NAMES = {k.value: k.name.lower().replace("_", "-") for k in SvcParamKey}


def type_name(rtype: int) -> str:
    """``A``, ``HTTPS``... or ``TYPE<n>`` (RFC 3597) for a type this module does not name."""
    try:
        return RRType(rtype).name
    except ValueError:
        return f"TYPE{rtype}"


def rcode_name(rcode: int) -> str:
    """``NOERROR``, ``NXDOMAIN``... or ``RCODE<n>``."""
    try:
        return RCode(rcode).name
    except ValueError:
        return f"RCODE{rcode}"


# -- presentation --------------------------------------------------------------------------------

_NAME_SPECIAL = b'."()@$\\'


def _escape_table(printable: range, special: bytes) -> tuple[str, ...]:
    out = []
    for b in range(256):
        if b == 0x3B:  # ';' joins our lists: always numeric
            out.append("\\059")
        elif b in special:
            out.append("\\" + chr(b))
        elif b in printable:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return tuple(out)


_LABEL_ESC = _escape_table(range(0x21, 0x7F), _NAME_SPECIAL)
_TEXT_ESC = _escape_table(range(0x20, 0x7F), b'"\\')
_ALPN_ESC = _escape_table(range(0x21, 0x7F), b",\\")


def escape_label(raw: bytes) -> str:
    """One label in dig's presentation form (see the module doc); lossless and ASCII-only."""
    return "".join(map(_LABEL_ESC.__getitem__, raw))


# -- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DnsQuestion:
    name: str  #: presentation form, ``.`` for the root
    qtype: int
    qclass: int  #: raw; in mDNS the top bit asks for a unicast response


@dataclass(frozen=True, slots=True)
class Svcb:
    """Decoded SVCB/HTTPS RDATA (RFC 9460 section 2.2)."""

    priority: int  #: 0 = AliasMode
    target: str  #: ``.`` means the owner name (ServiceMode) / no service (AliasMode)
    keys: tuple[int, ...]
    alpn: tuple[str, ...] = ()  #: escaped like dig (``\\,`` ``\\\\`` ``\\DDD``)
    port: int | None = None
    ipv4hint: tuple[str, ...] = ()
    ipv6hint: tuple[str, ...] = ()
    ech_config_present: bool = False
    mandatory: tuple[int, ...] = ()

    def presentation(self) -> str:
        """``<priority> <target> key=value ...`` in wire order; ``ech`` and keys this module does
        not decode are shown by name only (their values are not copied)."""
        values: dict[int, str] = {
            SvcParamKey.MANDATORY: ",".join(_KEY_NAMES.get(k, f"key{k}") for k in self.mandatory),
            SvcParamKey.ALPN: ",".join(self.alpn),
            SvcParamKey.PORT: str(self.port),
            SvcParamKey.IPV4HINT: ",".join(self.ipv4hint),
            SvcParamKey.IPV6HINT: ",".join(self.ipv6hint),
        }
        parts = [str(self.priority), self.target]
        for key in self.keys:
            name = _KEY_NAMES.get(key, f"key{key}")
            parts.append(f"{name}={values[key]}" if key in values else name)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Edns:
    """The OPT pseudo-record (RFC 6891 section 6.1.3)."""

    udp_size: int
    ext_rcode: int  #: upper 8 bits of the 12-bit RCODE
    version: int
    dnssec_ok: bool
    options: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class DnsRecord:
    name: str
    rtype: int
    rclass: int
    ttl: int
    rdlength: int
    value: str  #: rendering described in ``dns_answers.value``; never contains ';'
    svcb: Svcb | None = None
    error: str = ""  #: why the RDATA did not decode (``value`` is then ``\\# <len>``)


@dataclass(frozen=True, slots=True)
class DnsMessage:
    id: int
    flags: int
    questions: tuple[DnsQuestion, ...]
    answers: tuple[DnsRecord, ...]
    authorities: tuple[DnsRecord, ...]
    additionals: tuple[DnsRecord, ...]
    edns: Edns | None = None
    complete: bool = True  #: False when a lenient parse stopped at a truncated section

    @property
    def qr(self) -> bool:
        return bool(self.flags & 0x8000)

    @property
    def tc(self) -> bool:
        return bool(self.flags & 0x0200)

    @property
    def rcode(self) -> int:
        """The full RCODE: header bits plus the EDNS extended bits."""
        ext = self.edns.ext_rcode if self.edns else 0
        return (ext << 4) | (self.flags & 0xF)


# -- wire parsing ---------------------------------------------------------------------------------

_HEADER = struct.Struct("!6H")
_RR_FIXED = struct.Struct("!HHIH")
_TWO_U16 = struct.Struct("!HH")
_MAX_NAME_WIRE = 255  # RFC 1035 section 3.1
_MAX_JUMPS = 64


def _read_name(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """Decode the name at ``pos`` (compression allowed); returns it and the offset after it.

    A pointer must point strictly before the start of the label run that contains it (so every
    jump goes further back and no loop is possible), jumps are bounded, the name is at most 255
    octets in wire form, and its in-place part must end by ``end``.
    """
    labels: list[str] = []
    wire = 1
    after = -1
    run_start = pos
    jumps = 0
    while True:
        if pos >= (end if after < 0 else len(data)):
            raise ParseError(f"name runs past the end at offset {pos}", "truncated")
        length = data[pos]
        if length >= 0xC0:
            if pos + 1 >= (end if after < 0 else len(data)):
                raise ParseError(f"compression pointer cut at offset {pos}", "truncated")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if target >= run_start:
                raise ParseError(f"pointer at {pos} to {target} does not point back", "bad_pointer")
            jumps += 1
            if jumps > _MAX_JUMPS:
                raise ParseError("too many compression pointers", "bad_pointer")
            if after < 0:
                after = pos + 2
            pos = run_start = target
            continue
        if length >= 0x40:
            raise ParseError(f"label type 0x{length & 0xC0:02x} at offset {pos}", "bad_label")
        if length == 0:
            break
        wire += length + 1
        if wire > _MAX_NAME_WIRE:
            raise ParseError("name longer than 255 octets", "name_too_long")
        stop = end if after < 0 else len(data)
        if pos + 1 + length > stop:
            raise ParseError(f"label runs past the end at offset {pos}", "truncated")
        labels.append(escape_label(data[pos + 1 : pos + 1 + length]))
        pos += 1 + length
    return (".".join(labels) if labels else "."), (after if after >= 0 else pos + 1)


def _text_strings(rd: bytes) -> str:
    out = []
    i = 0
    while i < len(rd):
        n = rd[i]
        if i + 1 + n > len(rd):
            raise ParseError("TXT string runs past RDATA", "bad_rdata")
        out.append('"' + "".join(map(_TEXT_ESC.__getitem__, rd[i + 1 : i + 1 + n])) + '"')
        i += 1 + n
    return " ".join(out)


def _parse_svcb(data: bytes, start: int, end: int) -> Svcb:
    if end - start < 3:
        raise ParseError("SVCB RDATA shorter than 3 octets", "bad_rdata")
    priority = (data[start] << 8) | data[start + 1]
    target, pos = _read_name(data, start + 2, end)
    keys: list[int] = []
    fields: dict[str, object] = {}
    while pos < end:
        if pos + 4 > end:
            raise ParseError("SvcParam header cut", "bad_rdata")
        key, length = _TWO_U16.unpack_from(data, pos)
        pos += 4
        if pos + length > end:
            raise ParseError(f"SvcParam {key} runs past RDATA", "bad_rdata")
        if keys and key <= keys[-1]:
            raise ParseError("SvcParamKeys not in increasing order", "bad_rdata")
        keys.append(key)
        value = data[pos : pos + length]
        pos += length
        if key == SvcParamKey.ALPN:
            ids, i = [], 0
            while i < len(value):
                n = value[i]
                if n == 0 or i + 1 + n > len(value):
                    raise ParseError("bad alpn-id length", "bad_rdata")
                ids.append("".join(map(_ALPN_ESC.__getitem__, value[i + 1 : i + 1 + n])))
                i += 1 + n
            if not ids:
                raise ParseError("empty alpn", "bad_rdata")
            fields["alpn"] = tuple(ids)
        elif key == SvcParamKey.PORT:
            if length != 2:
                raise ParseError("port is not 2 octets", "bad_rdata")
            fields["port"] = (value[0] << 8) | value[1]
        elif key in (SvcParamKey.IPV4HINT, SvcParamKey.IPV6HINT):
            size = 4 if key == SvcParamKey.IPV4HINT else 16
            if length == 0 or length % size:
                raise ParseError(f"{_KEY_NAMES[key]} length {length}", "bad_rdata")
            cls = ipaddress.IPv4Address if size == 4 else ipaddress.IPv6Address
            hints = tuple(str(cls(value[i : i + size])) for i in range(0, length, size))
            fields[_KEY_NAMES[key]] = hints
        elif key == SvcParamKey.ECH:
            fields["ech_config_present"] = True
        elif key == SvcParamKey.MANDATORY:
            if length == 0 or length % 2:
                raise ParseError("mandatory length", "bad_rdata")
            fields["mandatory"] = struct.unpack(f"!{length // 2}H", value)
    return Svcb(priority, target, tuple(keys), **fields)  # type: ignore[arg-type]


def _rdata(data: bytes, rtype: int, start: int, end: int) -> tuple[str, Svcb | None]:
    """The value rendering of one RDATA; raises ParseError when it does not decode."""
    rd = data[start:end]
    if rtype == RRType.A:
        if len(rd) != 4:
            raise ParseError(f"A RDATA of {len(rd)} octets", "bad_rdata")
        return str(ipaddress.IPv4Address(rd)), None
    if rtype == RRType.AAAA:
        if len(rd) != 16:
            raise ParseError(f"AAAA RDATA of {len(rd)} octets", "bad_rdata")
        return str(ipaddress.IPv6Address(rd)), None
    if rtype in (RRType.CNAME, RRType.NS, RRType.PTR, RRType.MX, RRType.SRV):
        skip = {RRType.MX: 2, RRType.SRV: 6}.get(RRType(rtype), 0)
        if len(rd) < skip + 1:
            raise ParseError(f"{type_name(rtype)} RDATA too short", "bad_rdata")
        name, after = _read_name(data, start + skip, end)
        if after != end:
            raise ParseError(f"{type_name(rtype)} RDATA has trailing octets", "bad_rdata")
        return name, None
    if rtype == RRType.TXT:
        return _text_strings(rd), None
    if rtype == RRType.SOA:
        mname, pos = _read_name(data, start, end)
        rname, pos = _read_name(data, pos, end)
        if end - pos != 20:
            raise ParseError("SOA counters are not 20 octets", "bad_rdata")
        return " ".join([mname, rname, *map(str, struct.unpack_from("!5I", data, pos))]), None
    if rtype in (RRType.SVCB, RRType.HTTPS):
        svcb = _parse_svcb(data, start, end)
        return svcb.presentation(), svcb
    return f"\\# {len(rd)}", None


def _parse_edns(rclass: int, ttl: int, rd: bytes) -> Edns:
    options = []
    i = 0
    while i + 4 <= len(rd):
        code, length = _TWO_U16.unpack_from(rd, i)
        options.append((code, rd[i + 4 : i + 4 + length]))
        i += 4 + length
    if i != len(rd):
        raise ParseError("EDNS option runs past RDATA", "bad_rdata")
    return Edns(rclass, ttl >> 24, (ttl >> 16) & 0xFF, bool(ttl & 0x8000), tuple(options))


def _read_record(data: bytes, pos: int) -> tuple[DnsRecord, int, Edns | None]:
    name, pos = _read_name(data, pos, len(data))
    if pos + 10 > len(data):
        raise ParseError(f"record header cut at offset {pos}", "truncated")
    rtype, rclass, ttl, rdlength = _RR_FIXED.unpack_from(data, pos)
    start = pos + 10
    end = start + rdlength
    if end > len(data):
        raise ParseError(f"RDATA of {rdlength} octets runs past the message", "truncated")
    edns = None
    svcb = None
    error = ""
    try:
        if rtype == RRType.OPT:
            edns = _parse_edns(rclass, ttl, data[start:end])
            value = f"udp={rclass} version={edns.version}" + (" do" if edns.dnssec_ok else "")
        else:
            value, svcb = _rdata(data, rtype, start, end)
    except ParseError as err:
        value, error = f"\\# {rdlength}", f"{err.name}: {err.detail}"
    return DnsRecord(name, rtype, rclass, ttl, rdlength, value, svcb, error), end, edns


def parse_message(data: bytes, *, lenient: bool = False) -> DnsMessage:
    """Parse one DNS message (RFC 1035 section 4.1).

    Raises :class:`ParseError` on a bad header, name or section. Records whose RDATA does not
    decode are kept with ``error`` set. With ``lenient=True`` a message cut inside its record
    sections (snap length, truncated datagram) is returned with what was read and
    ``complete=False``; the header and question section must still be whole.
    """
    if len(data) < 12:
        raise ParseError(f"DNS header needs 12 octets, have {len(data)}", "truncated")
    msg_id, flags, qd, an, ns, ar = _HEADER.unpack_from(data, 0)
    pos = 12
    questions = []
    for _ in range(qd):
        name, pos = _read_name(data, pos, len(data))
        if pos + 4 > len(data):
            raise ParseError(f"question cut at offset {pos}", "truncated")
        qtype, qclass = _TWO_U16.unpack_from(data, pos)
        pos += 4
        questions.append(DnsQuestion(name, qtype, qclass))
    sections: list[list[DnsRecord]] = [[], [], []]
    edns = None
    complete = True
    try:
        for section, count in zip(sections, (an, ns, ar), strict=True):
            for _ in range(count):
                record, pos, opt = _read_record(data, pos)
                section.append(record)
                if opt is not None and section is sections[2]:  # RFC 6891 6.1.1
                    edns = opt
    except ParseError:
        if not lenient:
            raise
        complete = False
    return DnsMessage(
        msg_id, flags, tuple(questions), *map(tuple, sections), edns=edns, complete=complete
    )


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
    """``dot`` (TCP 853, RFC 7858; or ALPN ``dot``), ``doq`` (UDP 853 or ALPN ``doq``, RFC 9250)
    or ``""``. DoH on 443 cannot be told from HTTPS by ports: use :func:`doh_resolver` on the SNI.
    """
    names = {a.lower() for a in alpns}
    if "doq" in names:
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
            for rr in msg.answers
        )
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
