"""Cleartext datagrams of small documented protocols that carry no conversation.

Two kinds, each a pure parser that returns a value or raises :class:`ParseError`:

* Hellos: a client announcing itself or probing a server, nothing else inside.

  - Spotify LAN discovery: a UDP 57621 datagram opening with ASCII ``SpotUdp0`` (as nDPI
    ``protocols/spotify.c`` recognises it).
  - TeamSpeak 3 connection init (the ReSpeak TeamSpeak 3 protocol description, "Init1"
    packets): ``TS3INIT1`` in place of the MAC, packet id 0x0065, a 2-byte client id and the
    type byte 0x88 (unencrypted, Init1).
  - Mumble server ping (Mumble protocol documentation, "UDP Ping"): a 12-byte request of four
    zero bytes and an 8-byte identifier, answered by a 24-byte reply: the server version, the
    same identifier, users, maximum users and bandwidth. Only a request and its reply together
    count (:func:`mumble_pings`).

* Cleartext service messages, readable by anyone on the path:

  - NTP (RFC 5905 section 7.3): a 48-byte header (extension fields and MAC may follow) with
    version 1-4 and mode 1-5, to or from UDP port 123.
  - NetBIOS datagram service (RFC 1002 section 4.4.1): message type 0x10-0x12, source port 138,
    then the first-level encoded source name (length 0x20, 32 letters A-P), from UDP port 138.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.errors import ParseError

__all__ = ["mumble_pings", "parse_hello", "parse_service"]

NTP_PORT = 123
NETBIOS_DGM_PORT = 138
SPOTIFY_PORT = 57621
_NB_NAME = frozenset(b"ABCDEFGHIJKLMNOP")


def parse_hello(payload: bytes, ports: tuple[int, int]) -> str:
    """The name of the hello ``payload`` is (``spotify_discovery``, ``teamspeak3_init``)."""
    if payload.startswith(b"SpotUdp0") and SPOTIFY_PORT in ports:
        return "spotify_discovery"
    if (
        len(payload) >= 13
        and payload.startswith(b"TS3INIT1")
        and payload[8:10] == b"\x00e"
        and payload[12] == 0x88
    ):
        return "teamspeak3_init"
    raise ParseError("no documented hello", "hello_none")


def _ntp(payload: bytes) -> str:
    if len(payload) < 48:
        raise ParseError(f"NTP header needs 48 bytes, have {len(payload)}", "ntp_short")
    version, mode = (payload[0] >> 3) & 7, payload[0] & 7
    if not 1 <= version <= 4 or not 1 <= mode <= 5:
        raise ParseError(f"NTP version {version} mode {mode}", "ntp_header")
    return "ntp"


def _netbios_dgm(payload: bytes) -> str:
    if len(payload) < 48:
        raise ParseError(f"NetBIOS datagram of {len(payload)} bytes", "nbdgm_short")
    if not 0x10 <= payload[0] <= 0x12 or payload[8:10] != b"\x00\x8a":
        raise ParseError(f"NetBIOS datagram type 0x{payload[0]:02x}", "nbdgm_header")
    name = payload[14:47]
    if name[0] != 0x20 or not set(name[1:]) <= _NB_NAME:
        raise ParseError("NetBIOS source name not first-level encoded", "nbdgm_name")
    return "netbios"


def parse_service(payload: bytes, ports: tuple[int, int]) -> str:
    """``ntp`` or ``netbios`` when ``payload`` is one of those cleartext service messages."""
    if NTP_PORT in ports:
        return _ntp(payload)
    if NETBIOS_DGM_PORT in ports:
        return _netbios_dgm(payload)
    raise ParseError("no cleartext service port", "service_port")


def mumble_pings(payloads: Sequence[tuple[bool, bytes]]) -> set[int]:
    """Indexes of the Mumble ping requests and replies among ``(from_orig, payload)`` datagrams:
    a 12-byte request ``00000000`` + identifier and a 24-byte reply in the other direction that
    repeats the identifier at offset 4 (both are returned, only in pairs)."""
    requests: dict[tuple[bool, bytes], int] = {}
    for i, (from_orig, p) in enumerate(payloads):
        if len(p) == 12 and p[:4] == b"\x00\x00\x00\x00":
            requests.setdefault((from_orig, p[4:12]), i)
    out: set[int] = set()
    for i, (from_orig, p) in enumerate(payloads):
        if len(p) == 24 and p[0] == 0:
            j = requests.get((not from_orig, p[4:12]))
            if j is not None:
                out |= {i, j}
    return out
