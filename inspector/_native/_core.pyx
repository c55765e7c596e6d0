# cython: language_level=3, boundscheck=True, wraparound=True, initializedcheck=True
"""The compiled hot path: pcap record walk, the fast loop and the flow direction record.

Twin of the pure-Python reference (same names, same behaviour, same results):

* :class:`Side` is :class:`inspector.flows.table.Side` with C fields, so the fast loop updates
  counters without Python attribute lookups (Python code reads and writes it the same way);
* :class:`PcapWalker` is :func:`inspector.source.pcap._walk`: it yields the same span tuples,
  and :func:`feed_spans` walks it without building one tuple per packet;
* :func:`feed_spans` is :func:`inspector.flows.fastloop.feed_spans_py`, line for line: packets
  of known flows are accounted here, every other packet goes to ``ingest.feed`` (the full
  decoder and ``FlowTable.add``), so both paths give identical tables.

Captures are hostile input: every read below is preceded by a length check against the record's
end (or goes through Python slicing with its own checks), and the module is compiled with
Cython's bounds checks on.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject
from libc.string cimport memcpy

from inspector.decode import ICMP6_COUNTERPART, ICMP_COUNTERPART

__all__ = ["MAX_BLOCK", "MAX_RECORD", "PcapWalker", "PcapngWalker", "Side", "feed_spans"]


cdef int _icmp_other[256]
cdef int _icmp6_other[256]


cdef void _fill(int* table, dict pairs):
    cdef int i
    for i in range(256):
        table[i] = -1
    for k, v in pairs.items():
        table[<int>k] = <int>v


_fill(_icmp_other, ICMP_COUNTERPART)
_fill(_icmp6_other, ICMP6_COUNTERPART)


cdef class Side:
    """One direction of a flow (see :class:`inspector.flows.table.Side`)."""

    cdef public object flow
    cdef public object key
    cdef public object stream
    cdef public bint from_orig
    cdef public bint busy
    cdef public bint need_ack
    cdef public bint keep
    cdef public bint fast
    cdef public long long pkts
    cdef public long long payload
    cdef public long long last_frame
    cdef public double last_ts
    cdef long long nbytes

    def __init__(self, flow, bint from_orig, key, stream):
        self.flow = flow
        self.from_orig = from_orig
        self.key = key
        self.pkts = 0
        self.nbytes = 0
        self.payload = 0
        self.last_ts = flow.first_ts
        self.last_frame = flow.first_frame
        self.stream = stream
        self.busy = stream is not None
        self.need_ack = stream is not None
        self.keep = flow.proto == 17
        self.fast = True

    @property
    def bytes(self):
        return self.nbytes

    @bytes.setter
    def bytes(self, long long value):
        self.nbytes = value


include "_walkers.pxi"


cdef struct _Hdr:
    Py_ssize_t key  # offset of src + dst + ports (the flow-side key)
    Py_ssize_t klen  # 12 (IPv4) or 36 (IPv6)
    Py_ssize_t l4  # offset of the transport header
    Py_ssize_t end  # end of the IP packet
    long long total  # the IP length counted in the flow's bytes


cdef int _network(const unsigned char* b, int lt, Py_ssize_t s, Py_ssize_t e, _Hdr* h) noexcept:
    """The transport protocol of a plain IPv4/IPv6 packet in ``b[s:e]``, 0 for anything else.

    Plain: Ethernet (optionally VLAN-tagged), Linux cooked capture or raw IP; IPv4 without
    options or fragmentation, IPv6 without extension headers; the IP length within the record.
    Every byte read lies in ``b[s:e]``.
    """
    cdef Py_ssize_t o
    cdef int et = 0
    cdef int v
    if lt == 1:
        o = s + 14
        if o > e:
            return 0
        et = (b[s + 12] << 8) | b[s + 13]
        while (et == 0x8100 or et == 0x88A8 or et == 0x9100) and o + 4 <= e:
            et = (b[o + 2] << 8) | b[o + 3]
            o += 4
    elif lt == 113:
        o = s + 16
        if o > e:
            return 0
        et = (b[s + 14] << 8) | b[s + 15]
    elif lt == 101 or lt == 12 or lt == 14 or lt == 228 or lt == 229:
        o = s
        if e <= s:
            return 0
        v = b[s] >> 4
        et = 0x0800 if v == 4 else (0x86DD if v == 6 else 0)
    else:
        return 0
    if et == 0x0800:
        if e - o < 24:
            return 0
        # version 4, header length 20, not a fragment, the packet within the record
        if b[o] != 0x45 or ((b[o + 6] << 8) | b[o + 7]) & 0x3FFF:
            return 0
        h.total = (b[o + 2] << 8) | b[o + 3]
        h.end = o + h.total
        if h.end > e:
            return 0
        h.key = o + 12
        h.klen = 12
        h.l4 = o + 20
        return b[o + 9]
    if et == 0x86DD:
        if e - o < 44 or b[o] >> 4 != 6:
            return 0
        h.total = (b[o + 4] << 8) | b[o + 5]
        if not h.total:
            return 0
        h.total += 40
        h.end = o + h.total
        if h.end > e:
            return 0
        h.key = o + 8
        h.klen = 36
        h.l4 = o + 40
        return b[o + 6]
    return 0


cdef inline Side _side(dict sides, const unsigned char* k, Py_ssize_t n):
    """The side stored under the raw key ``k[:n]``, or None (also for a foreign side type)."""
    key = PyBytes_FromStringAndSize(<const char*>k, n)
    cdef PyObject* got = PyDict_GetItem(sides, key)
    if got is NULL or type(<object>got) is not Side:
        return None
    return <Side>got


cdef inline bint _in(set keys, const unsigned char* k, Py_ssize_t n):
    """Whether the raw key ``k[:n]`` is in ``keys`` (other shards' flows; empty unless sharded)."""
    if not keys:
        return False
    return PyBytes_FromStringAndSize(<const char*>k, n) in keys


def feed_spans(ingest, spans, tick=None, long long tick_every=1 << 14):
    """Account every span to ``ingest``, as ``ingest.feed(ts, linktype, buf[start:end])`` would.

    Same contract as :func:`inspector.flows.fastloop.feed_spans_py`.
    """
    table = ingest.table
    feed = ingest.feed
    cdef dict tcp_sides = table.sides[6]
    cdef dict udp_sides = table.sides[17]
    cdef dict icmp_sides = table.sides[1]
    cdef dict icmp6_sides = table.sides[58]
    cdef set tcp_foreign = table.foreign[6]  # other shards' flows (empty unless sharded)
    cdef set udp_foreign = table.foreign[17]
    tcp_data = table.tcp_data
    cdef double every = table.limits.sweep_every_s
    cdef Py_ssize_t max_datagrams = table.limits.udp_datagrams
    cdef double last_sweep = table._last_sweep
    cdef long long frame = ingest.frame
    cdef long long first = frame
    cdef long long next_tick = frame + tick_every if tick is not None else -1
    cdef long long slow = 0
    cdef _Walker walker = spans if isinstance(spans, _Walker) else None
    it = iter(spans) if walker is None else None
    cdef double ts
    cdef int lt
    cdef object bufobj
    cdef Py_ssize_t s, e, end, p0, ulen
    cdef const unsigned char* b
    cdef int proto, doff, flags, itype, other
    cdef unsigned int seq
    cdef unsigned char kbuf[36]
    cdef _Hdr h
    cdef Side side
    cdef list kept
    while True:
        if walker is not None:
            if not walker.advance():
                break
            ts = walker.ts
            lt = walker.lt
            bufobj = walker.buf
            s = walker.start
            e = walker.end
        else:
            try:
                item = next(it)
            except StopIteration:
                break
            ts, lt, bufobj, s, e, _wirelen = item
        frame += 1
        if frame == next_tick:
            next_tick += tick_every
            tick()
        proto = 0
        if ts - last_sweep < every:
            if type(bufobj) is not bytes:
                bufobj = bytes(bufobj)
            if 0 <= s <= e <= PyBytes_GET_SIZE(bufobj):
                proto = _network(<const unsigned char*>PyBytes_AS_STRING(bufobj), lt, s, e, &h)
            b = <const unsigned char*>PyBytes_AS_STRING(bufobj)
            # ---- transport layer and flow update
            if proto == 6:
                if h.end - h.l4 >= 20:
                    seq = _u32(b + h.l4 + 4, True)
                    doff = b[h.l4 + 12]
                    flags = b[h.l4 + 13]
                    p0 = h.l4 + ((doff >> 4) << 2)
                    if p0 >= h.l4 + 20 and p0 <= h.end and not flags & 7:
                        side = _side(tcp_sides, b + h.key, h.klen)
                        if side is not None:
                            side.pkts += 1
                            side.nbytes += h.total
                            side.payload += h.end - p0
                            side.last_ts = ts
                            side.last_frame = frame
                            if h.end > p0:
                                if side.busy:
                                    tcp_data(side, seq, bufobj, p0, h.end, frame, ts)
                            elif side.need_ack and flags & 0x10:
                                side.flow.mark("A", side.from_orig)
                                side.need_ack = False
                            continue
                        if _in(tcp_foreign, b + h.key, h.klen):
                            continue
            elif proto == 17 and h.end - h.l4 >= 8:
                side = _side(udp_sides, b + h.key, h.klen)
                if side is not None and side.fast:
                    ulen = (b[h.l4 + 4] << 8) | b[h.l4 + 5]
                    if ulen >= 8 or not ulen:
                        end = h.end
                        if ulen and h.l4 + ulen < end:
                            end = h.l4 + ulen
                        side.pkts += 1
                        side.nbytes += h.total
                        side.payload += end - h.l4 - 8
                        side.last_ts = ts
                        side.last_frame = frame
                        if side.keep:
                            flow = side.flow
                            kept = flow.datagrams
                            payload = PyBytes_FromStringAndSize(
                                <const char*>b + h.l4 + 8, end - h.l4 - 8
                            )
                            kept.append((frame, ts, side.from_orig, payload))
                            if len(kept) >= max_datagrams:
                                table.datagrams_full(flow)
                        continue
                if side is None and _in(udp_foreign, b + h.key, h.klen):
                    continue
            elif (proto == 1 or proto == 58) and h.end - h.l4 >= 4:
                # ICMP "ports": type and counterpart type (or code), as the decoder gives them
                itype = b[h.l4]
                other = _icmp_other[itype] if proto == 1 else _icmp6_other[itype]
                if other < 0:
                    other = b[h.l4 + 1]
                memcpy(kbuf, b + h.key, h.klen - 4)
                kbuf[h.klen - 4] = 0
                kbuf[h.klen - 3] = itype
                kbuf[h.klen - 2] = (other >> 8) & 0xFF
                kbuf[h.klen - 1] = other & 0xFF
                side = _side(icmp_sides if proto == 1 else icmp6_sides, kbuf, h.klen)
                if side is not None:
                    side.pkts += 1
                    side.nbytes += h.total
                    side.payload += h.end - h.l4 - 4
                    side.last_ts = ts
                    side.last_frame = frame
                    continue
        # ---- everything else: the full decoder and FlowTable.add
        ingest.frame = frame - 1
        feed(ts, lt, bufobj[s:e])
        slow += 1
        frame = ingest.frame
        last_sweep = table._last_sweep
    ingest.frame = frame
    ingest.decoded += frame - first - slow


cdef inline double _last_ts(side):
    if type(side) is Side:
        return (<Side>side).last_ts
    return side.last_ts


def sweep_due(
    dict flows,
    double now,
    double tcp_idle_s,
    double udp_idle_s,
    double other_idle_s,
    double active_s,
    double closed_s,
    long long rst_bits,
):
    """The flows a sweep at ``now`` ends, as ``(flow, reason)`` in table order.

    Same rules as :meth:`inspector.flows.table.FlowTable.sweep`, which ends them.
    """
    cdef list done = []
    cdef double o, r, idle, limit
    cdef int proto
    for flow in flows.values():
        o = _last_ts(flow.o)
        r = _last_ts(flow.r)
        idle = now - (o if o > r else r)
        proto = flow.proto
        limit = tcp_idle_s if proto == 6 else (udp_idle_s if proto == 17 else other_idle_s)
        if idle > limit:
            done.append((flow, "idle_timeout"))
        elif now - <double>flow.first_ts > active_s:
            done.append((flow, "active_timeout"))
        elif idle > closed_s and proto == 6 and (flow.closed == 3 or flow.hist & rst_bits):
            done.append((flow, "tcp_closed"))
    return done
