"""The bidirectional flow table: 5-tuple -> :class:`Flow`, with idle/active timeouts and eviction.

Lifecycle as in NFStream: a flow is created by its first packet (``on_init``), updated by every
packet (``on_update``) and, when it ends (idle or active timeout, TCP close followed by a new SYN,
eviction under memory pressure, or end of input), appended to :attr:`FlowTable.ended`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.decode import TCP, UDP, Decoded
from inspector.flows.key import addr_text, make_uid
from inspector.flows.reassembly import StreamBuffer
from inspector.flows.view import Datagram, FlowView

__all__ = ["Flow", "FlowLimits", "FlowTable"]

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
_LETTERS = "SHADFRTG^"


@dataclass(frozen=True, slots=True)
class FlowLimits:
    tcp_idle_s: float = 300.0
    udp_idle_s: float = 120.0
    other_idle_s: float = 60.0
    active_s: float = 3600.0
    max_flows: int = 200_000
    tcp_bytes: int = 1 << 17  #: reassembled bytes kept per TCP direction
    udp_datagrams: int = 600  #: datagrams kept per UDP flow
    sweep_every_s: float = 10.0


class Flow:
    """Mutable per-flow state. Addresses stay raw bytes until the flow ends."""

    __slots__ = (
        "closed",
        "datagrams",
        "end_reason",
        "first_frame",
        "first_ts",
        "hist",
        "history",
        "key",
        "last_frame",
        "last_ts",
        "orig",
        "orig_bytes",
        "orig_p",
        "orig_payload",
        "orig_pkts",
        "orig_stream",
        "proto",
        "resp",
        "resp_bytes",
        "resp_p",
        "resp_payload",
        "resp_pkts",
        "resp_stream",
        "tunnel",
        "uid",
    )

    def __init__(
        self,
        key: tuple[int, bytes, int, bytes, int],
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
        self.first_ts = self.last_ts = ts
        self.first_frame = self.last_frame = frame
        self.orig_pkts = self.resp_pkts = 0
        self.orig_bytes = self.resp_bytes = 0
        self.orig_payload = self.resp_payload = 0
        self.hist = 0
        self.history = ""
        self.closed = 0  # bit 1: orig FIN/RST, bit 2: resp FIN/RST
        self.tunnel = tunnel
        self.end_reason = ""
        self.uid = make_uid(ts, proto, orig, orig_p, resp, resp_p)
        self.datagrams: list[Datagram] = []
        if proto == TCP:
            self.orig_stream: StreamBuffer | None = StreamBuffer(limits.tcp_bytes)
            self.resp_stream: StreamBuffer | None = StreamBuffer(limits.tcp_bytes)
        else:
            self.orig_stream = self.resp_stream = None

    def mark(self, letter: str, from_orig: bool) -> None:
        """Add a history letter once per direction (upper case: originator)."""
        bit = 1 << (_LETTERS.index(letter) * 2 + (0 if from_orig else 1))
        if not self.hist & bit:
            self.hist |= bit
            self.history += letter if from_orig else letter.lower()

    def view(self) -> FlowView:
        from inspector.flows.key import PROTO_NAMES

        if self.orig_stream is not None and self.resp_stream is not None:
            return FlowView(
                self.uid,
                "tcp",
                addr_text(self.orig),
                self.orig_p,
                addr_text(self.resp),
                self.resp_p,
                self.first_ts,
                orig=self.orig_stream.view(),
                resp=self.resp_stream.view(),
            )
        return FlowView(
            self.uid,
            PROTO_NAMES.get(self.proto, str(self.proto)),
            addr_text(self.orig),
            self.orig_p,
            addr_text(self.resp),
            self.resp_p,
            self.first_ts,
            datagrams=tuple(self.datagrams),
        )

    def release(self) -> None:
        """Drop retained payloads once dissected (counters stay)."""
        self.datagrams = []
        self.orig_stream = self.resp_stream = None


class FlowTable:
    """All active flows of one capture."""

    def __init__(self, limits: FlowLimits | None = None) -> None:
        self.limits = limits or FlowLimits()
        self.flows: dict[tuple[int, bytes, int, bytes, int], Flow] = {}
        self.ended: list[Flow] = []
        self.evicted = 0
        self.overlap_conflicts = 0
        self._last_sweep = float("-inf")

    def add(self, d: Decoded, ts: float, frame: int) -> Flow:
        """Account one decoded packet to its flow (creating the flow if needed)."""
        proto, src, dst, sport, dport, flags, seq, data, p0, p1, ip_len, tun = d
        if src < dst or (src == dst and sport <= dport):
            key = (proto, src, sport, dst, dport)
        else:
            key = (proto, dst, dport, src, sport)
        flows = self.flows
        flow = flows.get(key)
        limits = self.limits
        if ts - self._last_sweep >= limits.sweep_every_s:
            self.sweep(ts)
            flow = flows.get(key)
        if flow is not None and proto == TCP and flow.closed and flags & (SYN | ACK) == SYN:
            self._end(flow, "tcp_reuse")  # a new connection on a closed 5-tuple
            flow = None
        if flow is None:
            if len(flows) >= limits.max_flows:
                self._evict()
            if proto == TCP and flags & (SYN | ACK) == (SYN | ACK):
                flow = Flow(key, proto, dst, dport, src, sport, ts, frame, tun, limits)
                flow.mark("^", True)
            else:
                flow = Flow(key, proto, src, sport, dst, dport, ts, frame, tun, limits)
            flows[key] = flow
        from_orig = src == flow.orig and sport == flow.orig_p
        plen = p1 - p0
        if from_orig:
            flow.orig_pkts += 1
            flow.orig_bytes += ip_len
            flow.orig_payload += plen
        else:
            flow.resp_pkts += 1
            flow.resp_bytes += ip_len
            flow.resp_payload += plen
        flow.last_ts = ts
        flow.last_frame = frame
        if proto == TCP:
            self._tcp(flow, from_orig, flags, seq, data, p0, p1, frame, ts)
        elif proto == UDP:
            if len(flow.datagrams) < limits.udp_datagrams:
                flow.datagrams.append(Datagram(frame, ts, from_orig, data[p0:p1]))
        return flow

    def _tcp(
        self,
        flow: Flow,
        from_orig: bool,
        flags: int,
        seq: int,
        data: bytes,
        p0: int,
        p1: int,
        frame: int,
        ts: float,
    ) -> None:
        stream = flow.orig_stream if from_orig else flow.resp_stream
        if flags & SYN:
            flow.mark("H" if flags & ACK else "S", from_orig)
            if stream is not None:
                stream.syn(seq)
            seq = (seq + 1) & 0xFFFFFFFF
        if flags & RST:
            flow.mark("R", from_orig)
            flow.closed |= 1 if from_orig else 2
        if flags & FIN:
            flow.mark("F", from_orig)
            flow.closed |= 1 if from_orig else 2
        if p1 > p0:
            flow.mark("D", from_orig)
            if stream is not None:
                before = stream.conflicts
                if stream.add(seq, data[p0:p1], frame, ts):
                    flow.mark("T", from_orig)
                if stream.conflicts != before:
                    self.overlap_conflicts += 1
        elif flags & (SYN | FIN | RST) == 0 and flags & ACK:
            flow.mark("A", from_orig)

    def sweep(self, now: float) -> None:
        """End flows idle past their timeout or active past the active timeout."""
        self._last_sweep = now
        lim = self.limits
        done = []
        for flow in self.flows.values():
            idle = (
                lim.tcp_idle_s
                if flow.proto == TCP
                else (lim.udp_idle_s if flow.proto == UDP else lim.other_idle_s)
            )
            if now - flow.last_ts > idle:
                done.append((flow, "idle_timeout"))
            elif now - flow.first_ts > lim.active_s:
                done.append((flow, "active_timeout"))
        for flow, why in done:
            self._end(flow, why)

    def _evict(self) -> None:
        victims = sorted(self.flows.values(), key=lambda f: f.last_ts)
        for flow in victims[: max(1, len(victims) // 10)]:
            self.evicted += 1
            self._end(flow, "evicted")

    def _end(self, flow: Flow, reason: str) -> None:
        flow.end_reason = reason
        del self.flows[flow.key]
        if flow.orig_stream is not None and flow.orig_stream.pending:
            flow.mark("G", True)
        if flow.resp_stream is not None and flow.resp_stream.pending:
            flow.mark("G", False)
        self.ended.append(flow)

    def close_all(self) -> None:
        """End every remaining flow (end of input)."""
        for flow in sorted(self.flows.values(), key=lambda f: f.first_frame):
            self._end(flow, "end_of_input")
