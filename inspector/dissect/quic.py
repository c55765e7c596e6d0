"""QUIC dissector: server name, ALPN, JA4, post-quantum and ECH from client Initial packets.

A client's Initial packets are protected with keys anyone can derive from the Destination
Connection ID of its first Initial, so a passive observer reads its ClientHello. Per UDP flow
(encryption-heuristics.md section 6.1):

1. each datagram is split into its coalesced long-header packets (:mod:`quic_packet`);
2. every client Initial is decrypted with the keys of the client's *first* DCID, even after
   the client switched to the server's chosen DCID; after a Retry, with the keys of the DCID
   the client then uses (:mod:`quic_crypto` for the key schedule);
3. CRYPTO frames are reassembled by offset across frames and packets, in any order, first
   copy winning (Chrome scrambles its ClientHello; post-quantum ones span two Initials);
4. the server's Initials, under the "server in" keys of the same DCID, give the ServerHello.

An Initial that decrypts only under the keys of its *own* new DCID starts a new connection
(a new row). Google QUIC is read through :mod:`gquic`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from inspector.dissect.base import FlowView, weird
from inspector.dissect.fingerprint import ja4
from inspector.dissect.gquic import (
    chlo_length,
    gquic_minor,
    is_public_header,
    parse_chlo,
    parse_gquic_frames,
    parse_public_header,
)
from inspector.dissect.quic_crypto import (
    PacketKeys,
    QuicVersion,
    initial_keys,
    is_gquic_version,
    is_grease_version,
    is_known_version,
    version_name,
)
from inspector.dissect.quic_packet import (
    CryptoBuffer,
    CryptoFrame,
    InitialPacket,
    LongHeader,
    PacketType,
    handshake_message,
    parse_frames,
    split_datagram,
    unprotect,
)
from inspector.dissect.tls_ext import (
    ClientHello,
    HandshakeType,
    parse_client_hello,
    parse_client_hello_prefix,
    parse_server_hello,
)
from inspector.dissect.tls_names import cipher_name, group_name
from inspector.errors import ParseError
from inspector.flows.view import Datagram
from inspector.schema.base import Row
from inspector.schema.quic import QuicRow
from inspector.schema.weird import WeirdRow

__all__ = [
    "Anomaly",
    "CryptoResult",
    "FlowAnalysis",
    "Fragment",
    "analyze_datagrams",
    "client_crypto_stream",
    "dissect",
    "looks_like_quic",
]

_MAX_WEIRD = 8  # weird rows per flow; further anomalies are only counted
_MAX_DECRYPTS = 400  # decryption attempts per flow (bounds the work on hostile flows)


@dataclass(frozen=True, slots=True)
class Fragment:
    """One CRYPTO frame of the client: where it sits in the stream and which packet bore it."""

    offset: int
    length: int
    frame: int  #: capture frame of the datagram
    packet: int  #: 0-based index of the client Initial within the connection
    new_bytes: int  #: bytes it added to the stream (0 for a pure retransmission)


@dataclass(frozen=True, slots=True)
class CryptoResult:
    """One connection attempt's Initial-level view: the reassembled CRYPTO streams and counts."""

    version: int
    gquic: bool
    client_is_orig: bool
    frame: int
    ts: float
    dcid: bytes
    scid: bytes
    client_stream: bytes  #: contiguous client CRYPTO bytes from ``stream_base``
    stream_base: int  #: 0, or for QUIC-crypto gQUIC the offset of the first CHLO seen
    client_fragments: tuple[Fragment, ...]
    server_stream: bytes  #: contiguous server Initial CRYPTO bytes from offset 0
    initial_packets: int
    decrypted_packets: int
    decrypt_failures: int
    retry: bool
    capped: bool
    conflicts: int


@dataclass(frozen=True, slots=True)
class Anomaly:
    frame: int
    ts: float
    name: str
    detail: str


@dataclass(frozen=True, slots=True)
class FlowAnalysis:
    connections: tuple[CryptoResult, ...]
    anomalies: tuple[Anomaly, ...]
    #: Initials of a reserved/unknown version, each with ``opened`` (the v1 salt removed its
    #: protection), that no connection row reports under its own version
    unknown: tuple[tuple[Datagram, LongHeader, bool], ...] = ()


def _fuller(old: bytes, new: bytes) -> bool:
    """Whether the stream sent before a Retry is better evidence than the one sent after."""
    if handshake_message(new) is not None:
        return False
    return handshake_message(old) is not None or len(old) > len(new)


@dataclass(slots=True)
class _Conn:
    """Mutable per-connection state while a flow's datagrams are walked."""

    version: int
    client_is_orig: bool
    frame: int
    ts: float
    dcid: bytes
    scid: bytes
    key_dcid: bytes = b""  #: the DCID the Initial keys come from
    client_buf: CryptoBuffer = field(default_factory=CryptoBuffer)
    server_buf: CryptoBuffer = field(default_factory=CryptoBuffer)
    fragments: list[Fragment] = field(default_factory=list)
    before_retry: tuple[CryptoBuffer, list[Fragment]] | None = None
    base: int | None = None
    initials: int = 0
    decrypted: int = 0
    failures: int = 0
    retry: bool = False
    retry_scids: set[bytes] = field(default_factory=set)
    largest: dict[bool, int] = field(default_factory=lambda: {True: -1, False: -1})

    @classmethod
    def start(cls, version: int, dg: Datagram, dcid: bytes, scid: bytes) -> _Conn:
        return cls(version, dg.from_orig, dg.frame, dg.ts, dcid, scid, dcid)

    @property
    def gquic(self) -> bool:
        return is_gquic_version(self.version)

    def switch_keys(self, dcid: bytes) -> None:
        """After a Retry: new keys, and a fresh client stream (some clients send a new hello)."""
        self.key_dcid = dcid
        if self.before_retry is None:
            self.before_retry = (self.client_buf, self.fragments)
        self.client_buf = CryptoBuffer()
        self.fragments = []

    def result(self) -> CryptoResult:
        buf, frags = self.client_buf, self.fragments
        if self.before_retry is not None and _fuller(self.before_retry[0].prefix, buf.prefix):
            buf, frags = self.before_retry  # the hello sent after the Retry was not captured
        return CryptoResult(
            self.version,
            self.gquic,
            self.client_is_orig,
            self.frame,
            self.ts,
            self.dcid,
            self.scid,
            buf.contiguous_from(self.base or 0),
            self.base or 0,
            tuple(frags),
            self.server_buf.prefix,
            self.initials,
            self.decrypted,
            self.failures,
            self.retry,
            buf.capped or self.server_buf.capped,
            buf.conflicts + self.server_buf.conflicts,
        )


class _Walker:
    """Walks one flow's datagrams in capture order, building :class:`_Conn` records."""

    def __init__(self) -> None:
        self.conns: list[_Conn] = []
        self.anomalies: list[Anomaly] = []
        self.keys: dict[tuple[int, bytes, bool], PacketKeys | None] = {}
        self.attempts = 0
        self.pending_failures = 0
        self.pending_retry = False
        self.orphan: tuple[Datagram, LongHeader] | None = None
        self.unknown: list[tuple[Datagram, LongHeader, bool]] = []
        self.known_seen = False

    def note(self, dg: Datagram, name: str, detail: str) -> None:
        self.anomalies.append(Anomaly(dg.frame, dg.ts, name, detail[:500]))

    def _keys(self, version: int, dcid: bytes, server: bool) -> PacketKeys | None:
        key = (version, dcid, server)
        if key not in self.keys:
            # a reserved (GREASE) or unknown version: try the v1 salt, as tshark does
            salted = version if is_known_version(version) else QuicVersion.V1
            try:
                self.keys[key] = initial_keys(salted, dcid, server)
            except ParseError:
                self.keys[key] = None
        return self.keys[key]

    def _open(
        self, dg: Datagram, hdr: LongHeader, dcid: bytes, server: bool, largest: int
    ) -> InitialPacket | None:
        keys = self._keys(hdr.version, dcid, server)
        if keys is None or self.attempts >= _MAX_DECRYPTS:
            return None
        self.attempts += 1
        try:
            return unprotect(dg.payload, hdr, keys, largest)
        except ParseError:
            return None

    def feed(self, dg: Datagram) -> None:
        data = dg.payload
        if not data:
            return
        if not data[0] & 0x80:
            if is_public_header(data):
                self._gquic_public(dg)
            return
        version = int.from_bytes(data[1:5], "big") if len(data) >= 5 else 0
        known = is_known_version(version)
        if not version or not (known or data[0] & 0x40 or is_grease_version(version)):
            return
        try:
            packets = split_datagram(data)
        except ParseError as err:
            if known:
                self.note(dg, f"bad_header_{err.name}", err.detail)
            return
        self.known_seen = self.known_seen or known
        for hdr in packets:
            if not known and hdr.packet_type == PacketType.INITIAL:
                failures = len(self.anomalies)
                self._initial(dg, hdr)
                self.unknown.append((dg, hdr, len(self.anomalies) == failures))
                continue
            if not known:
                continue
            if hdr.packet_type == PacketType.RETRY:
                self._retry(dg, hdr)
            elif hdr.packet_type == PacketType.INITIAL:
                if is_gquic_version(hdr.version) and gquic_minor(hdr.version) < 50:
                    self._gquic_long(dg, hdr)
                else:
                    self._initial(dg, hdr)

    # -- IETF-style (and Q050/T05x) Initials -------------------------------------------------

    def _retry(self, dg: Datagram, hdr: LongHeader) -> None:
        cur = self.conns[-1] if self.conns else None
        if cur is None:
            self.pending_retry = True
        elif dg.from_orig != cur.client_is_orig:
            cur.retry = True
            cur.retry_scids.add(hdr.scid)  # the client answers one of them (duplicates happen)

    def _initial(self, dg: Datagram, hdr: LongHeader) -> None:
        cur = self.conns[-1] if self.conns else None
        if cur is not None and dg.from_orig != cur.client_is_orig:
            pkt = self._open(dg, hdr, cur.key_dcid, True, cur.largest[False])
            if pkt is not None:
                cur.largest[False] = max(cur.largest[False], pkt.packet_number)
                for cf in self._crypto_frames(dg, pkt):
                    cur.server_buf.add(cf.offset, cf.data)
                return
        elif cur is not None:
            pkt = self._open(dg, hdr, cur.key_dcid, False, cur.largest[True])
            if pkt is None and hdr.dcid in cur.retry_scids:
                pkt = self._open(dg, hdr, hdr.dcid, False, -1)
                if pkt is not None:
                    cur.switch_keys(hdr.dcid)
            if pkt is not None:
                cur.initials += 1
                if is_known_version(hdr.version) and not is_known_version(cur.version):
                    cur.version = hdr.version  # after version negotiation away from GREASE
                self._client_packet(cur, dg, pkt)
                return
        retried = (
            cur is not None and dg.from_orig == cur.client_is_orig and (hdr.dcid == cur.key_dcid)
        )
        pkt = None if retried else self._open(dg, hdr, hdr.dcid, False, -1)
        if pkt is None:
            self._failed(cur, dg, hdr)
            return
        new = _Conn.start(hdr.version, dg, hdr.dcid, hdr.scid)
        new.retry = self.pending_retry
        new.failures = self.pending_failures
        self.pending_retry = False
        self.pending_failures = 0
        self.conns.append(new)
        new.initials += 1
        self._client_packet(new, dg, pkt)

    def _failed(self, cur: _Conn | None, dg: Datagram, hdr: LongHeader) -> None:
        side = "client" if cur is None or dg.from_orig == cur.client_is_orig else "server"
        if cur is None:
            self.pending_failures += 1
            if self.orphan is None:
                self.orphan = (dg, hdr)
        else:
            cur.failures += 1
            if side == "client":
                cur.initials += 1
        self.note(
            dg,
            "decrypt_failed",
            f"{side} Initial, version {version_name(hdr.version)}, DCID {hdr.dcid.hex()}: "
            "no Initial keys of this flow remove its protection",
        )

    def _crypto_frames(self, dg: Datagram, pkt: InitialPacket) -> tuple[CryptoFrame, ...]:
        version = pkt.header.version
        try:
            if is_gquic_version(version):
                return parse_gquic_frames(pkt.payload, version, pkt.pn_len)
            frames = parse_frames(pkt.payload)
        except ParseError as err:
            self.note(dg, f"bad_frame_{err.name}", err.detail)
            return ()
        if frames.stopped_at is not None:
            self.note(
                dg,
                "unknown_frame",
                f"frame type 0x{frames.stopped_at:x} in an Initial; rest of packet skipped",
            )
        if frames.disallowed:
            types = ",".join(f"0x{t:02x}" for t in frames.disallowed)
            self.note(dg, "frame_not_allowed", f"frame types {types} are not allowed in Initials")
        return frames.crypto

    def _client_packet(self, cur: _Conn, dg: Datagram, pkt: InitialPacket) -> None:
        cur.decrypted += 1
        cur.largest[True] = max(cur.largest[True], pkt.packet_number)
        for cf in self._crypto_frames(dg, pkt):
            self._add_client(cur, dg, cf)

    def _add_client(self, cur: _Conn, dg: Datagram, cf: CryptoFrame) -> None:
        if cur.gquic and cur.base is None and cf.data[:4] == b"CHLO":
            cur.base = cf.offset  # a capture may start at a later CHLO (after a REJ)
        added = cur.client_buf.add(cf.offset, cf.data)
        cur.fragments.append(Fragment(cf.offset, len(cf.data), dg.frame, cur.initials - 1, added))

    # -- Google QUIC with cleartext handshake ------------------------------------------------

    def _gquic_conn(self, dg: Datagram, version: int, cid: bytes, scid: bytes) -> _Conn | None:
        """The gQUIC connection of this CID (None for the server's side of it), or a new one."""
        cur = next((c for c in reversed(self.conns) if c.gquic and c.dcid == cid), None)
        if cur is not None and cur.client_is_orig != dg.from_orig:
            return None  # e.g. the server's version negotiation packet
        if cur is None or cur.version != version:
            cur = _Conn.start(version, dg, cid, scid)
            self.conns.append(cur)
        cur.initials += 1
        return cur

    def _gquic_frames(self, cur: _Conn, dg: Datagram, payload: bytes, pn_len: int) -> None:
        try:
            frames = parse_gquic_frames(payload, cur.version, pn_len)
        except ParseError:
            # Later client packets still carrying the version are encrypted; without checking
            # the message hash they look like frames that run past the packet. Not an anomaly.
            return
        cur.decrypted += 1
        for cf in frames:
            self._add_client(cur, dg, cf)

    def _gquic_public(self, dg: Datagram) -> None:
        try:
            hdr = parse_public_header(dg.payload)
        except ParseError:
            return  # a server's version negotiation packet also carries the version flag
        cur = self._gquic_conn(dg, hdr.version, hdr.cid, b"")
        if cur is not None:
            self._gquic_frames(cur, dg, dg.payload[hdr.payload_offset :], hdr.pn_len)

    def _gquic_long(self, dg: Datagram, hdr: LongHeader) -> None:
        if not hdr.dcid:
            return  # the server's long-header packets carry only its source CID
        pn_len = (hdr.first_byte & 0x03) + 1
        cur = self._gquic_conn(dg, hdr.version, hdr.dcid, hdr.scid)
        start = hdr.pn_offset + pn_len + 12  # packet number, then the message hash
        if cur is not None:
            self._gquic_frames(cur, dg, dg.payload[start : hdr.end], pn_len)

    def finish(self) -> FlowAnalysis:
        conns = [c.result() for c in self.conns]
        if not conns and self.orphan is not None and is_known_version(self.orphan[1].version):
            dg, hdr = self.orphan
            conn = _Conn.start(hdr.version, dg, hdr.dcid, hdr.scid)
            conn.failures = self.pending_failures
            conn.initials = self.pending_failures
            conn.retry = self.pending_retry
            conns.append(conn.result())
        # reserved/unknown-version Initials are listed unless a connection row carries their
        # version; undecrypted ones only when GREASE or the flow is otherwise QUIC (random UDP
        # often looks like a long header)
        versions = {c.version for c in conns}
        listed = [
            u
            for u in self.unknown
            if u[1].version not in versions
            and (u[2] or is_grease_version(u[1].version) or conns or self.known_seen)
        ]
        junk = any(not u[2] for u in self.unknown) and not listed and not conns
        anomalies = () if junk else tuple(self.anomalies)
        return FlowAnalysis(tuple(conns), anomalies, tuple(listed))


def analyze_datagrams(datagrams: Sequence[Datagram]) -> FlowAnalysis:
    """Every QUIC connection attempt in a flow's datagrams (in capture order), and anomalies.

    A flow whose Initials never decrypt still yields one connection (from its first Initial)
    so that the attempt and its failure counts are visible.
    """
    walker = _Walker()
    for dg in datagrams:
        walker.feed(dg)
    return walker.finish()


def client_crypto_stream(datagrams: Sequence[Datagram]) -> CryptoResult | None:
    """The first connection's reassembled CRYPTO streams (None when no QUIC Initial is seen)."""
    conns = analyze_datagrams(datagrams).connections
    return conns[0] if conns else None


def looks_like_quic(datagrams: Sequence[Datagram]) -> bool:
    """Cheap test: some datagram starts with a long header of a known version (or gQUIC), or
    of any version other than 0 (version negotiation): its Initial may open with v1's salt."""
    for dg in datagrams:
        data = dg.payload
        if len(data) >= 7 and data[0] & 0xC0 == 0xC0:
            if int.from_bytes(data[1:5], "big"):
                return True
        elif is_public_header(data):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# rows


@dataclass(slots=True)
class _Hello:
    """What the client's handshake message yields for the row (mutable scratch record)."""

    ch: ClientHello | None = None
    complete: bool = False
    end: int | None = None  #: stream offset one past the message, when known
    sni: str = ""
    user_agent: str = ""


def _client_hello(res: CryptoResult) -> _Hello:
    stream = res.client_stream
    out = _Hello()
    if res.gquic and res.version.to_bytes(4, "big")[:1] == b"Q":
        if stream[:4] != b"CHLO":
            out.end = 0  # no CHLO start captured: no fragment counts as ClientHello
            return out
        out.end = chlo_length(stream)
        if out.end is not None and len(stream) >= out.end:
            tags = parse_chlo(stream[: out.end])
            out.complete = True
            out.sni = tags.get("SNI", b"").decode("utf-8", "backslashreplace")
            out.user_agent = tags.get("UAID", b"").decode("utf-8", "backslashreplace")
        return out
    if len(stream) < 4:
        return out
    if stream[0] != HandshakeType.CLIENT_HELLO:
        raise ParseError(
            f"client CRYPTO stream starts with handshake type {stream[0]}", "not_client_hello"
        )
    out.end = 4 + int.from_bytes(stream[1:4], "big")
    msg = handshake_message(stream)
    if msg is not None:
        out.ch = parse_client_hello(msg[1])
        out.complete = True
    else:
        out.ch = parse_client_hello_prefix(stream[4:])
    out.sni = out.ch.sni
    return out


def _weird(view: FlowView, res: CryptoResult, name: str, detail: str) -> WeirdRow:
    return WeirdRow(res.ts, view.uid, f"quic_{name}", detail, res.frame, "quic")


def _rows(view: FlowView, res: CryptoResult) -> list[Row]:
    rows: list[Row] = []
    hello = _Hello()
    try:
        hello = _client_hello(res)
    except ParseError as err:
        rows.append(weird(view, err, "quic", ts=res.ts, frame=res.frame))
    end = None if hello.end is None else res.stream_base + hello.end
    ch_frags = [
        f
        for f in res.client_fragments
        if f.new_bytes and f.offset + f.length > res.stream_base and (end is None or f.offset < end)
    ]
    cipher = group = ""
    sh_seen = False
    msg = handshake_message(res.server_stream)
    if msg is not None and msg[0] == HandshakeType.SERVER_HELLO:
        try:
            sh = parse_server_hello(msg[1])
        except ParseError as err:
            rows.append(weird(view, err, "quic", ts=res.ts, frame=res.frame))
        else:
            sh_seen = True
            cipher = cipher_name(sh.cipher_suite)
            group = group_name(sh.selected_group) if sh.selected_group is not None else ""
    if res.capped:
        rows.append(_weird(view, res, "crypto_capped", "CRYPTO data beyond the limit was dropped"))
    if res.conflicts:
        detail = f"{res.conflicts} overlapping CRYPTO frames disagreed (first copy kept)"
        rows.append(_weird(view, res, "crypto_overlap_conflict", detail))
    ch = hello.ch
    rows.insert(
        0,
        QuicRow(
            ts=res.ts,
            uid=view.uid,
            frame=res.frame,
            client_is_orig=res.client_is_orig,
            version=version_name(res.version),
            gquic=res.gquic,
            dcid=res.dcid.hex(),
            scid=res.scid.hex(),
            sni=hello.sni,
            alpn=";".join(ch.alpn) if ch else "",
            ja4=ja4(ch, transport="q") if ch and hello.complete else "",
            post_quantum=ch.post_quantum if ch else None,
            ech=ch.ech if ch else "",
            client_hello_complete=hello.complete,
            initial_packets=res.initial_packets,
            crypto_fragments=len(res.client_fragments),
            client_hello_packets=len({f.packet for f in ch_frags}),
            retry=res.retry,
            server_hello_seen=sh_seen,
            cipher=cipher,
            group=group,
            decrypt_failures=res.decrypt_failures,
            frames=";".join(str(f) for f in sorted({f.frame for f in ch_frags})),
            user_agent=hello.user_agent,
            version_reserved=is_grease_version(res.version),
            initial_salt="" if is_known_version(res.version) else "v1",
        ),
    )
    return rows


def _unknown_row(view: FlowView, dg: Datagram, hdr: LongHeader, opened: bool) -> QuicRow:
    """A reserved/unknown-version Initial (opened with the v1 salt or not) that no connection
    row lists under its own version."""
    return QuicRow(
        ts=dg.ts, uid=view.uid, frame=dg.frame, client_is_orig=dg.from_orig,
        version=version_name(hdr.version), dcid=hdr.dcid.hex(), scid=hdr.scid.hex(),
        initial_packets=1, decrypt_failures=0 if opened else 1,
        version_reserved=is_grease_version(hdr.version), initial_salt="v1" if opened else "none",
    )  # fmt: skip


def dissect(view: FlowView) -> list[Row]:
    """``quic`` rows (one per connection attempt) and ``weird`` rows for a UDP flow."""
    if view.proto != "udp" or not looks_like_quic(view.datagrams):
        return []
    analysis = analyze_datagrams(view.datagrams)
    rows: list[Row] = []
    for res in analysis.connections:
        rows.extend(_rows(view, res))
    rows.extend(_unknown_row(view, dg, hdr, opened) for dg, hdr, opened in analysis.unknown)
    for a in analysis.anomalies[:_MAX_WEIRD]:
        rows.append(WeirdRow(a.ts, view.uid, f"quic_{a.name}", a.detail, a.frame, "quic"))
    if len(analysis.anomalies) > _MAX_WEIRD:
        last = analysis.anomalies[-1]
        rows.append(
            WeirdRow(
                last.ts,
                view.uid,
                "quic_more_anomalies",
                f"{len(analysis.anomalies) - _MAX_WEIRD} more anomalies not listed",
                last.frame,
                "quic",
            )
        )
    return rows
