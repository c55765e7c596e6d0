"""The hot loop: source spans -> decode -> flows, with a fast path for the common packet.

Most packets of a capture belong to a flow that already exists and are plain IPv4/IPv6 TCP,
UDP or ICMP behind Ethernet (optionally VLAN-tagged), Linux cooked capture or raw IP, with no
IP options, extension headers, fragments or tunnel. For those, :func:`feed_spans` reads the few
header fields it needs straight from the reader's buffer, finds the flow direction with one
dictionary lookup (:attr:`FlowTable.sides`, keyed by the raw ``src + dst + ports`` bytes) and
updates its counters.

Every other packet (a flow's first packet, SYN/FIN/RST, fragments, tunnels, anything odd,
and the first packet after a sweep is due) goes to ``ingest.feed(ts, linktype, data)``: the full
:class:`~inspector.decode.Decoder` and :meth:`FlowTable.add`. The fast path only handles packets
for which the full path would do exactly the same thing, so results are identical
(tests/flows/test_fastloop.py checks this on every capture of the corpus).

:func:`feed_spans` runs the compiled twin of :func:`feed_spans_py` from
:mod:`inspector._native` (same contract, line for line) unless the pure-Python path is selected
(``INSPECTOR_PURE_PYTHON=1``) or the extension was not built.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Protocol

from inspector import _native
from inspector.decode import ICMP6_COUNTERPART, ICMP_COUNTERPART
from inspector.flows.table import FlowTable
from inspector.source.open import Span

__all__ = ["Feeder", "feed_spans", "feed_spans_py"]

#: IPv4 without options, from the version byte: vihl, total length, flags+fragment offset,
#: protocol, then src + dst + sport + dport as one 12-byte key.
_V4 = struct.Struct("!BxH2xHxB2x12s")
#: Ethernet type, then the IPv4 fields above, then (if TCP) sequence number, data offset, flags.
_E4 = struct.Struct("!HBxH2xHxB2x12sI4xBB")
#: IPv6 from the version byte: version/class, payload length, next header, then
#: src + dst + sport + dport as one 36-byte key.
_V6 = struct.Struct("!B3xHBx36s")
#: TCP from byte 4: sequence number, data offset, flags.
_TCPF = struct.Struct("!I4xBB")
_PORTS = struct.Struct("!HH").pack
_RAW_IP = (101, 12, 14, 228, 229)


class Feeder(Protocol):
    """What :func:`feed_spans` needs from the pipeline's per-file state (``pipeline.Ingest``).

    ``feed`` handles one frame fully: it adds 1 to ``frame``, adds 1 to ``decoded`` if the frame
    decoded, and passes the flows that ended to the pipeline. :func:`feed_spans` does the same
    for fast-path frames; no flow ends on the fast path.
    """

    table: FlowTable
    frame: int
    decoded: int

    def feed(self, ts: float, linktype: int, data: bytes) -> None: ...


def feed_spans(
    ingest: Feeder,
    spans: Iterable[Span],
    tick: Callable[[], None] | None = None,
    tick_every: int = 1 << 14,
) -> None:
    """Account every span to ``ingest``, as ``ingest.feed(ts, linktype, buf[start:end])`` would.

    ``tick`` (e.g. a progress-bar update) is called every ``tick_every`` frames. Runs the
    compiled twin (:mod:`inspector._native`) unless the pure-Python path is selected.
    """
    core = _native.core
    impl = feed_spans_py if core is None else core.feed_spans
    impl(ingest, spans, tick, tick_every)


def feed_spans_py(
    ingest: Feeder,
    spans: Iterable[Span],
    tick: Callable[[], None] | None = None,
    tick_every: int = 1 << 14,
) -> None:
    """The pure-Python reference of :func:`feed_spans` (the compiled twin mirrors it)."""
    table = ingest.table
    feed = ingest.feed
    tcp_sides = table.sides[6]
    udp_sides = table.sides[17]
    icmp_sides = table.sides[1]
    icmp6_sides = table.sides[58]
    tcp_foreign = table.foreign[6]  # other shards' flows (empty unless sharded)
    udp_foreign = table.foreign[17]
    ports = _PORTS
    tcp_data = table.tcp_data
    every = table.limits.sweep_every_s
    max_datagrams = table.limits.udp_datagrams
    last_sweep = table._last_sweep
    u4 = _V4.unpack_from
    e4 = _E4.unpack_from
    u6 = _V6.unpack_from
    utcp = _TCPF.unpack_from
    frame = ingest.frame
    next_tick = frame + tick_every if tick is not None else -1
    first = frame
    slow = 0  # packets handed to ingest.feed; every other one was decoded by the fast path
    for ts, lt, buf, s, e, _wirelen in spans:
        frame += 1
        if frame == next_tick:
            next_tick += tick_every
            tick()  # type: ignore[misc]
        proto = 0
        if ts - last_sweep < every:
            if lt == 1 and e - s >= 48:
                # ---- the most common packet: Ethernet + IPv4, TCP fields read on the way
                et, vihl, total, frag, proto, key, seq, doff, flags = e4(buf, s + 12)
                tcp_read = True
            else:
                et = -1
            if et == 0x0800:
                o = s + 14
                end = o + total
                l4 = o + 20
                if vihl != 0x45 or frag & 0x3FFF or end > e:
                    proto = 0
            else:
                proto = 0
                tcp_read = False
                # ---- other link layers: find the IP header at ``o``
                if lt == 1:
                    o = s + 14
                    if o > e:
                        et = 0
                    else:
                        et = (buf[s + 12] << 8) | buf[s + 13]
                        while (et == 0x8100 or et == 0x88A8 or et == 0x9100) and o + 4 <= e:
                            et = (buf[o + 2] << 8) | buf[o + 3]
                            o += 4
                elif lt == 113:
                    o = s + 16
                    et = (buf[s + 14] << 8) | buf[s + 15] if o <= e else 0
                elif lt in _RAW_IP:
                    o = s
                    v = buf[s] >> 4 if e > s else 0
                    et = 0x0800 if v == 4 else (0x86DD if v == 6 else 0)
                else:
                    et = 0
                # ---- network layer
                if et == 0x0800:
                    if e - o >= 24:
                        vihl, total, frag, proto, key = u4(buf, o)
                        end = o + total
                        l4 = o + 20
                        if vihl != 0x45 or frag & 0x3FFF or end > e:
                            proto = 0
                elif et == 0x86DD and e - o >= 44:
                    vtc, plen, proto, key = u6(buf, o)
                    total = 40 + plen  # the IP length counted in the flow's bytes
                    end = o + total
                    l4 = o + 40
                    if vtc >> 4 != 6 or not plen or end > e:
                        proto = 0
            # ---- transport layer and flow update
            if proto == 6:
                if end - l4 >= 20:
                    if not tcp_read:
                        seq, doff, flags = utcp(buf, l4 + 4)
                    p0 = l4 + ((doff >> 4) << 2)
                    if p0 >= l4 + 20 and p0 <= end and not flags & 7:
                        side = tcp_sides.get(key)
                        if side is not None:
                            side.pkts += 1
                            side.bytes += total
                            side.payload += end - p0
                            side.last_ts = ts
                            side.last_frame = frame
                            if end > p0:
                                if side.busy:
                                    tcp_data(side, seq, buf, p0, end, frame, ts)
                            elif side.need_ack and flags & 0x10:
                                side.flow.mark("A", side.from_orig)
                                side.need_ack = False
                            continue
                        if key in tcp_foreign:
                            continue
            elif proto == 17 and end - l4 >= 8:
                side = udp_sides.get(key)
                if side is not None and side.fast:
                    ulen = (buf[l4 + 4] << 8) | buf[l4 + 5]
                    if ulen >= 8 or not ulen:
                        if ulen and l4 + ulen < end:
                            end = l4 + ulen
                        side.pkts += 1
                        side.bytes += total
                        side.payload += end - l4 - 8
                        side.last_ts = ts
                        side.last_frame = frame
                        if side.keep:
                            kept = side.flow.datagrams
                            kept.append((frame, ts, side.from_orig, buf[l4 + 8 : end]))
                            if len(kept) >= max_datagrams:
                                table.datagrams_full(side.flow)
                        continue
                if side is None and key in udp_foreign:
                    continue
            elif (proto == 1 or proto == 58) and end - l4 >= 4:
                # ICMP "ports": type and counterpart type (or code), as the decoder gives them
                itype = buf[l4]
                if proto == 1:
                    other = ICMP_COUNTERPART.get(itype, buf[l4 + 1])
                    side = icmp_sides.get(key[:-4] + ports(itype, other))
                else:
                    other = ICMP6_COUNTERPART.get(itype, buf[l4 + 1])
                    side = icmp6_sides.get(key[:-4] + ports(itype, other))
                if side is not None:
                    side.pkts += 1
                    side.bytes += total
                    side.payload += end - l4 - 4
                    side.last_ts = ts
                    side.last_frame = frame
                    continue
        # ---- everything else: the full decoder and FlowTable.add
        ingest.frame = frame - 1
        feed(ts, lt, buf[s:e])
        slow += 1
        frame = ingest.frame
        last_sweep = table._last_sweep
    ingest.frame = frame
    ingest.decoded += frame - first - slow
