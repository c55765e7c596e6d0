"""DNS wire format (RFC 1035, EDNS RFC 6891, SVCB/HTTPS RFC 9460): a pure message parser.

``parse_message`` returns a :class:`DnsMessage` or raises :class:`ParseError`. Names are rendered
like dig does: bytes outside 0x21-0x7E become ``\\DDD`` (decimal), the zone-file specials
``. " ( ) @ $ \\`` inside a label get a backslash, and ``;`` becomes ``\\059`` so that no value
ever contains the ';' used to join lists. Nothing is lost.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntEnum

from inspector.errors import ParseError

__all__ = [
    "DnsMessage",
    "DnsQuestion",
    "DnsRecord",
    "Edns",
    "RCode",
    "RRType",
    "SvcParamKey",
    "Svcb",
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
