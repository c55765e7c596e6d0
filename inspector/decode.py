"""Decode stage: link layer -> IP (fragments reassembled) -> TCP/UDP/ICMP, with ``struct``.

:meth:`Decoder.decode` returns a :data:`Decoded` tuple, a ``str`` skip reason (the packet is
fine but carries nothing the flow stage tracks, e.g. ARP), or raises :class:`Malformed`.
Payloads are not copied: the tuple carries the frame bytes and the payload's bounds.
Tunnels seen in real captures (GTP-U, VXLAN, GRE, IP-in-IP) are decapsulated so the inner flow
is the one analysed.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = [
    "ICMP",
    "ICMP6",
    "ICMP6_COUNTERPART",
    "ICMP_COUNTERPART",
    "TCP",
    "UDP",
    "Decoded",
    "Decoder",
    "Malformed",
]

TCP: Final = 6
UDP: Final = 17
ICMP: Final = 1
ICMP6: Final = 58

#: (proto, src, dst, sport, dport, tcp_flags, seq, frame_bytes, payload_start, payload_end,
#:  ip_len, tunnel). src/dst are 4 or 16 raw bytes. For ICMP, as in Zeek, sport is the type
#: and dport is the type of the matching reply or request for the message kinds that come in
#: pairs (echo, timestamp, router and neighbour discovery...), else the code: a request and
#: its reply then share one bidirectional flow.
Decoded = tuple[int, bytes, bytes, int, int, int, int, bytes, int, int, int, str]

_HH = struct.Struct("!HH")
_TCP = struct.Struct("!HHIIBB")
_H = struct.Struct("!H")
_I = struct.Struct("!I")
_NULL_LE = struct.Struct("<I")

ETHERTYPE_NAMES = {
    0x0806: "arp",
    0x88CC: "lldp",
    0x8035: "rarp",
    0x888E: "eapol",
    0x88E5: "macsec",
    0x8863: "pppoe_discovery",
    0x9000: "loopback",
    0x88F7: "ptp",
    0x8809: "slow_protocols",
    0x893A: "ieee1905",
    0x22F0: "avtp",
    0x8899: "realtek",
}
IP_PROTO_NAMES = {
    2: "igmp",
    50: "esp",
    51: "ah",
    89: "ospf",
    103: "pim",
    112: "vrrp",
    132: "sctp",
    0: "hopopt",
    59: "ipv6_no_next",
    88: "eigrp",
    115: "l2tp",
    33: "dccp",
}
_V6_EXT = frozenset({0, 43, 60, 135, 139, 140, 253, 254})
#: ICMP request/reply pairs (Zeek's ICMP4_counterpart / ICMP6_counterpart)
ICMP_COUNTERPART = {8: 0, 0: 8, 10: 9, 9: 10, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17}
ICMP6_COUNTERPART = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130}
ICMP6_COUNTERPART.update({139: 140, 140: 139})
_MAX_DEPTH = 4
GTP_U_PORT = 2152
VXLAN_PORT = 4789


class Malformed(Exception):
    """A packet that cannot be decoded; ``name`` becomes the weird row's name."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


class _Reassembly:
    __slots__ = ("first_ts", "header", "pieces", "proto", "size", "total")

    def __init__(self, ts: float, proto: int) -> None:
        self.first_ts = ts
        self.pieces: dict[int, bytes] = {}
        self.size = 0
        self.total = -1
        self.proto = proto
        self.header = b""


class Decoder:
    """Stateful only for IP fragment reassembly (bounded in count, bytes and time)."""

    def __init__(
        self,
        max_pending: int = 4096,
        timeout_s: float = 30.0,
        max_datagram: int = 65535,
        max_bytes: int = 1 << 24,
    ) -> None:
        self.max_pending = max_pending  #: datagrams being reassembled at once
        self.timeout_s = timeout_s
        self.max_datagram = max_datagram
        self.max_bytes = max_bytes  #: fragment bytes held at once, all datagrams together
        self._frags: dict[tuple[bytes, bytes, int, int], _Reassembly] = {}
        self._frag_bytes = 0
        self.fragments_evicted = 0
        self.tunnels: dict[str, int] = {}

    # ----------------------------------------------------------------- link layer
    def decode(self, linktype: int, data: bytes, ts: float) -> Decoded | str:
        n = len(data)
        if linktype == 1:
            if n < 14:
                raise Malformed("truncated_ethernet", f"{n} bytes, Ethernet needs 14")
            if data[12] == 8 and data[13] == 0:  # IPv4, the common case: no VLAN walk
                return self._ipv4(data, 14, ts, "", 0)
            return self._ether(data, 12, ts, "", 0)
        if linktype in (101, 12, 14, 228, 229):
            return self._ip_guess(data, 0, ts, "", 0)
        if linktype == 113:
            if n < 16:
                raise Malformed("truncated_sll", f"{n} bytes, Linux cooked header needs 16")
            return self._ethertype(data, _H.unpack_from(data, 14)[0], 16, ts, "", 0)
        if linktype == 276:
            if n < 20:
                raise Malformed("truncated_sll2", f"{n} bytes, Linux cooked v2 header needs 20")
            return self._ethertype(data, _H.unpack_from(data, 0)[0], 20, ts, "", 0)
        if linktype in (0, 108):
            if n < 4:
                raise Malformed("truncated_null", f"{n} bytes, loopback header needs 4")
            fam = (
                _I.unpack_from(data, 0)[0] if linktype == 108 else _NULL_LE.unpack_from(data, 0)[0]
            )
            if fam > 0xFFFF:
                fam = _I.unpack_from(data, 0)[0]
            if fam == 2:
                return self._ipv4(data, 4, ts, "", 0)
            if fam in (10, 24, 28, 30):
                return self._ipv6(data, 4, ts, "", 0)
            return f"null_family_{fam}"
        if linktype in (9, 50):
            off = 2 if data[:2] == b"\xff\x03" else 0
            return self._ppp(data, off, ts, "", 0)
        if linktype == 104:
            if n < 4:
                raise Malformed("truncated_chdlc", f"{n} bytes, Cisco HDLC header needs 4")
            return self._ethertype(data, _H.unpack_from(data, 2)[0], 4, ts, "", 0)
        return f"linktype_{linktype}"

    def _ether(self, data: bytes, off: int, ts: float, tun: str, depth: int) -> Decoded | str:
        """``off`` points at the ethertype field."""
        if len(data) < off + 2:
            raise Malformed("truncated_ethernet", "frame ends before the ethertype")
        et = (data[off] << 8) | data[off + 1]
        off += 2
        while et in (0x8100, 0x88A8, 0x9100):
            if len(data) < off + 4:
                raise Malformed("truncated_vlan", "frame ends inside an 802.1Q tag")
            et = (data[off + 2] << 8) | data[off + 3]
            off += 4
        return self._ethertype(data, et, off, ts, tun, depth)

    def _ethertype(
        self, data: bytes, et: int, off: int, ts: float, tun: str, depth: int
    ) -> Decoded | str:
        if et == 0x0800:
            return self._ipv4(data, off, ts, tun, depth)
        if et == 0x86DD:
            return self._ipv6(data, off, ts, tun, depth)
        if et in (0x8100, 0x88A8, 0x9100):
            return self._ether(data, off - 2, ts, tun, depth)
        if et == 0x8864:
            if len(data) < off + 6:
                raise Malformed("truncated_pppoe", "frame ends inside the PPPoE header")
            return self._ppp(data, off + 6, ts, tun, depth)
        if et in (0x8847, 0x8848):
            while True:
                if len(data) < off + 4:
                    raise Malformed("truncated_mpls", "frame ends inside an MPLS label stack")
                bottom = data[off + 2] & 1
                off += 4
                if bottom:
                    break
            return self._ip_guess(data, off, ts, tun, depth)
        if et < 0x0600:
            return "llc"
        return ETHERTYPE_NAMES.get(et, f"ethertype_0x{et:04x}")

    def _ppp(self, data: bytes, off: int, ts: float, tun: str, depth: int) -> Decoded | str:
        if len(data) < off + 1:
            raise Malformed("truncated_ppp", "frame ends inside the PPP header")
        proto = data[off]
        if proto & 1:  # protocol-field compression: one byte
            off += 1
        else:
            if len(data) < off + 2:
                raise Malformed("truncated_ppp", "frame ends inside the PPP header")
            proto = (data[off] << 8) | data[off + 1]
            off += 2
        if proto == 0x21:
            return self._ipv4(data, off, ts, tun, depth)
        if proto == 0x57:
            return self._ipv6(data, off, ts, tun, depth)
        return f"ppp_0x{proto:04x}"

    def _ip_guess(self, data: bytes, off: int, ts: float, tun: str, depth: int) -> Decoded | str:
        if len(data) <= off:
            raise Malformed("truncated_ip", "no IP header")
        v = data[off] >> 4
        if v == 4:
            return self._ipv4(data, off, ts, tun, depth)
        if v == 6:
            return self._ipv6(data, off, ts, tun, depth)
        raise Malformed("bad_ip_version", f"IP version {v}")

    # ----------------------------------------------------------------- network layer
    def _ipv4(self, data: bytes, off: int, ts: float, tun: str, depth: int) -> Decoded | str:
        n = len(data)
        if n < off + 20:
            raise Malformed("truncated_ipv4", f"{n - off} bytes, IPv4 header needs 20")
        vihl = data[off]
        if vihl >> 4 != 4:
            raise Malformed("bad_ip_version", f"IP version {vihl >> 4} where IPv4 expected")
        ihl = (vihl & 0x0F) * 4
        total = (data[off + 2] << 8) | data[off + 3]
        if ihl < 20 or n < off + ihl:
            raise Malformed("bad_ipv4_header_length", f"IHL {ihl} with {n - off} bytes")
        if total < ihl:
            if total == 0:  # TSO-offloaded capture: length left to the NIC
                total = n - off
            else:
                raise Malformed("bad_ipv4_total_length", f"total length {total} < header {ihl}")
        end = min(off + total, n)
        proto = data[off + 9]
        src = data[off + 12 : off + 16]
        dst = data[off + 16 : off + 20]
        frag = (data[off + 6] << 8) | data[off + 7]
        if frag & 0x3FFF:
            ident = (data[off + 4] << 8) | data[off + 5]
            got = self._fragment(
                (src, dst, ident, proto),
                ts,
                proto,
                (frag & 0x1FFF) * 8,
                bool(frag & 0x2000),
                data[off + ihl : end],
                b"",
            )
            if got is None:
                return "ip_fragment"
            return self._transport(
                proto, src, dst, got, 0, len(got), ihl + len(got), ts, tun, depth
            )
        return self._transport(
            proto, src, dst, data, off + ihl, end, total, ts, tun, depth, off + total > n
        )

    def _ipv6(self, data: bytes, off: int, ts: float, tun: str, depth: int) -> Decoded | str:
        n = len(data)
        if n < off + 40:
            raise Malformed("truncated_ipv6", f"{n - off} bytes, IPv6 header needs 40")
        if data[off] >> 4 != 6:
            raise Malformed("bad_ip_version", f"IP version {data[off] >> 4} where IPv6 expected")
        plen = (data[off + 4] << 8) | data[off + 5]
        nxt = data[off + 6]
        src = data[off + 8 : off + 24]
        dst = data[off + 24 : off + 40]
        end = min(off + 40 + plen, n) if plen else n
        nxt, pos = _v6_skip(data, nxt, off + 40, end)
        if nxt == 44:
            if end < pos + 8:
                raise Malformed("bad_ipv6_extension", "packet ends inside a fragment header")
            inner = data[pos]
            fo = (data[pos + 2] << 8) | data[pos + 3]
            ident = _I.unpack_from(data, pos + 4)[0]
            got = self._fragment(
                (src, dst, ident, 256),
                ts,
                inner,
                fo & 0xFFF8,
                bool(fo & 1),
                data[pos + 8 : end],
                b"",
            )
            if got is None:
                return "ip_fragment"
            # extension headers after the fragment header belong to the reassembled part
            inner, start = _v6_skip(got, inner, 0, len(got))
            return self._transport(
                inner, src, dst, got, start, len(got), 40 + len(got), ts, tun, depth
            )
        return self._transport(
            nxt, src, dst, data, pos, end, 40 + plen, ts, tun, depth, off + 40 + plen > n
        )

    def _fragment(
        self,
        key: tuple[bytes, bytes, int, int],
        ts: float,
        proto: int,
        offset: int,
        more: bool,
        piece: bytes,
        _hdr: bytes,
    ) -> bytes | None:
        frags = self._frags
        r = frags.get(key)
        if r is not None and ts - r.first_ts > self.timeout_s:
            self._drop(key)
            self.fragments_evicted += 1
            r = None
        if r is None:
            if len(frags) >= self.max_pending:
                self._expire(ts, force=True)
            r = frags[key] = _Reassembly(ts, proto)
        if offset + len(piece) > self.max_datagram or r.size + len(piece) > 2 * self.max_datagram:
            self._drop(key)
            raise Malformed("fragment_too_large", f"fragment reaches byte {offset + len(piece)}")
        if offset not in r.pieces:  # first copy wins
            r.pieces[offset] = piece
            r.size += len(piece)
            self._frag_bytes += len(piece)
            if self._frag_bytes > self.max_bytes:
                self._expire(ts, force=True, keep=key)
        if not more:
            r.total = offset + len(piece)
        if r.total < 0 or r.size < r.total:
            return None
        covered = 0
        for off in sorted(r.pieces):
            if off > covered:
                return None  # a hole remains (overlaps inflated size)
            covered = max(covered, off + len(r.pieces[off]))
        if covered < r.total:
            return None
        # overlapping bytes: the copy that arrived first wins (later ones are written first)
        total = r.total
        buf = bytearray(total)
        for off, p in reversed(r.pieces.items()):
            if off < total:
                buf[off : off + len(p)] = p[: total - off]
        self._drop(key)
        return bytes(buf)

    def _drop(self, key: tuple[bytes, bytes, int, int]) -> None:
        r = self._frags.pop(key, None)
        if r is not None:
            self._frag_bytes -= r.size

    def _expire(
        self, ts: float, force: bool = False, keep: tuple[bytes, bytes, int, int] | None = None
    ) -> None:
        """Drop timed-out reassemblies; with ``force``, also the oldest eighth if none timed out
        (or until the byte budget holds again). ``keep`` is never dropped."""
        frags = self._frags
        old = [k for k, r in frags.items() if ts - r.first_ts > self.timeout_s and k != keep]
        if force and not old:
            by_age = sorted((k for k in frags if k != keep), key=lambda k: frags[k].first_ts)
            old = by_age[: max(1, len(by_age) // 8)]
            extra = self._frag_bytes - self.max_bytes - sum(frags[k].size for k in old)
            for k in by_age[len(old) :]:
                if extra <= 0:
                    break
                old.append(k)
                extra -= frags[k].size
        for k in old:
            self._drop(k)
            self.fragments_evicted += 1

    # ----------------------------------------------------------------- transport layer
    def _transport(
        self,
        proto: int,
        src: bytes,
        dst: bytes,
        data: bytes,
        off: int,
        end: int,
        ip_len: int,
        ts: float,
        tun: str,
        depth: int,
        snapped: bool = False,
    ) -> Decoded | str:
        """``snapped``: the capture kept fewer bytes than the IP header announces (snaplen)."""
        avail = end - off
        if proto == TCP:
            if avail < 20:
                raise Malformed("truncated_tcp", f"{avail} bytes, TCP header needs 20")
            sport, dport, seq, _ack, doff, flags = _TCP.unpack_from(data, off)
            hl = (doff >> 4) * 4
            if snapped and hl >= 20 and hl > avail:  # options cut by the snaplen: no payload
                return (TCP, src, dst, sport, dport, flags, seq, data, end, end, ip_len, tun)
            if hl < 20 or hl > avail:
                raise Malformed("bad_tcp_header_length", f"data offset {hl} with {avail} bytes")
            return (TCP, src, dst, sport, dport, flags, seq, data, off + hl, end, ip_len, tun)
        if proto == UDP:
            if avail < 8:
                raise Malformed("truncated_udp", f"{avail} bytes, UDP header needs 8")
            sport, dport = _HH.unpack_from(data, off)
            ulen = (data[off + 4] << 8) | data[off + 5]
            if ulen >= 8 and off + ulen < end:
                end = off + ulen  # trim link-layer padding
            elif 0 < ulen < 8:
                raise Malformed("bad_udp_length", f"UDP length {ulen}")
            if depth < _MAX_DEPTH:
                if GTP_U_PORT in (sport, dport):
                    inner = self._gtp(data, off + 8, end, ts, tun, depth)
                    if inner is not None:
                        return inner
                elif dport == VXLAN_PORT and end - off >= 8 + 8 + 14 and data[off + 8] & 0x08:
                    self.tunnels["vxlan"] = self.tunnels.get("vxlan", 0) + 1
                    return self._ether(
                        data[:end], off + 8 + 8 + 12, ts, _tun(tun, "vxlan"), depth + 1
                    )
            return (UDP, src, dst, sport, dport, 0, 0, data, off + 8, end, ip_len, tun)
        if proto in (ICMP, ICMP6):
            if avail < 4:
                raise Malformed("truncated_icmp", f"{avail} bytes, ICMP header needs 4")
            itype = data[off]
            other = (ICMP_COUNTERPART if proto == ICMP else ICMP6_COUNTERPART).get(
                itype, data[off + 1]
            )
            return (
                proto,
                src,
                dst,
                itype,
                other,
                0,
                0,
                data,
                off + 4,
                end,
                ip_len,
                tun,
            )
        if depth < _MAX_DEPTH:
            if proto in (4, 41):
                self.tunnels["ip-in-ip"] = self.tunnels.get("ip-in-ip", 0) + 1
                inner_data = data[:end]
                if proto == 4:
                    return self._ipv4(inner_data, off, ts, _tun(tun, "ip-in-ip"), depth + 1)
                return self._ipv6(inner_data, off, ts, _tun(tun, "ip-in-ip"), depth + 1)
            if proto == 47:
                return self._gre(data, off, end, ts, tun, depth)
        return "ip_proto_" + IP_PROTO_NAMES.get(proto, str(proto))

    def _gtp(
        self, data: bytes, off: int, end: int, ts: float, tun: str, depth: int
    ) -> Decoded | str | None:
        """GTP-U G-PDU (3GPP TS 29.281); None when it is not a G-PDU carrying IP."""
        if end - off < 8:
            return None
        flags, mtype = data[off], data[off + 1]
        if flags >> 5 != 1 or not flags & 0x10 or mtype != 0xFF:
            return None
        pos = off + 8
        if flags & 0x07:
            pos += 4
            if flags & 0x04:  # extension header chain
                nxt = data[pos - 1] if pos - 1 < end else 0
                while nxt and pos < end:
                    ln = data[pos] * 4
                    if ln == 0:
                        return None
                    nxt = data[pos + ln - 1] if pos + ln - 1 < end else 0
                    pos += ln
        if pos >= end or data[pos] >> 4 not in (4, 6):
            return None
        self.tunnels["gtp-u"] = self.tunnels.get("gtp-u", 0) + 1
        return self._ip_guess(data[:end], pos, ts, _tun(tun, "gtp-u"), depth + 1)

    def _gre(
        self, data: bytes, off: int, end: int, ts: float, tun: str, depth: int
    ) -> Decoded | str:
        if end - off < 4:
            raise Malformed("truncated_gre", "packet ends inside the GRE header")
        flags = data[off]
        ptype = (data[off + 2] << 8) | data[off + 3]
        pos = off + 4 + (4 if flags & 0x80 else 0) + (4 if flags & 0x20 else 0)
        pos += 4 if flags & 0x10 else 0
        if data[off + 1] & 0x07 == 1:  # enhanced GRE (PPTP): key always present
            return "gre_pptp"
        self.tunnels["gre"] = self.tunnels.get("gre", 0) + 1
        inner = data[:end]
        if ptype == 0x0800:
            return self._ipv4(inner, pos, ts, _tun(tun, "gre"), depth + 1)
        if ptype == 0x86DD:
            return self._ipv6(inner, pos, ts, _tun(tun, "gre"), depth + 1)
        if ptype == 0x6558:
            return self._ether(inner, pos + 12, ts, _tun(tun, "gre"), depth + 1)
        if ptype == 0x88BE:  # ERSPAN type II: 8-byte header, then Ethernet
            return self._ether(inner, pos + 8 + 12, ts, _tun(tun, "gre-erspan"), depth + 1)
        return f"gre_0x{ptype:04x}"


def _v6_skip(data: bytes, nxt: int, pos: int, end: int) -> tuple[int, int]:
    """Skip IPv6 extension headers other than the fragment header: (next header, offset)."""
    for _ in range(16):
        if nxt not in _V6_EXT and nxt != 51:
            return nxt, pos
        if end < pos + 2:
            raise Malformed("bad_ipv6_extension", "packet ends inside an extension header")
        step = (data[pos + 1] + 2) * 4 if nxt == 51 else (data[pos + 1] + 1) * 8
        nxt = data[pos]
        pos += step
        if pos > end:
            raise Malformed("bad_ipv6_extension", "extension header runs past the packet")
    raise Malformed("bad_ipv6_extension", "more than 16 extension headers")


def _tun(outer: str, name: str) -> str:
    return f"{outer}>{name}" if outer else name
