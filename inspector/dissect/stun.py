"""STUN / TURN messages (RFC 8489, RFC 8656; classic RFC 3489) and the ``stun`` table.

:func:`parse_stun` decodes one message (header checks, attributes, XOR address decoding,
FINGERPRINT check); :func:`split_tcp` finds messages in a TCP byte stream (back-to-back, RFC 4571
framed, or inside ChannelData); :func:`vendor_hint` applies nDPI's application fingerprints.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.base import FlowView, weird
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.stun import StunRow
from inspector.schema.weird import WeirdRow

__all__ = [
    "MAGIC_COOKIE",
    "MAX_ROWS_PER_FLOW",
    "STANDARD_ATTRS",
    "StunAttr",
    "StunAttribute",
    "StunClass",
    "StunMessage",
    "StunMethod",
    "dissect",
    "format_addr",
    "looks_like_stun",
    "parse_stun",
    "split_tcp",
    "vendor_hint",
]

MAGIC_COOKIE = 0x2112A442
_COOKIE = MAGIC_COOKIE.to_bytes(4, "big")
_FINGERPRINT_XOR = 0x5354554E
_HDR = struct.Struct("!HHI")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
#: Rows written per flow; the rest is counted in one ``stun_rows_capped`` weird row.
MAX_ROWS_PER_FLOW = 200
_MAX_WEIRD_PER_FLOW = 20


class StunClass(IntEnum):
    REQUEST = 0
    INDICATION = 1
    SUCCESS = 2
    ERROR = 3


class StunMethod(IntEnum):
    BINDING = 0x001
    SHARED_SECRET = 0x002
    ALLOCATE = 0x003
    REFRESH = 0x004
    SEND = 0x006
    DATA = 0x007
    CREATE_PERMISSION = 0x008
    CHANNEL_BIND = 0x009
    CONNECT = 0x00A
    CONNECTION_BIND = 0x00B
    CONNECTION_ATTEMPT = 0x00C
    GOOG_PING = 0x080


class StunAttr(IntEnum):
    MAPPED_ADDRESS = 0x0001
    CHANGE_REQUEST = 0x0003
    USERNAME = 0x0006
    MESSAGE_INTEGRITY = 0x0008
    ERROR_CODE = 0x0009
    CHANNEL_NUMBER = 0x000C
    LIFETIME = 0x000D
    XOR_PEER_ADDRESS = 0x0012
    DATA = 0x0013
    REALM = 0x0014
    NONCE = 0x0015
    XOR_RELAYED_ADDRESS = 0x0016
    REQUESTED_TRANSPORT = 0x0019
    MESSAGE_INTEGRITY_SHA256 = 0x001C
    XOR_MAPPED_ADDRESS = 0x0020
    PRIORITY = 0x0024
    USE_CANDIDATE = 0x0025
    XOR_MAPPED_ADDRESS_LEGACY = 0x8020
    SOFTWARE = 0x8022
    FINGERPRINT = 0x8028
    ICE_CONTROLLED = 0x8029
    ICE_CONTROLLING = 0x802A
    MS_VERSION = 0x8070


#: Attribute types registered at IANA (STUN Attributes registry, incl. classic RFC 3489 ones and
#: vendor registrations such as Cisco 0xC000-0xC003 and Google 0xC057-0xC060).
_REGISTERED = (
    (0x0001, 0x000E), (0x0010, 0x0011), (0x0012, 0x001F), (0x0020, 0x0021), (0x0022, 0x0023),
    (0x0024, 0x0028), (0x002A, 0x002B), (0x8000, 0x8005), (0x8020, 0x8021), (0x8022, 0x8024),
    (0x8025, 0x8026), (0x8027, 0x8031), (0xC000, 0xC004), (0xC057, 0xC061),
)  # fmt: skip
STANDARD_ATTRS: frozenset[int] = frozenset(t for lo, hi in _REGISTERED for t in range(lo, hi))

_METHOD_NAMES = {m.value: m.name.lower() for m in StunMethod}
_CLASS_NAMES = {c.value: c.name.lower() for c in StunClass}
_ADDRESS_ATTRS = (
    StunAttr.MAPPED_ADDRESS,
    StunAttr.XOR_PEER_ADDRESS,
    StunAttr.XOR_RELAYED_ADDRESS,
    StunAttr.XOR_MAPPED_ADDRESS,
    StunAttr.XOR_MAPPED_ADDRESS_LEGACY,
)
#: nDPI's Skype/Teams attributes, plus MS-Version 0x8008 of [MS-TURN] (seen in teams.pcap).
_MS_ATTRS = frozenset({0x8054, 0x24DF, 0x3802, 0x8036, 0x8095, 0x0800, 0x8006, 0x8055, 0x8008})
_WHATSAPP_ATTRS = frozenset({0x4000, 0x4001, 0x4002, 0x4003, 0x4004, 0x4007})
_WHATSAPP_TYPES = frozenset({0x0800, 0x0801, 0x0802})
#: ``msg_type & 0x3EEF`` (class bits cleared) accepted without a magic cookie: classic Binding and
#: Shared Secret (RFC 3489), the TURN methods, and WhatsApp's 0x0800.
_CLASSIC_TYPES = frozenset({*range(0x0001, 0x000A), 0x0800, 0x0801, 0x0802})


@dataclass(frozen=True, slots=True)
class StunAttribute:
    type: int
    value: bytes
    offset: int  #: offset of the attribute header within the message


@dataclass(frozen=True, slots=True)
class StunMessage:
    """One decoded STUN message. Address lists hold ``ip:port`` strings (IPv6 as ``[ip]:port``)."""

    msg_type: int
    length: int
    classic: bool
    transaction_id: bytes
    attributes: tuple[StunAttribute, ...]
    username: str = ""
    software: str = ""
    realm: str = ""
    nonce_present: bool = False
    xor_mapped: tuple[str, ...] = ()
    xor_relayed: tuple[str, ...] = ()
    xor_peer: tuple[str, ...] = ()
    mapped: tuple[str, ...] = ()
    error_code: int | None = None
    error_reason: str = ""
    priority: int | None = None
    ice_role: str = ""
    use_candidate: bool = False
    message_integrity: bool = False
    fingerprint_ok: bool | None = None
    channel_number: int | None = None
    lifetime: int | None = None
    requested_transport: int | None = None
    data: bytes | None = None
    ms_version: int | None = None

    @property
    def method(self) -> int:
        t = self.msg_type
        return (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)

    @property
    def msg_class(self) -> int:
        return ((self.msg_type >> 4) & 1) | ((self.msg_type >> 7) & 2)

    @property
    def method_name(self) -> str:
        return _METHOD_NAMES.get(self.method, f"0x{self.method:03x}")

    @property
    def class_name(self) -> str:
        return _CLASS_NAMES[self.msg_class]

    @property
    def attr_types(self) -> tuple[int, ...]:
        return tuple(a.type for a in self.attributes)

    @property
    def vendor_attrs(self) -> tuple[int, ...]:
        seen: list[int] = []
        for a in self.attributes:
            if a.type not in STANDARD_ATTRS and a.type not in seen:
                seen.append(a.type)
        return tuple(seen)


def format_addr(ip: str, port: int) -> str:
    """``ip:port``, with IPv6 addresses in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _text(value: bytes) -> str:
    return value.decode("utf-8", "backslashreplace")


def _address(value: bytes, xor_key: bytes | None) -> str:
    """Decode a (XOR-)MAPPED-ADDRESS value; ``xor_key`` = cookie || transaction ID (16 bytes)."""
    if len(value) < 8:
        raise ParseError(f"address attribute of {len(value)} bytes", "stun_bad_address")
    family = value[1]
    (port,) = _U16.unpack_from(value, 2)
    if family == 0x01:
        raw = value[4:8]
    elif family == 0x02 and len(value) >= 20:
        raw = value[4:20]
    else:
        raise ParseError(
            f"address family 0x{family:02x} with {len(value)} bytes", "stun_bad_address"
        )
    if xor_key is not None:
        port ^= 0x2112
        raw = bytes(a ^ b for a, b in zip(raw, xor_key, strict=False))
    ip = ipaddress.ip_address(raw)
    return format_addr(str(ip), port)


def _walk(data: bytes, padded: bool) -> list[StunAttribute] | None:
    """Attributes from offset 20 to the end, or None when they do not tile the message."""
    out: list[StunAttribute] = []
    pos, end = 20, len(data)
    while pos < end:
        if pos + 4 > end:
            return None
        atype, alen = _U16.unpack_from(data, pos)[0], _U16.unpack_from(data, pos + 2)[0]
        if pos + 4 + alen > end:
            return None
        out.append(StunAttribute(atype, data[pos + 4 : pos + 4 + alen], pos))
        step = 4 + alen
        if padded:
            step += -alen % 4
        pos += step
    return out if pos == end or (padded and pos - end < 4) else None


def looks_like_stun(data: bytes) -> bool:
    """Cheap test: top two bits zero, length field == len - 20, and the magic cookie."""
    return (
        len(data) >= 20
        and data[0] < 0x40
        and data[4:8] == _COOKIE
        and _U16.unpack_from(data, 2)[0] + 20 == len(data)
    )


def parse_stun(data: bytes) -> StunMessage:
    """Decode one complete STUN message (the whole UDP payload or one TCP-framed message)."""
    if len(data) < 20:
        raise ParseError(f"STUN header needs 20 bytes, have {len(data)}", "stun_short")
    msg_type, length, cookie = _HDR.unpack_from(data, 0)
    if msg_type & 0xC000:
        raise ParseError(f"first two bits of 0x{msg_type:04x} are not zero", "stun_not_stun")
    if length + 20 != len(data):
        raise ParseError(f"length field {length} != {len(data) - 20}", "stun_length")
    classic = cookie != MAGIC_COOKIE
    if classic and (msg_type & 0x3EEF) not in _CLASSIC_TYPES:
        raise ParseError(f"no magic cookie and type 0x{msg_type:04x}", "stun_not_stun")
    tid = data[4:20] if classic else data[8:20]
    attrs = _walk(data, padded=True)
    if attrs is None:  # classic STUN and Microsoft's MS-TURN do not pad attribute values
        attrs = _walk(data, padded=False)
    if attrs is None:
        raise ParseError("attributes do not tile the message", "stun_bad_attributes")
    xor_key = data[4:20]
    f: dict[str, object] = {}
    lists: dict[str, list[str]] = {
        "xor_mapped": [],
        "xor_relayed": [],
        "xor_peer": [],
        "mapped": [],
    }
    for a in attrs:
        t, v = a.type, a.value
        if t in _ADDRESS_ATTRS:
            key = {
                StunAttr.MAPPED_ADDRESS: "mapped",
                StunAttr.XOR_PEER_ADDRESS: "xor_peer",
                StunAttr.XOR_RELAYED_ADDRESS: "xor_relayed",
            }.get(StunAttr(t), "xor_mapped")
            try:
                lists[key].append(_address(v, None if key == "mapped" else xor_key))
            except ParseError:
                if t == StunAttr.XOR_MAPPED_ADDRESS_LEGACY:
                    continue  # vendor reuse of 0x8020: not fatal
                raise
        elif t == StunAttr.USERNAME:
            f["username"] = _text(v)
        elif t == StunAttr.SOFTWARE:
            f["software"] = _text(v)
        elif t == StunAttr.REALM:
            f["realm"] = _text(v)
        elif t == StunAttr.NONCE:
            f["nonce_present"] = True
        elif t == StunAttr.ERROR_CODE and len(v) >= 4:
            f["error_code"] = (v[2] & 0x07) * 100 + v[3]
            f["error_reason"] = _text(v[4:])
        elif t == StunAttr.PRIORITY and len(v) >= 4:
            f["priority"] = _U32.unpack_from(v, 0)[0]
        elif t == StunAttr.USE_CANDIDATE:
            f["use_candidate"] = True
        elif t == StunAttr.ICE_CONTROLLING:
            f["ice_role"] = "controlling"
        elif t == StunAttr.ICE_CONTROLLED:
            f["ice_role"] = "controlled"
        elif t in (StunAttr.MESSAGE_INTEGRITY, StunAttr.MESSAGE_INTEGRITY_SHA256):
            f["message_integrity"] = True
        elif t == StunAttr.FINGERPRINT and len(v) == 4:
            expected = zlib.crc32(data[: a.offset]) ^ _FINGERPRINT_XOR
            f["fingerprint_ok"] = _U32.unpack_from(v, 0)[0] == expected
        elif t == StunAttr.CHANNEL_NUMBER and len(v) >= 2:
            f["channel_number"] = _U16.unpack_from(v, 0)[0]
        elif t == StunAttr.LIFETIME and len(v) >= 4:
            f["lifetime"] = _U32.unpack_from(v, 0)[0]
        elif t == StunAttr.REQUESTED_TRANSPORT and len(v) >= 1:
            f["requested_transport"] = v[0]
        elif t == StunAttr.DATA and "data" not in f:
            f["data"] = v
        elif t == StunAttr.MS_VERSION and len(v) >= 4:
            f["ms_version"] = _U32.unpack_from(v, 0)[0]
    return StunMessage(
        msg_type=msg_type,
        length=length,
        classic=classic,
        transaction_id=tid,
        attributes=tuple(attrs),
        xor_mapped=tuple(lists["xor_mapped"]),
        xor_relayed=tuple(lists["xor_relayed"]),
        xor_peer=tuple(lists["xor_peer"]),
        mapped=tuple(lists["mapped"]),
        **f,  # type: ignore[arg-type]
    )


def vendor_hint(msg: StunMessage) -> str:
    """Application suggested by vendor-specific features (after nDPI ``stun.c``), or ``""``."""
    types = set(msg.attr_types)
    if types & {0x0101, 0x0103}:
        return "zoom"
    # nDPI accepts MS-IMPLEMENTATION-VERSION 0x8070 = 2 or 3; Teams (teams.pcap) sends 7.
    if types & _MS_ATTRS or (msg.ms_version is not None and 1 <= msg.ms_version <= 15):
        return "microsoft"
    if msg.msg_type in _WHATSAPP_TYPES or types & _WHATSAPP_ATTRS:
        return "whatsapp"
    text = (msg.realm + " " + msg.software).lower()
    if 0xFF03 in types or msg.method == StunMethod.GOOG_PING or "google.com" in msg.realm.lower():
        return "google"
    if "signal.org" in text or "whispersystems.org" in text:
        return "signal"
    if "facebook" in text:
        return "facebook"
    if "telegram" in text:
        return "telegram"
    if "viber" in text:
        return "viber"
    return ""


def split_tcp(data: bytes) -> list[tuple[int, bytes, str]]:
    """``(offset, message, framing)`` for each STUN message at the start of a TCP byte stream.

    Accepts messages back to back (TURN over TCP, RFC 8656), each with a 2-byte length prefix
    (RFC 4571, ICE-TCP) or inside ChannelData (padded to 4 on TCP; accepted only after a STUN
    message, since a TURN connection starts with an Allocate and ``GET `` would otherwise read as
    channel 0x4745). Stops at the first position that is none of these (or at a message cut by
    the end of the data).
    """
    out: list[tuple[int, bytes, str]] = []
    pos, end = 0, len(data)
    while pos + 4 <= end and len(out) < 10_000:
        b0 = data[pos]
        if b0 < 0x40 and pos + 20 <= end and data[pos + 4 : pos + 8] == _COOKIE:
            n = 20 + _U16.unpack_from(data, pos + 2)[0]
            if pos + n > end:
                break
            out.append((pos, data[pos : pos + n], "plain"))
            pos += n
        elif 0x40 <= b0 <= 0x4F and out:  # ChannelData only after a STUN (Allocate) message
            n = _U16.unpack_from(data, pos + 2)[0]
            if pos + 4 + n > end:
                break
            out.append((pos + 4, data[pos + 4 : pos + 4 + n], "turn_channel"))
            pos += 4 + n + (-n % 4)
        elif pos + 22 <= end and data[pos + 2] < 0x40:
            n = _U16.unpack_from(data, pos)[0]
            inner_len = _U16.unpack_from(data, pos + 4)[0] + 20
            if n != inner_len or pos + 2 + n > end:
                break
            out.append((pos + 2, data[pos + 2 : pos + 2 + n], "rfc4571"))
            pos += 2 + n
        else:
            break
    return out


def _row(view: FlowView, msg: StunMessage, ts: float, frame: int, from_orig: bool,
         framing: str) -> StunRow:  # fmt: skip
    rt = msg.requested_transport
    return StunRow(
        ts=ts,
        uid=view.uid,
        frame=frame,
        from_orig=from_orig,
        transport=view.proto,
        framing=framing,
        method=msg.method_name,
        msg_class=msg.class_name,
        msg_type=msg.msg_type,
        transaction_id=msg.transaction_id.hex(),
        classic=msg.classic,
        username=msg.username,
        software=msg.software,
        realm=msg.realm,
        xor_mapped=";".join(msg.xor_mapped),
        xor_relayed=";".join(msg.xor_relayed),
        xor_peer=";".join(msg.xor_peer),
        mapped=";".join(msg.mapped),
        error_code=msg.error_code,
        error_reason=msg.error_reason,
        ice_role=msg.ice_role,
        use_candidate=msg.use_candidate,
        priority=msg.priority,
        message_integrity=msg.message_integrity,
        nonce_present=msg.nonce_present,
        fingerprint_ok=msg.fingerprint_ok,
        channel_number=msg.channel_number,
        lifetime_s=msg.lifetime,
        requested_transport={17: "udp", 6: "tcp"}.get(rt, str(rt)) if rt is not None else "",
        vendor_attrs=";".join(f"0x{t:04x}" for t in msg.vendor_attrs),
        vendor_hint=vendor_hint(msg),
        attrs=";".join(f"0x{t:04x}" for t in msg.attr_types),
    )


def _udp_candidates(payload: bytes) -> list[tuple[bytes, str]]:
    """``(message bytes, framing)`` candidates in one datagram (cheap first-byte checks)."""
    if len(payload) < 20:
        return []
    b0 = payload[0]
    if b0 < 0x40:
        return [(payload, "plain")]
    if 0x40 <= b0 <= 0x4F:
        n = _U16.unpack_from(payload, 2)[0]
        if 4 + n <= len(payload) <= 4 + n + 3 and n >= 20 and payload[4] < 0x40:
            return [(payload[4 : 4 + n], "turn_channel")]
    elif (
        b0 == 0xFF
        and payload[1] == 0x10
        and _U16.unpack_from(payload, 2)[0] + 4 == len(payload)
        and len(payload) >= 32
        and payload[12] < 0x40
    ):
        return [(payload[12:], "ms_turn")]
    return []


def dissect(view: FlowView) -> list[Row]:
    """STUN rows (and weird rows) of one flow; never raises."""
    rows: list[Row] = []
    weirds: list[Row] = []
    extra = 0

    def emit(msg: StunMessage, ts: float, frame: int, from_orig: bool, framing: str) -> None:
        nonlocal extra
        if len(rows) >= MAX_ROWS_PER_FLOW:
            extra += 1
        else:
            rows.append(_row(view, msg, ts, frame, from_orig, framing))

    def fail(err: ParseError, ts: float, frame: int) -> None:
        if len(weirds) < _MAX_WEIRD_PER_FLOW:
            weirds.append(weird(view, err, "stun", ts=ts, frame=frame))

    def relayed(msg: StunMessage, ts: float, frame: int, from_orig: bool) -> None:
        """A STUN message relayed inside a Send/Data indication's DATA gets its own row."""
        inner = msg.data
        if msg.method in (StunMethod.SEND, StunMethod.DATA) and inner and looks_like_stun(inner):
            try:
                emit(parse_stun(inner), ts, frame, from_orig, "stun_data")
            except ParseError as err:
                fail(err, ts, frame)

    if view.proto == "udp":
        for d in view.datagrams:
            for data, framing in _udp_candidates(d.payload):
                try:
                    msg = parse_stun(data)
                except ParseError as err:
                    if data[4:8] == _COOKIE and framing == "plain":
                        fail(err, d.ts, d.frame)
                    continue
                emit(msg, d.ts, d.frame, d.from_orig, framing)
                relayed(msg, d.ts, d.frame, d.from_orig)
    elif view.proto == "tcp":
        for stream, from_orig in ((view.orig, True), (view.resp, False)):
            for off, data, framing in split_tcp(stream.data):
                if not looks_like_stun(data) and framing != "rfc4571":
                    continue
                try:
                    msg = parse_stun(data)
                except ParseError as err:
                    fail(err, stream.ts_at(off), stream.frame_at(off))
                    continue
                ts, frame = stream.ts_at(off), stream.frame_at(off)
                emit(msg, ts, frame, from_orig, framing)
                relayed(msg, ts, frame, from_orig)
    if extra:
        weirds.append(
            WeirdRow(
                ts=view.ts,
                uid=view.uid,
                name="stun_rows_capped",
                detail=f"{extra} STUN messages beyond the {MAX_ROWS_PER_FLOW}-row cap not written",
                frame=0,
                source="stun",
            )
        )
    return rows + weirds
