# Included by _core.pyx (one extension module): the pcap and pcapng record walks.
#
# Twins of inspector.source.pcap._walk and inspector.source.pcapng._blocks. Every read of the
# buffers below is preceded by a length check; tests/native/test_walkers.py fuzzes both twins
# against each other.

cdef Py_ssize_t CHUNK = 1 << 20
#: as :data:`inspector.source.pcap.MAX_RECORD`
MAX_RECORD = 1 << 18
cdef long long _MAX_RECORD = 1 << 18


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
