"""Rewrite exported packets with a pseudonymised run's map, so the evidence pcap is publishable.

Every personal address the map names (and every further local address or unicast MAC the
exported packets carry, given a new pseudonym from the same map) is replaced:

* in the headers: Ethernet / Linux cooked source and destination, VLAN-tagged frames included,
  ARP, IPv4 and IPv6 source and destination, and the IP header an ICMP error quotes;
* in payloads, as bytes wherever they occur (DNS A/AAAA answers, STUN MAPPED-ADDRESS, DHCP,
  NDP options...) and XOR-ed in STUN XOR-MAPPED / XOR-PEER / XOR-RELAYED addresses (the STUN
  FINGERPRINT is recomputed; a MESSAGE-INTEGRITY can no longer verify and is counted);
* as text (SIP/SDP ``c=`` lines, ICE candidates, HTTP): the pseudonym written at the same length
  (leading zeros, a longer IPv6 form) or, when it cannot be, the digits blanked with ``x``;
  reverse-lookup names (``...in-addr.arpa``, ``...ip6.arpa``) as text and as DNS labels;
* the device part of ``.local`` names the report names ``host-N`` (mDNS labels and text), as
  ``host-N`` padded with ``x`` to the same length, so label lengths and compression hold.

Then the IPv4 header, TCP, UDP, ICMP and ICMPv6 checksums are made right: recomputed for a
complete packet, updated incrementally (RFC 1624) for a truncated one or a fragment, so that no
old checksum is left to betray the real addresses' sum. :func:`scan` finds what remains.
"""

from __future__ import annotations

import ipaddress
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.dissect.dns_wire import parse_message
from inspector.errors import ParseError
from inspector.report.addrtext import (
    COOKIE,
    blank,
    case,
    fit_v4,
    fit_v6,
    labels,
    pattern,
    text_forms,
    xor,
)
from inspector.report.pseudonymize import Pseudonymizer

__all__ = ["Notes", "PacketRewriter"]

_ETHER, _SLL, _SLL2, _NULL, _LOOP = 1, 113, 276, 0, 108
_RAW = {101: 0, 12: 0, 14: 0, 228: 0x0800, 229: 0x86DD}
_VLAN = (0x8100, 0x88A8, 0x9100)
_V4, _V6, _ARP = 0x0800, 0x86DD, 0x0806
_XOR_ATTRS = frozenset({0x0012, 0x0016, 0x0020, 0x8020})
_PLAIN_ATTRS = frozenset({0x0001, 0x0004, 0x0005, 0x802B, 0x802C})
_DNS_PORTS = frozenset({53, 5353, 5355})
_ICMP_ERRORS = {1: frozenset({3, 4, 5, 11, 12}), 58: frozenset({1, 2, 3, 4})}
_EXT = frozenset({0, 43, 60, 51})
_IP_KINDS = frozenset({"client", "local", "peer"})


@dataclass
class Notes:
    """What the rewrite did beyond the headers, for the one-line note."""

    packets: int = 0
    payload_bytes: int = 0  #: address byte strings found and replaced in payloads
    stun_xor: int = 0
    stun_integrity: int = 0
    text: int = 0
    names: int = 0
    blanked: int = 0
    incremental: int = 0
    unparsed: int = 0

    @property
    def warns(self) -> bool:
        """Something a reader of the pcap should know (blanked text, broken integrity...)."""
        return bool(self.blanked or self.stun_integrity or self.incremental or self.unparsed)

    def line(self) -> str:
        parts = []
        if self.payload_bytes:
            parts.append(f"{self.payload_bytes} address(es) inside payloads")
        if self.stun_xor:
            parts.append(f"{self.stun_xor} STUN XOR address(es)")
        if self.text:
            parts.append(f"{self.text} address text(s)")
        if self.names:
            parts.append(f"{self.names} .local device name(s)")
        done = "; also rewrote " + ", ".join(parts) if parts else ""
        warn = []
        if self.blanked:
            warn.append(f"{self.blanked} address text(s) too short for their pseudonym blanked")
        if self.stun_integrity:
            warn.append(f"{self.stun_integrity} STUN MESSAGE-INTEGRITY no longer verify")
        if self.incremental:
            warn.append(
                f"{self.incremental} truncated packet(s) with checksums updated, not checked"
            )
        if self.unparsed:
            warn.append(f"{self.unparsed} frame(s) of unknown link type rewritten as bytes only")
        return f"pseudonymised {self.packets} packet(s){done}" + (
            "; " + "; ".join(warn) if warn else ""
        )


# ---------------------------------------------------------------- checksums
def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    return _fold(sum(struct.unpack(f"!{len(data) // 2}H", data)))


def _checksum(data: bytes) -> int:
    return ~_sum16(data) & 0xFFFF


def _incremental(old_ck: int, old: bytes, new: bytes) -> int:
    """RFC 1624 eqn. 3: the checksum after ``old`` (covered bytes) became ``new``."""
    return ~_fold((~old_ck & 0xFFFF) + (~_sum16(old) & 0xFFFF) + _sum16(new)) & 0xFFFF


# ---------------------------------------------------------------- layout
@dataclass
class _Ip:
    start: int
    version: int
    src: int  #: offset of the source address (destination follows)
    proto: int
    l4: int  #: offset of the transport header
    l4_len: int  #: length the IP header declares for it
    end: int  #: end of the captured part
    complete: bool


def _ether(b: bytes | bytearray) -> tuple[int, int, list[int]]:
    off, etype = 12, int.from_bytes(b[12:14], "big")
    while etype in _VLAN and len(b) >= off + 6:
        off += 4
        etype = int.from_bytes(b[off : off + 2], "big")
    return off + 2, etype, [0, 6]


def _sll(b: bytes | bytearray) -> tuple[int, int, list[int]]:
    return 16, int.from_bytes(b[14:16], "big"), [6] if int.from_bytes(b[4:6], "big") == 6 else []


def _sll2(b: bytes | bytearray) -> tuple[int, int, list[int]]:
    return 20, int.from_bytes(b[0:2], "big"), [12] if b[11] == 6 else []


def _null(b: bytes | bytearray, linktype: int) -> tuple[int, int, list[int]]:
    fam = int.from_bytes(b[:4], "little" if linktype == _NULL else "big")
    if fam > 0xFFFF:
        fam = int.from_bytes(b[:4], "big" if linktype == _NULL else "little")
    return 4, _V4 if fam == 2 else _V6 if fam in (10, 24, 28, 30) else 0, []


def _link(linktype: int, b: bytes | bytearray) -> tuple[int, int, list[int]]:
    """(offset of the network header, ethertype, offsets of 6-byte MAC fields); -1 if unknown."""
    fixed = {_ETHER: (14, _ether), _SLL: (16, _sll), _SLL2: (20, _sll2)}
    if linktype in fixed and len(b) >= fixed[linktype][0]:
        return fixed[linktype][1](b)
    if linktype in _RAW and b:
        return 0, _RAW[linktype] or {4: _V4, 6: _V6}.get(b[0] >> 4, 0), []
    if linktype in (_NULL, _LOOP) and len(b) >= 4:
        return _null(b, linktype)
    return -1, 0, []


def _ip(b: bytes | bytearray, off: int) -> _Ip | None:
    if len(b) >= off + 20 and b[off] >> 4 == 4:
        ihl = (b[off] & 0x0F) * 4
        total = int.from_bytes(b[off + 2 : off + 4], "big")
        frag = int.from_bytes(b[off + 6 : off + 8], "big")
        end = min(off + total, len(b)) if total >= ihl else len(b)
        complete = off + total <= len(b) and not frag & 0x3FFF
        first = not frag & 0x1FFF
        return _Ip(
            off, 4, off + 12, b[off + 9] if first else -1, off + ihl, total - ihl, end, complete
        )
    if len(b) >= off + 40 and b[off] >> 4 == 6:
        plen = int.from_bytes(b[off + 4 : off + 6], "big")
        nh, pos, complete = b[off + 6], off + 40, off + 40 + plen <= len(b)
        while nh in _EXT | {44} and len(b) >= pos + 8:
            if nh == 44:
                complete = complete and not int.from_bytes(b[pos + 2 : pos + 4], "big") & 0xFFF9
                if int.from_bytes(b[pos + 2 : pos + 4], "big") & 0xFFF8:
                    nh = -1
                    break
                nh, pos = b[pos], pos + 8
                continue
            size = (b[pos + 1] + 2) * 4 if nh == 51 else (b[pos + 1] + 1) * 8
            nh, pos = b[pos], pos + size
        end = min(off + 40 + plen, len(b))
        return _Ip(off, 6, off + 8, nh, pos, off + 40 + plen - pos, end, complete)
    return None


def _quoted(b: bytes | bytearray, ip: _Ip) -> _Ip | None:
    """The IP header an ICMP error quotes (offsets in the whole packet), or None."""
    if ip.proto in _ICMP_ERRORS and ip.end >= ip.l4 + 8 and b[ip.l4] in _ICMP_ERRORS[ip.proto]:
        return _ip(b[: ip.end], ip.l4 + 8)
    return None


def _name_rule(name: bytes, token: str) -> tuple[re.Pattern[bytes], bytes]:
    """What finds a device name as a DNS label or before ``.local``, and its same-length
    replacement."""
    label = re.escape(bytes([len(name)])) if len(name) < 64 else b"(?!)"
    rule = re.compile(
        b"(?:(?<=" + label + b")" + re.escape(name) + b"(?=[\\x00-\\x3f\\xc0-\\xff]))"
        b"|(?:(?<![A-Za-z0-9-])" + re.escape(name) + b"(?=\\.local))",
        re.I,
    )
    new = token.encode()
    return rule, (
        new + b"x" * (len(name) - len(new)) if len(name) >= len(new) else b"x" * len(name)
    )


def _ports(b: bytes | bytearray, ip: _Ip) -> tuple[int, int]:
    if ip.proto in (6, 17) and ip.end >= ip.l4 + 4:
        return struct.unpack_from("!HH", b, ip.l4)
    return 0, 0


def _payload(ip: _Ip) -> int:
    return ip.l4 + (8 if ip.proto == 17 else 20 if ip.proto == 6 else 8)


def _tcp_payload(b: bytes | bytearray, ip: _Ip) -> int:
    if ip.proto == 6 and ip.end >= ip.l4 + 13:
        return ip.l4 + (b[ip.l4 + 12] >> 4) * 4
    return _payload(ip)


# ---------------------------------------------------------------- text forms
@dataclass
class PacketRewriter:
    """Rewrites packets with ``p``'s pseudonyms (extending it for addresses it has not seen)."""

    p: Pseudonymizer
    notes: Notes = field(default_factory=Notes)
    _ip: dict[bytes, bytes] = field(default_factory=dict)
    _mac: dict[bytes, bytes] = field(default_factory=dict)
    _text: dict[bytes, bytes] = field(default_factory=dict)
    _text_re: re.Pattern[bytes] | None = None
    _names: list[tuple[re.Pattern[bytes], bytes]] = field(default_factory=list)
    _seen: list[tuple[str, bool]] = field(default_factory=list)

    # ---- pass 1: give every personal address of the packets a pseudonym
    def learn(self, linktype: int, data: bytes) -> None:
        off, etype, macs = _link(linktype, data)
        for m in macs:
            self._learn_mac(data[m : m + 6])
        if etype == _ARP and len(data) >= off + 28 and data[off + 4 : off + 6] == b"\x06\x04":
            for m in (off + 8, off + 18):
                self._learn_mac(data[m : m + 6])
            for a in (off + 14, off + 24):
                self._learn_ip(data[a : a + 4])
            return
        ip = _ip(data, off) if etype in (_V4, _V6) else None
        if ip is not None:
            self._learn_layer(data, ip)

    def _learn_layer(self, data: bytes, ip: _Ip, depth: int = 0) -> None:
        size = 4 if ip.version == 4 else 16
        self._learn_ip(data[ip.src : ip.src + size])
        self._learn_ip(data[ip.src + size : ip.src + 2 * size])
        sport, dport = _ports(data, ip)
        body = data[_tcp_payload(data, ip) : ip.end]
        if ip.proto == 17 and {sport, dport} & _DNS_PORTS:
            self._learn_dns(body)
        if ip.proto in (6, 17):
            for _kind, addr in _stun_addresses(body):
                self._learn_ip(addr)
        inner = _quoted(data, ip) if depth == 0 else None
        if inner is not None:
            self._learn_layer(data[: ip.end], inner, 1)

    def _learn_dns(self, body: bytes) -> None:
        try:
            msg = parse_message(body, lenient=True)
        except ParseError:
            return
        for rr in (*msg.answers, *msg.authorities, *msg.additionals):
            if rr.rtype in (1, 28):
                self._learn_ip(ipaddress.ip_address(rr.value).packed)

    def _learn_ip(self, packed: bytes) -> None:
        if len(packed) in (4, 16):
            text = str(ipaddress.ip_address(packed))
            self.p.reserved.add(text)
            self._seen.append((text, False))

    def _learn_mac(self, raw: bytes) -> None:
        if len(raw) == 6 and not raw[0] & 1 and any(raw):
            self.p.reserved.add(raw.hex(":"))
            self._seen.append((raw.hex(":"), True))

    def reals(self) -> list[str]:
        """The real addresses and MACs the map rewrites (what must not remain)."""
        return [r for r, k in self.p.kinds.items() if k in _IP_KINDS or k == "mac"]

    def freeze(self) -> None:
        """Give what :meth:`learn` saw its pseudonyms (none equal to an address or MAC of the
        packets) and build the byte tables (after :meth:`learn`, before :meth:`rewrite`)."""
        for text, is_mac in self._seen:
            if is_mac:
                self.p.register_mac(text)
            else:
                self.p.address(text)
        for real, pseudo in self.p.mapping.items():
            kind = self.p.kinds.get(real, "")
            if kind == "mac":
                self._mac[bytes.fromhex(real.replace(":", ""))] = bytes.fromhex(
                    pseudo.replace(":", "")
                )
                for form in text_forms(real):
                    self._text[form.encode()] = case(pseudo.replace(":", form[2]), form).encode()
            elif kind in ("client", "local", "peer"):
                a, b = ipaddress.ip_address(real), ipaddress.ip_address(pseudo)
                if a.version == b.version:
                    self._ip[a.packed] = b.packed
                    for form in text_forms(real):
                        self._text[form.encode()] = b""  # fitted at each occurrence
        self._text_re = pattern(f.decode() for f in self._text)
        for real, token in self.p.mapping.items():
            if self.p.kinds.get(real) == "host" and real.startswith("mdns:"):
                self._names.append(_name_rule(real[5:].encode("utf-8", "replace"), token))

    # ---- pass 2: rewrite
    def rewrite(self, linktype: int, data: bytes) -> bytes:
        b = bytearray(data)
        off, etype, macs = _link(linktype, b)
        self.notes.packets += 1
        if off < 0:
            self.notes.unparsed += 1
            self._bytes(b, 0)
            self._texts(b, 0)
            return bytes(b)
        for m in macs:
            self._swap(b, m, 6, self._mac)
        if etype == _ARP and len(b) >= off + 28:
            for m in (off + 8, off + 18):
                self._swap(b, m, 6, self._mac)
            for a in (off + 14, off + 24):
                self._swap(b, a, 4, self._ip)
        ip = _ip(b, off) if etype in (_V4, _V6) else None
        if ip is not None:
            self._headers(b, ip)
            self._stun(b, ip)
        self.notes.payload_bytes += self._bytes(b, off)
        self._texts(b, off)
        self._device_names(b, off)
        if ip is not None:
            self._checksums(b, data, ip)
        return bytes(b)

    def _swap(self, b: bytearray, at: int, size: int, table: dict[bytes, bytes]) -> None:
        new = table.get(bytes(b[at : at + size]))
        if new is not None:
            b[at : at + size] = new

    def _headers(self, b: bytearray, ip: _Ip, depth: int = 0) -> None:
        size = 4 if ip.version == 4 else 16
        self._swap(b, ip.src, size, self._ip)
        self._swap(b, ip.src + size, size, self._ip)
        inner = _quoted(b, ip) if depth == 0 else None
        if inner is not None:
            self._headers(b, inner, 1)

    def _bytes(self, b: bytearray, start: int) -> int:
        """Replace every remaining address / MAC byte string after ``start``; the count."""
        count = 0
        for table in (self._ip, self._mac):
            for real in sorted(table, key=len, reverse=True):
                pos = b.find(real, start)
                while pos >= 0:
                    b[pos : pos + len(real)] = table[real]
                    count += 1
                    pos = b.find(real, pos + len(real))
        return count

    def _device_names(self, b: bytearray, start: int) -> None:
        """The device part of ``.local`` names (mDNS labels, ``name.local`` text): its
        ``host-N`` at the same length (padded with ``x``), or ``x``-blanked when shorter."""
        for rule, new in self._names:
            for m in list(rule.finditer(bytes(b), start)):
                b[m.start() : m.end()] = new
                self.notes.names += 1

    def _texts(self, b: bytearray, start: int) -> None:
        if self._text_re is None:
            return
        for m in list(self._text_re.finditer(bytes(b), start)):
            b[m.start() : m.end()] = self._fit(m.group())
        for real in [
            r for r, k in self.p.kinds.items() if k != "mac" and "." in r and ":" not in r
        ]:
            pseudo = self.p.mapping[real]
            label = labels(real)
            pos = b.find(label, start)
            while pos >= 0:
                digits = len(label) - 4 - 8
                fitted = fit_v4(reversed([int(x) for x in pseudo.split(".")]), digits)
                if fitted is None:
                    new = bytes(c if c < 0x30 or c > 0x39 else 0x78 for c in label)
                    self.notes.blanked += 1
                else:
                    new = b"".join(bytes([len(o)]) + o.encode() for o in fitted.split("."))
                    new += b"\x07in-addr"
                    self.notes.text += 1
                b[pos : pos + len(label)] = new
                pos = b.find(label, pos + len(label))

    def _fit(self, text: bytes) -> bytes:
        s = text.decode("ascii")
        low = s.lower()
        real, suffix = low, ""
        for end in (".in-addr.arpa", ".ip6.arpa"):
            if low.endswith(end):
                real, suffix = low[: -len(end)], s[-len(end) :]
        if re.fullmatch(r"(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}", real):
            self.notes.text += 1
            pseudo = self.p.mapping[real.replace("-", ":")]
            return case(pseudo.replace(":", s[2]), s).encode()
        if suffix.lower() == ".ip6.arpa":
            nibbles = "".join(reversed(real.split(".")))
            canon = str(ipaddress.IPv6Address(int(nibbles, 16)))
            new = ipaddress.ip_address(self.p.mapping[canon]).reverse_pointer
            self.notes.text += 1
            return case(new, s).encode()
        if suffix:
            canon = ".".join(reversed(real.split(".")))
            pseudo = self.p.mapping[canon]
            fitted = fit_v4(reversed([int(x) for x in pseudo.split(".")]), len(real) - 3)
        else:
            canon = str(ipaddress.ip_address(real))
            pseudo = self.p.mapping[canon]
            if ":" in canon:
                fitted = fit_v6(pseudo, len(real))
            else:
                fitted = fit_v4([int(x) for x in pseudo.split(".")], len(real) - 3)
        if fitted is None:
            self.notes.blanked += 1
            return blank(real.encode()) + suffix.encode()
        self.notes.text += 1
        return case(fitted, s[: len(real)]).encode() + suffix.encode()

    def _stun(self, b: bytearray, ip: _Ip) -> None:
        if ip.proto not in (6, 17):
            return
        start = _tcp_payload(b, ip)
        for head in (start, start + 2):
            if self._stun_at(b, head, ip.end):
                return

    def _stun_at(self, b: bytearray, head: int, end: int, depth: int = 0) -> bool:
        """Rewrite a STUN message (or TURN ChannelData) at ``head``; True if one is there."""
        if depth > 2 or end < head + 4:
            return False
        if 0x40 <= b[head] < 0x80:  # ChannelData: 2-byte channel, 2-byte length, data
            stop = min(head + 4 + int.from_bytes(b[head + 2 : head + 4], "big"), end)
            self._stun_at(b, head + 4, stop, depth + 1)
            return True
        if b[head + 4 : head + 8] == COOKIE and not b[head] & 0xC0 and end >= head + 20:
            self._stun_message(b, head, end, depth)
            return True
        return False

    def _stun_message(self, b: bytearray, head: int, end: int, depth: int) -> bool:
        length = int.from_bytes(b[head + 2 : head + 4], "big")
        stop, pos, changed = min(head + 20 + length, end), head + 20, False
        key = bytes(b[head + 4 : head + 20])
        while pos + 4 <= stop:
            atype, alen = struct.unpack_from("!HH", b, pos)
            value = pos + 4
            if atype in _XOR_ATTRS and alen in (8, 20) and value + alen <= stop:
                new = self._ip.get(xor(b[value + 4 : value + alen], key))
                if new is not None:
                    b[value + 4 : value + alen] = xor(new, key)
                    self.notes.stun_xor += 1
                    changed = True
            elif atype in _PLAIN_ATTRS and alen in (8, 20) and value + alen <= stop:
                changed = changed or bytes(b[value + 4 : value + alen]) in self._ip
            elif atype == 0x0013 and value + alen <= stop:  # TURN DATA: a relayed message
                before = bytes(b[value : value + alen])
                self._stun_at(b, value, value + alen, depth + 1)
                changed = changed or bytes(b[value : value + alen]) != before
            elif atype == 0x0008 and changed:
                self.notes.stun_integrity += 1
            elif atype == 0x8028 and alen == 4 and value + 4 <= stop and changed:
                crc = zlib.crc32(bytes(b[head:pos])) ^ 0x5354554E
                struct.pack_into("!I", b, value, crc & 0xFFFFFFFF)
            pos = value + alen + (-alen % 4)
        return changed

    # ---- checksums
    def _checksums(self, b: bytearray, old: bytes, ip: _Ip, depth: int = 0) -> None:
        inner = _quoted(b, ip) if depth == 0 else None
        if inner is not None:
            inner.complete = False
            self._checksums(b, old, inner, depth + 1)
        if ip.version == 4 and len(b) >= ip.l4:
            b[ip.start + 10 : ip.start + 12] = b"\x00\x00"
            struct.pack_into("!H", b, ip.start + 10, _checksum(bytes(b[ip.start : ip.l4])))
        at = {6: 16, 17: 6, 1: 2, 58: 2}.get(ip.proto)
        if at is None or ip.end < ip.l4 + at + 2:
            return
        if ip.proto == 17 and ip.version == 4 and b[ip.l4 + 6 : ip.l4 + 8] == b"\x00\x00":
            return  # no UDP checksum
        new_cov = self._covered(b, ip, at)
        if ip.complete and depth == 0:
            value = _checksum(new_cov)
        else:
            old_ck = int.from_bytes(old[ip.l4 + at : ip.l4 + at + 2], "big")
            value = _incremental(old_ck, self._covered(bytearray(old), ip, at), new_cov)
            self.notes.incremental += depth == 0
        if ip.proto == 17 and value == 0:
            value = 0xFFFF
        struct.pack_into("!H", b, ip.l4 + at, value)

    @staticmethod
    def _covered(b: bytearray, ip: _Ip, at: int) -> bytes:
        body = bytearray(b[ip.l4 : ip.end])
        body[at : at + 2] = b"\x00\x00"
        if ip.proto == 1:
            return bytes(body)
        size = 4 if ip.version == 4 else 16
        addrs = bytes(b[ip.src : ip.src + 2 * size])
        if ip.version == 4:
            pseudo = addrs + struct.pack("!BBH", 0, ip.proto, ip.l4_len & 0xFFFF)
        else:
            pseudo = addrs + struct.pack("!I3xB", ip.l4_len, ip.proto)
        return pseudo + bytes(body)


def _stun_addresses(body: bytes, depth: int = 0) -> Iterable[tuple[int, bytes]]:
    """(attribute type, packed address) of the STUN address attributes in ``body`` (and in a
    message relayed inside a TURN DATA attribute or ChannelData)."""
    if depth > 2 or len(body) < 4:
        return
    if 0x40 <= body[0] < 0x80:
        yield from _stun_addresses(body[4:], depth + 1)
        return
    for head in (0, 2):
        if body[head + 4 : head + 8] != COOKIE or len(body) < head + 20 or body[head] & 0xC0:
            continue
        key = body[head + 4 : head + 20]
        stop = min(head + 20 + int.from_bytes(body[head + 2 : head + 4], "big"), len(body))
        pos = head + 20
        while pos + 4 <= stop:
            atype, alen = struct.unpack_from("!HH", body, pos)
            raw = body[pos + 8 : pos + 4 + alen]
            if alen in (8, 20) and pos + 4 + alen <= stop:
                if atype in _XOR_ATTRS:
                    yield atype, xor(raw, key)
                elif atype in _PLAIN_ATTRS:
                    yield atype, bytes(raw)
            if atype == 0x0013:
                yield from _stun_addresses(body[pos + 4 : pos + 4 + alen], depth + 1)
            pos += 4 + alen + (-alen % 4)
        return
