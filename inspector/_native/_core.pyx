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

cdef Py_ssize_t CHUNK = 1 << 20
#: as :data:`inspector.source.pcap.MAX_RECORD`
MAX_RECORD = 1 << 18
cdef long long _MAX_RECORD = 1 << 18

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


cdef inline unsigned int _u32(const unsigned char* p, bint big) noexcept nogil:
    # unsigned before shifting: a byte >= 0x80 shifted into the sign bit of an int is undefined
    cdef unsigned int a = p[0], b = p[1], c = p[2], d = p[3]
    if big:
        return (a << 24) | (b << 16) | (c << 8) | d
    return (d << 24) | (c << 16) | (b << 8) | a


cdef class _Walker:
    """A record walk: :meth:`advance` moves to the next record, held in the fields below."""

    cdef object cap
    cdef object errors
    cdef bint done
    # the current record, after advance() returned 1: buf[start:end], its link type and time
    cdef readonly bytes buf
    cdef double ts
    cdef int lt
    cdef Py_ssize_t start
    cdef Py_ssize_t end
    cdef unsigned int orig

    def __iter__(self):
        return self

    def __next__(self):
        if not self.advance():
            raise StopIteration
        return (self.ts, self.lt, self.buf, self.start, self.end, self.orig)

    cdef int advance(self) except -1:
        return 0

    cdef void _finish(self) except *:
        self.done = True
        self.buf = b""
        self.cap.close()


cdef class PcapWalker(_Walker):
    """The records of a classic pcap after its global header (see ``pcap._walk``).

    Iterating gives ``(ts, linktype, buf, start, end, wirelen)`` spans of a read buffer of about
    one chunk; :func:`feed_spans` reads the same records through :meth:`advance` instead.
    """

    cdef object read
    cdef Py_ssize_t pos
    cdef bint big
    cdef double tick

    def __init__(self, stream, bint big, double tick, int linktype, cap):
        from inspector.source.open import STREAM_ERRORS

        # read1: at most one underlying read, so a cut gzip stream still gives what it holds
        self.read = getattr(stream, "read1", stream.read)
        self.cap = cap
        self.errors = STREAM_ERRORS
        self.buf = b""
        self.pos = 0
        self.big = big
        self.tick = tick
        self.lt = linktype
        self.done = False

    cdef int advance(self) except -1:
        """1 with the next record in ts/start/end/orig, or 0 at the end (the capture closed)."""
        cdef const unsigned char* p
        cdef Py_ssize_t pos, blen, end
        cdef unsigned int incl
        while not self.done:
            blen = PyBytes_GET_SIZE(self.buf)
            pos = self.pos
            if pos <= blen - 16:
                p = <const unsigned char*>PyBytes_AS_STRING(self.buf) + pos
                incl = _u32(p + 8, self.big)
                if incl > _MAX_RECORD:
                    self._corrupt(incl)
                    self._finish()
                    return 0
                end = pos + 16 + incl
                if end <= blen:
                    self.ts = <double>_u32(p, self.big) + <double>_u32(p + 4, self.big) * self.tick
                    self.orig = _u32(p + 12, self.big)
                    self.start = pos + 16
                    self.end = end
                    self.pos = end
                    return 1
            if not self._refill():
                self._finish()
                return 0
        return 0

    cdef bint _refill(self) except -1:
        """Read on, keeping the partial record at the end of the buffer; False at the end."""
        cdef Py_ssize_t pos = self.pos
        cdef Py_ssize_t blen = PyBytes_GET_SIZE(self.buf)
        cdef Py_ssize_t need
        cdef bytes buf
        if blen - pos < 16:
            need = 16
        else:
            need = 16 + <Py_ssize_t>_u32(
                <const unsigned char*>PyBytes_AS_STRING(self.buf) + pos + 8, self.big
            )
        if need > _MAX_RECORD + 16:
            self._corrupt(need - 16)
            return False
        try:
            more = self.read(max(CHUNK, need))
            if not more:
                if blen > pos:
                    cap = self.cap
                    cap.truncated = True
                    where = "record header" if blen - pos < 16 else "packet record"
                    cap.warnings.append(
                        f"{cap.path}: file ends inside a {where}; "
                        "results cover everything before the cut"
                    )
                return False
            buf = self.buf[pos:] + bytes(more)
            self.pos = 0
            while PyBytes_GET_SIZE(buf) < need:  # a short read (pipe, gzip member boundary)
                more = self.read(need - PyBytes_GET_SIZE(buf))
                if not more:
                    break
                buf += bytes(more)
            self.buf = buf
        except self.errors as exc:  # a cut gzip member, a disk error: what came before stands
            self.cap.read_failed(exc)
            return False
        return True

    @property
    def linktype(self):
        return self.lt

    cdef void _corrupt(self, long long incl) except *:
        cap = self.cap
        cap.truncated = True
        cap.warnings.append(
            f"{cap.path}: record claims {incl} bytes (corrupt file?); stopped reading there"
        )


#: as :data:`inspector.source.pcapng.MAX_BLOCK`
MAX_BLOCK = 1 << 24
cdef unsigned int _MAX_BLOCK = 1 << 24
cdef unsigned int _SHB = 0x0A0D0D0A
cdef unsigned int _IDB = 1
cdef unsigned int _PB = 2
cdef unsigned int _SPB = 3
cdef unsigned int _EPB = 6


cdef class PcapngWalker(_Walker):
    """The packets of a pcapng whose 4 magic bytes were already read (see ``pcapng._blocks``).

    Reads the stream block by block with the same ``read`` calls as the reference (so a cut
    gzip stream stops at the same packet); blocks without packets go to the reference's own
    helpers (``pcapng.other_block``, ``parse_idb``).
    """

    cdef object read
    cdef object read1
    cdef object magic
    cdef object ng
    cdef list ifaces
    cdef bint big
    cdef bint first
    cdef double last_ts
    # uncompressed input: blocks are cut from chunks of about 1 MiB (fewer calls, same bytes)
    cdef bint chunked
    cdef bytes rbuf
    cdef Py_ssize_t rpos

    def __init__(self, stream, bytes magic, cap):
        from inspector.source import pcapng
        from inspector.source.open import STREAM_ERRORS

        self.read = stream.read
        # a gzip stream is read exactly as the reference reads it, so a cut stream fails at the
        # same block; a plain file gives the same bytes whatever the read sizes
        self.read1 = getattr(stream, "read1", None)
        self.chunked = not cap.compressed and self.read1 is not None
        self.rbuf = b""
        self.rpos = 0
        self.magic = magic
        self.cap = cap
        self.ng = pcapng
        self.errors = STREAM_ERRORS
        self.ifaces = []
        self.big = False
        self.first = True
        self.last_ts = 0.0
        self.buf = b""
        self.done = False

    cdef int advance(self) except -1:
        """1 with the next packet in ts/lt/buf/start/end/orig, or 0 at the end (capture closed)."""
        cdef int got
        if self.done:
            return 0
        try:
            got = self._next_packet()
        except self.errors as exc:  # a cut gzip member, a disk error: what came before stands
            self.cap.read_failed(exc)
            got = 0
        except BaseException:
            self._finish()
            raise
        if not got:
            self._finish()
        return got

    cdef bytes _take(self, Py_ssize_t n):
        """The next ``n`` bytes of the stream (fewer at its end), as ``stream.read(n)``."""
        cdef Py_ssize_t have
        cdef bytes out
        if not self.chunked:
            return bytes(self.read(n))
        have = PyBytes_GET_SIZE(self.rbuf) - self.rpos
        if have < n:
            parts = [self.rbuf[self.rpos :]]
            while have < n:
                more = self.read1(max(CHUNK, n - have))
                if not more:
                    break
                parts.append(bytes(more))
                have += len(more)
            self.rbuf = b"".join(parts)
            self.rpos = 0
        if have > n:
            have = n
        out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(self.rbuf) + self.rpos, have)
        self.rpos += have
        return out

    cdef inline unsigned int _word(self, bytes b, Py_ssize_t off):
        # callers check len(b) >= off + 4
        return _u32(<const unsigned char*>PyBytes_AS_STRING(b) + off, self.big)

    cdef int _next_packet(self) except -1:
        cdef bytes head, body
        cdef unsigned int block_type, total, incl, orig, if_id
        cdef Py_ssize_t n
        cdef const unsigned char* p
        cdef unsigned long long units
        cap = self.cap
        ng = self.ng
        while True:
            if self.first:
                head = self.magic + self._take(4)
                self.first = False
                block_type = _SHB
            else:
                head = self._take(8)
                if not head:
                    return 0
                if len(head) < 8:
                    ng.cut(cap, "block header")
                    return 0
                block_type = self._word(head, 0)
            if block_type == _SHB:
                bom = self._take(4)
                if len(bom) < 4:
                    ng.cut(cap, "section header")
                    return 0
                if bom == b"\x4d\x3c\x2b\x1a":
                    self.big = False
                elif bom == b"\x1a\x2b\x3c\x4d":
                    self.big = True
                else:
                    if not cap.linktypes and not self.ifaces:
                        from inspector.errors import InputError

                        raise InputError(
                            f"{cap.path}: pcapng section header has a bad byte-order magic"
                        )
                    ng.stop(cap, "a section header with a bad byte-order magic")
                    return 0
                if len(head) < 8:
                    # as the reference: unpacking the length of a cut header fails
                    import struct

                    raise struct.error("unpack_from requires a buffer of at least 8 bytes")
                total = self._word(head, 4)
                if total < 28 or total % 4 or total > _MAX_BLOCK:
                    ng.stop(cap, f"a section header of impossible length {total}")
                    return 0
                rest = self._take(total - 12)
                if len(rest) < total - 12:
                    ng.cut(cap, "section header")
                    return 0
                self.ifaces = []
                continue
            total = self._word(head, 4)
            if total < 12 or total % 4 or total > _MAX_BLOCK:
                ng.stop(cap, f"a block of impossible length {total}")
                return 0
            body = self._take(total - 8)
            n = PyBytes_GET_SIZE(body)
            if n < total - 8:
                ng.cut(cap, "block")
                return 0
            p = <const unsigned char*>PyBytes_AS_STRING(body)
            if (p[n - 4] != <unsigned char>head[4] or p[n - 3] != <unsigned char>head[5]
                    or p[n - 2] != <unsigned char>head[6] or p[n - 1] != <unsigned char>head[7]):
                ng.stop(cap, "a block whose trailing length differs from its leading length")
                return 0
            n -= 4  # the body without its trailing length; bytes beyond n are never read
            if block_type == _EPB or block_type == _PB:
                if n < 20:
                    if block_type == _PB:
                        continue
                    ng.stop(cap, "an enhanced packet block too short for its header")
                    return 0
                if block_type == _EPB:
                    if_id = self._word(body, 0)
                else:
                    if_id = (p[0] << 8 | p[1]) if self.big else (p[1] << 8 | p[0])
                units = (<unsigned long long>self._word(body, 4) << 32) | self._word(body, 8)
                incl = self._word(body, 12)
                orig = self._word(body, 16)
                if if_id >= len(self.ifaces) or incl > n - 20:
                    self._bad_packet()
                    continue
                iface = self.ifaces[if_id]
                self.last_ts = <double>units * <double>iface.tick + <double>iface.offset
                self._packet(body, iface.linktype, 20, 20 + incl, orig)
                return 1
            if block_type == _SPB:
                if not self.ifaces or n < 4:
                    self._bad_packet()
                    continue
                orig = self._word(body, 0)
                iface = self.ifaces[0]
                snaplen = iface.snaplen
                incl = min(orig, n - 4, snaplen or orig)
                # a simple packet block has no timestamp: it inherits the previous packet's
                self._packet(body, iface.linktype, 4, 4 + incl, orig)
                return 1
            if block_type == _IDB:
                try:
                    iface = ng.parse_idb(body[:n], ">" if self.big else "<")
                except (ValueError, ng.struct.error):
                    ng.stop(cap, "an unreadable interface description block")
                    return 0
                self.ifaces.append(iface)
                cap.linktypes.add(iface.linktype)
                continue
            ng.other_block(cap, block_type, body[:n], ">" if self.big else "<")

    cdef void _packet(
        self, bytes body, int lt, Py_ssize_t start, Py_ssize_t end, unsigned int orig
    ):
        self.buf = body
        self.ts = self.last_ts
        self.lt = lt
        self.start = start
        self.end = end
        self.orig = orig

    cdef void _bad_packet(self) except *:
        skipped = self.cap.skipped_blocks
        skipped["bad_packet_block"] = skipped.get("bad_packet_block", 0) + 1


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
                                flow.o.keep = flow.r.keep = False
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
