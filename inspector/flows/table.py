"""The bidirectional flow table: 5-tuple -> :class:`Flow`, with idle/active timeouts and eviction.

Lifecycle as in NFStream: a flow is created by its first packet (``on_init``), updated by every
packet (``on_update``) and, when it ends (idle or active timeout, TCP close followed by a new SYN,
eviction under memory pressure, or end of input), appended to :attr:`FlowTable.ended`.

Each flow has two :class:`Side` objects, one per direction, each reachable from a per-protocol
map keyed by the direction's raw address/port bytes (``src + dst + sport + dport``, the same
bytes an IPv4/IPv6 header holds contiguously when no options or extension headers intervene).
One dictionary lookup thus finds both the flow and the direction of a packet; this is what lets
:mod:`inspector.flows.fastloop` account most packets without building a decoded tuple.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from inspector import _native
from inspector.decode import ICMP, ICMP6, TCP, UDP, Decoded
from inspector.flows.key import PROTO_NAMES, addr_text, make_uid
from inspector.flows.reassembly import StreamBuffer
from inspector.flows.view import Datagram, FlowView

__all__ = ["Flow", "FlowLimits", "FlowTable", "Side", "shard_of"]

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_LETTERS = "SHADFRTG^"
_RST_BITS = 3 << (2 * _LETTERS.index("R"))
#: history letter -> (bit when sent by the originator, bit when sent by the responder)
_BITS = {c: (1 << (2 * i), 1 << (2 * i + 1)) for i, c in enumerate(_LETTERS)}
_D_ORIG, _D_RESP = _BITS["D"]
_PORTS = struct.Struct("!HH").pack
GTP_U_PORT = 2152
VXLAN_PORT = 4789


@dataclass(frozen=True, slots=True)
class FlowLimits:
    tcp_idle_s: float = 300.0
    #: a TCP flow closed by FIN both ways or by a RST ends once idle this long (Zeek: 5 s)
    tcp_closed_s: float = 5.0
    udp_idle_s: float = 120.0
    other_idle_s: float = 60.0
    active_s: float = 3600.0
    max_flows: int = 200_000
    tcp_bytes: int = 1 << 17  #: reassembled bytes kept per TCP direction
    udp_datagrams: int = 600  #: datagrams kept per UDP flow
    sweep_every_s: float = 10.0
    #: a flow that reaches the budgets above and whose TLS/QUIC secrets are in the key log keeps
    #: up to these (so every decryptable stream is read) ...
    keyed_tcp_bytes: int = 64 << 20  #: reassembled bytes per TCP direction of a keyed flow
    keyed_udp_datagrams: int = 200_000  #: datagrams per keyed UDP flow
    #: ... while all keyed flows open at once hold at most this many bytes beyond the budgets
    keyed_total_bytes: int = 512 << 20


class Side:
    """One direction of a flow: its counters and (TCP) its byte stream.

    ``fast`` is False for directions whose packets the decoder may turn into something else
    (UDP to or from a tunnel port), so the fast loop hands them to the full decoder.
    ``busy`` (TCP) is True while a data segment still needs the full treatment: history letter
    ``D`` not yet written or the stream still below its byte cap. ``need_ack`` (TCP) is True until
    history letter ``A`` is written for this direction. ``keep`` (UDP) is True while the flow
    still retains datagrams.
    """

    __slots__ = (
        "busy",
        "bytes",
        "fast",
        "flow",
        "from_orig",
        "keep",
        "key",
        "last_frame",
        "last_ts",
        "need_ack",
        "payload",
        "pkts",
        "stream",
    )

    def __init__(
        self, flow: Flow, from_orig: bool, key: bytes, stream: StreamBuffer | None
    ) -> None:
        self.flow = flow
        self.from_orig = from_orig
        self.key = key
        self.pkts = 0
        self.bytes = 0
        self.payload = 0
        self.last_ts = flow.first_ts
        self.last_frame = flow.first_frame
        self.stream = stream
        self.busy = stream is not None
        self.need_ack = stream is not None
        self.keep = flow.proto == UDP
        self.fast = True


class Flow:
    """Mutable per-flow state. Addresses stay raw bytes until the flow ends."""

    __slots__ = (
        "closed",
        "datagrams",
        "end_reason",
        "first_frame",
        "first_ts",
        "held",
        "hist",
        "history",
        "key",
        "keyed",
        "o",
        "orig",
        "orig_p",
        "proto",
        "r",
        "resp",
        "resp_p",
        "tunnel",
        "uid",
    )

    def __init__(
        self,
        key: tuple[int, bytes],
        proto: int,
        orig: bytes,
        orig_p: int,
        resp: bytes,
        resp_p: int,
        ts: float,
        frame: int,
        tunnel: str,
        limits: FlowLimits,
    ) -> None:
        self.key = key
        self.proto = proto
        self.orig, self.orig_p, self.resp, self.resp_p = orig, orig_p, resp, resp_p
        self.first_ts = ts
        self.first_frame = frame
        self.hist = 0
        self.history = ""
        self.closed = 0  # bit 1: orig FIN/RST, bit 2: resp FIN/RST
        self.tunnel = tunnel
        self.end_reason = ""
        self.keyed: bool | None = None  #: secrets logged for it (decided at the budget)
        self.held = 0  #: bytes kept beyond the budgets because the flow is keyed
        self.uid = make_uid(ts, proto, orig, orig_p, resp, resp_p)
        #: retained UDP payloads as ``(frame, ts, from_orig, payload)``; Datagram objects are
        #: built by :meth:`view` (cheaper when nobody asks)
        self.datagrams: list[tuple[int, float, bool, bytes]] = []
        okey = orig + resp + _PORTS(orig_p, resp_p)
        rkey = resp + orig + _PORTS(resp_p, orig_p)
        tcp = proto == TCP
        # the compiled twin of Side when the compiled core is in use (same fields)
        side = Side if _native.core is None else _native.core.Side
        self.o = side(self, True, okey, StreamBuffer(limits.tcp_bytes) if tcp else None)
        self.r = side(self, False, rkey, StreamBuffer(limits.tcp_bytes) if tcp else None)
        if proto == UDP:
            if GTP_U_PORT in (orig_p, resp_p):
                self.o.fast = self.r.fast = False
            if resp_p == VXLAN_PORT:
                self.o.fast = False
            if orig_p == VXLAN_PORT:
                self.r.fast = False

    # counters, per direction (kept on the sides so one lookup finds them)
    @property
    def orig_pkts(self) -> int:
        return self.o.pkts

    @property
    def resp_pkts(self) -> int:
        return self.r.pkts

    @property
    def orig_bytes(self) -> int:
        return self.o.bytes

    @property
    def resp_bytes(self) -> int:
        return self.r.bytes

    @property
    def orig_payload(self) -> int:
        return self.o.payload

    @property
    def resp_payload(self) -> int:
        return self.r.payload

    @property
    def last_ts(self) -> float:
        o, r = self.o.last_ts, self.r.last_ts
        return o if o > r else r

    @property
    def last_frame(self) -> int:
        o, r = self.o.last_frame, self.r.last_frame
        return o if o > r else r

    @property
    def orig_stream(self) -> StreamBuffer | None:
        return self.o.stream

    @property
    def resp_stream(self) -> StreamBuffer | None:
        return self.r.stream

    def mark(self, letter: str, from_orig: bool) -> None:
        """Add a history letter once per direction (upper case: originator)."""
        bit = _BITS[letter][0 if from_orig else 1]
        if not self.hist & bit:
            self.hist |= bit
            self.history += letter if from_orig else letter.lower()

    def view(self) -> FlowView:
        ostream, rstream = self.o.stream, self.r.stream
        if ostream is not None and rstream is not None:
            return FlowView(
                self.uid,
                "tcp",
                addr_text(self.orig),
                self.orig_p,
                addr_text(self.resp),
                self.resp_p,
                self.first_ts,
                orig=ostream.view(),
                resp=rstream.view(),
                packets=self.o.pkts + self.r.pkts,
            )
        return FlowView(
            self.uid,
            PROTO_NAMES.get(self.proto, str(self.proto)),
            addr_text(self.orig),
            self.orig_p,
            addr_text(self.resp),
            self.resp_p,
            self.first_ts,
            datagrams=tuple([Datagram(*d) for d in self.datagrams]),
            packets=self.o.pkts + self.r.pkts,
        )

    def release(self) -> None:
        """Drop retained payloads once dissected (counters stay)."""
        self.datagrams = []
        for side in (self.o, self.r):
            side.stream = None
            side.busy = side.keep = False


def shard_of(proto: int, src: bytes, dst: bytes, sport: int, dport: int, n: int) -> int:
    """The shard (0..n-1) of a flow: CRC-32 of its direction-free key, the same in every process."""
    a, b = src + _PORTS(sport, 0), dst + _PORTS(dport, 0)
    return zlib.crc32(bytes([proto]) + (a + b if a <= b else b + a)) % n


class FlowTable:
    """All active flows of one capture.

    With ``shard=(k, n)`` the table keeps only the flows of shard ``k`` (:func:`shard_of`); a
    packet of another shard's flow still runs the sweep (so flows end at the same packet as in
    one process) and its direction keys go to :attr:`foreign`, which the fast loop skips.
    """

    def __init__(
        self,
        limits: FlowLimits | None = None,
        shard: tuple[int, int] | None = None,
        keyed: Callable[[Callable[[], FlowView]], bool] | None = None,
    ) -> None:
        self.limits = limits or FlowLimits()
        #: whether the key log holds a flow's secrets (asked once, when it reaches a budget)
        self.keyed = keyed
        self.keyed_held = 0  #: bytes all open keyed flows keep beyond the budgets
        self.shard = shard
        #: protocol -> direction keys of other shards' flows (a bounded cache)
        self.foreign: dict[int, set[bytes]] = {TCP: set(), UDP: set()}
        #: one entry per active flow, in creation order
        self.flows: dict[tuple[int, bytes], Flow] = {}
        #: protocol -> direction key -> side; both directions of every active flow
        self.sides: dict[int, dict[bytes, Side]] = {TCP: {}, UDP: {}, ICMP: {}, ICMP6: {}}
        self.ended: list[Flow] = []
        self.evicted = 0
        self.overlap_conflicts = 0
        self._last_sweep = float("-inf")

    def add(self, d: Decoded, ts: float, frame: int) -> Flow | None:
        """Account one decoded packet to its flow (creating the flow if needed).

        None for a packet of another shard's flow.
        """
        proto, src, dst, sport, dport, flags, seq, data, p0, p1, ip_len, tun = d
        limits = self.limits
        if ts - self._last_sweep >= limits.sweep_every_s:
            self.sweep(ts)
        sides = self.sides.get(proto)
        if sides is None:
            sides = self.sides[proto] = {}
        key = src + dst + _PORTS(sport, dport)
        side = sides.get(key)
        if side is not None and proto == TCP and side.flow.closed and flags & (SYN | ACK) == SYN:
            self._end(side.flow, "tcp_reuse")  # a new connection on a closed 5-tuple
            side = None
        if side is None:
            if self.shard is not None and self._foreign(proto, src, dst, sport, dport, tun):
                return None
            if len(self.flows) >= limits.max_flows:
                self._evict()
            if proto == TCP and flags & (SYN | ACK) == (SYN | ACK):
                flow = Flow(
                    (proto, dst + src + _PORTS(dport, sport)),
                    proto,
                    dst,
                    dport,
                    src,
                    sport,
                    ts,
                    frame,
                    tun,
                    limits,
                )
                flow.mark("^", True)
            else:
                flow = Flow((proto, key), proto, src, sport, dst, dport, ts, frame, tun, limits)
            self.flows[flow.key] = flow
            if self.keyed is not None and proto == TCP:
                flow.o.stream.grow = flow.r.stream.grow = partial(self._grow, flow)  # type: ignore[union-attr]
            sides[flow.o.key] = flow.o
            if flow.r.key != flow.o.key:
                sides[flow.r.key] = flow.r
            side = sides[key]
        flow = side.flow
        side.pkts += 1
        side.bytes += ip_len
        side.payload += p1 - p0
        side.last_ts = ts
        side.last_frame = frame
        if proto == TCP:
            if flags & (SYN | FIN | RST):
                self.tcp_flags(side, flags, seq)
                if flags & SYN:
                    seq = (seq + 1) & 0xFFFFFFFF
            if p1 > p0:
                if side.busy:
                    self.tcp_data(side, seq, data, p0, p1, frame, ts)
            elif side.need_ack and not flags & (SYN | FIN | RST) and flags & ACK:
                flow.mark("A", side.from_orig)
                side.need_ack = False
        elif side.keep:
            self.keep_datagram(side, data, p0, p1, frame, ts)
        return flow

    def _foreign(self, proto: int, src: bytes, dst: bytes, sp: int, dp: int, tun: str) -> bool:
        k, n = self.shard  # type: ignore[misc]
        if shard_of(proto, src, dst, sp, dp, n) == k:
            return False
        keys = self.foreign.get(proto)
        if keys is not None and not tun and not {sp, dp} & {GTP_U_PORT, VXLAN_PORT}:
            if len(keys) > 1 << 20:
                keys.clear()
            keys.add(src + dst + _PORTS(sp, dp))
            keys.add(dst + src + _PORTS(dp, sp))
        return True

    def tcp_flags(self, side: Side, flags: int, seq: int) -> None:
        """History and stream bookkeeping for a segment with SYN, FIN or RST."""
        flow, from_orig = side.flow, side.from_orig
        if flags & SYN:
            flow.mark("H" if flags & ACK else "S", from_orig)
            if side.stream is not None:
                side.stream.syn(seq)
        if flags & RST:
            flow.mark("R", from_orig)
            flow.closed |= 1 if from_orig else 2
        if flags & FIN:
            flow.mark("F", from_orig)
            flow.closed |= 1 if from_orig else 2

    def tcp_data(
        self, side: Side, seq: int, data: bytes, p0: int, p1: int, frame: int, ts: float
    ) -> None:
        """A segment with payload while ``side.busy``: history ``D``/``T`` and reassembly."""
        flow = side.flow
        if not flow.hist & (_D_ORIG if side.from_orig else _D_RESP):
            flow.mark("D", side.from_orig)
        stream = side.stream
        if stream is None or stream.capped:
            side.busy = False
            return
        before = stream.conflicts
        if stream.add(seq, data[p0:p1], frame, ts):
            flow.mark("T", side.from_orig)
        if stream.conflicts != before:
            self.overlap_conflicts += 1
        if stream.capped:
            side.busy = False

    def keep_datagram(
        self, side: Side, data: bytes, p0: int, p1: int, frame: int, ts: float
    ) -> None:
        """Retain a UDP payload while the flow is below its datagram budget."""
        flow = side.flow
        kept = flow.datagrams
        kept.append((frame, ts, side.from_orig, data[p0:p1]))
        if len(kept) >= self.limits.udp_datagrams:
            self.datagrams_full(flow)

    def _is_keyed(self, flow: Flow) -> bool:
        if flow.keyed is None:
            flow.keyed = self.keyed is not None and self.keyed(flow.view)
        return flow.keyed

    def datagrams_full(self, flow: Flow) -> None:
        """A UDP flow holds its datagram budget (called for every datagram from then on while
        it keeps them): a keyed flow keeps more, up to ``keyed_udp_datagrams`` and while all
        keyed flows hold less than ``keyed_total_bytes``; any other flow stops keeping."""
        lim = self.limits
        kept = flow.datagrams
        if len(kept) > lim.udp_datagrams:  # kept beyond the budget: a keyed flow's
            n = len(kept[-1][3])
            flow.held += n
            self.keyed_held += n
        if (
            self._is_keyed(flow)
            and len(kept) < lim.keyed_udp_datagrams
            and self.keyed_held < lim.keyed_total_bytes
        ):
            return
        flow.o.keep = flow.r.keep = False

    def _grow(self, flow: Flow, stream: StreamBuffer, end: int) -> None:
        """A TCP direction would pass its byte cap at stream offset ``end``: a keyed flow's cap
        doubles (at least to ``end``) up to ``keyed_tcp_bytes`` within ``keyed_total_bytes``."""
        lim = self.limits
        if not self._is_keyed(flow):
            stream.grow = None
            return
        room = lim.keyed_total_bytes - self.keyed_held
        cap = min(max(end, 2 * stream.cap), lim.keyed_tcp_bytes, stream.cap + room)
        if cap <= stream.cap:
            stream.grow = None
            return
        flow.held += cap - stream.cap
        self.keyed_held += cap - stream.cap
        stream.cap = cap

    def sweep(self, now: float) -> None:
        """End flows idle past their timeout or active past the active timeout."""
        self._last_sweep = now
        lim = self.limits
        other, active, closed_s = lim.other_idle_s, lim.active_s, lim.tcp_closed_s
        core = _native.core
        if core is not None:  # the compiled twin of the loop below
            due = core.sweep_due(
                self.flows, now, lim.tcp_idle_s, lim.udp_idle_s, other, active, closed_s, _RST_BITS
            )
            for flow, why in due:
                self._end(flow, why)
            return
        idle_s = {TCP: lim.tcp_idle_s, UDP: lim.udp_idle_s}
        done = []
        for flow in self.flows.values():
            o, r = flow.o.last_ts, flow.r.last_ts
            idle = now - (o if o > r else r)
            if idle > idle_s.get(flow.proto, other):
                done.append((flow, "idle_timeout"))
            elif now - flow.first_ts > active:
                done.append((flow, "active_timeout"))
            elif (
                idle > closed_s
                and flow.proto == TCP
                and (flow.closed == 3 or flow.hist & _RST_BITS)
            ):
                done.append((flow, "tcp_closed"))
        for flow, why in done:
            self._end(flow, why)

    def _evict(self) -> None:
        victims = sorted(self.flows.values(), key=lambda f: f.last_ts)
        for flow in victims[: max(1, len(victims) // 10)]:
            self.evicted += 1
            self._end(flow, "evicted")

    def _end(self, flow: Flow, reason: str) -> None:
        flow.end_reason = reason
        self.keyed_held -= flow.held  # released once dissected, right after it ends
        del self.flows[flow.key]
        sides = self.sides[flow.proto]
        sides.pop(flow.o.key, None)
        sides.pop(flow.r.key, None)
        if flow.o.stream is not None and flow.o.stream.pending:
            flow.mark("G", True)
        if flow.r.stream is not None and flow.r.stream.pending:
            flow.mark("G", False)
        flow.o.busy = flow.r.busy = flow.o.keep = flow.r.keep = False
        # break the flow <-> side reference cycle, so an ended flow is freed by reference
        # counting as soon as the pipeline drops it (no work left for the cyclic collector)
        flow.o.flow = flow.r.flow = None  # type: ignore[assignment]
        self.ended.append(flow)

    def close_all(self) -> None:
        """End every remaining flow (end of input), in order of their first packet."""
        for flow in sorted(self.flows.values(), key=lambda f: f.first_frame):
            self._end(flow, "end_of_input")
