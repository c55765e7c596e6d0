"""Live capture: raw frames and timestamps from a network interface, and a pcapng writer.

Nothing here dissects packets: frames come out as :class:`~inspector.source.open.RawPacket`
(the same records the file readers give), so live and offline analysis share one pipeline.

On Linux the capture is a ``PF_PACKET`` socket of our own (the path libpcap takes): the BPF
filter is compiled by libpcap through scapy and attached before the socket is bound, kernel
timestamps come with each frame (``SO_TIMESTAMPNS``), VLAN tags the kernel stripped are put back
(``PACKET_AUXDATA``), outgoing copies on loopback devices are ignored (each packet is seen again
as incoming, as libpcap does), and the kernel's drop counter is read with ``PACKET_STATISTICS``.
On a loopback device the outgoing copies are dropped by the socket filter itself (a prefix on
the packet type), so the kernel's counters count each packet once; and when the capture stops,
a filter that passes nothing is attached before the queue is drained, so every packet the
kernel counted is either read or counted as dropped (:attr:`CaptureStats.unread` is 0).
Ethernet and loopback devices give Ethernet frames (link type 1), address-less devices (tun,
WireGuard) raw IP (101), every other device type and the pseudo-interface ``any`` Linux cooked
frames (113). Elsewhere scapy's layer-2 listening socket is used, without drop statistics.

Timestamps are kept to the microsecond, the resolution of the pcapng file written beside, so a
capture written with :class:`PcapngWriter` and read back gives the very same timestamps (and so
the same flow uids) as the live run.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from inspector import __version__
from inspector.errors import InputError
from inspector.source.open import RawPacket

__all__ = [
    "ANY",
    "PRIVILEGE_HINT",
    "CaptureStats",
    "LiveCapture",
    "PcapngWriter",
    "check_filter",
    "check_interface",
    "interface_names",
    "link_type",
    "open_live",
]

ANY = "any"
SNAPLEN = 262144
BATCH = 512
US = 1_000_000
TICK = 1e-6  # the pcapng reader's default if_tsresol: timestamps must go through it unchanged

PRIVILEGE_HINT = (
    "capturing needs root or CAP_NET_RAW (and CAP_NET_ADMIN for the BPF filter): run as root "
    "or `setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which python3))`"
)

# Linux constants (linux/if_packet.h, linux/if_arp.h, asm-generic/socket.h)
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SKF_AD_OFF = -0x1000
SKF_AD_PKTTYPE = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
ARPHRD_NONE = 0xFFFE
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
RCVBUF = 32 << 20

_AUX = struct.Struct("=IIIHHHH")
_STATS = struct.Struct("=II")
_SLL = struct.Struct(">HHH8sH")


@dataclass(frozen=True, slots=True)
class CaptureStats:
    """Packet counts of one capture.

    ``received`` frames came out of the capture socket and were handed on;
    ``loopback_duplicates`` were outgoing copies on a loopback device, ignored because each is
    seen again as incoming. ``kernel_received`` / ``kernel_dropped`` are the kernel's own
    counters (packets that passed the filter, and those lost because the buffer was full);
    ``None`` when the platform does not report them. Every packet the kernel counted was
    read (``received`` or a loopback duplicate), dropped, or still queued when the capture
    closed (:attr:`unread`).
    """

    received: int = 0
    loopback_duplicates: int = 0
    kernel_received: int | None = None
    kernel_dropped: int | None = None

    @property
    def unread(self) -> int | None:
        """Packets the kernel counted and queued that were never read (the capture closed)."""
        if self.kernel_received is None:
            return None
        read = self.received + self.loopback_duplicates
        return max(0, self.kernel_received - (self.kernel_dropped or 0) - read)

    @property
    def drops_text(self) -> str:
        if self.kernel_dropped is None:
            return "not reported by this platform"
        return str(self.kernel_dropped)


# ----------------------------------------------------------------------------- interfaces
def interface_names() -> list[str]:
    """Names of the network interfaces of this host, sorted."""
    try:
        return sorted(name for _index, name in socket.if_nameindex())
    except (OSError, AttributeError):
        base = Path("/sys/class/net")
        return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


def check_interface(iface: str) -> None:
    """Raise :class:`InputError` with one line when ``iface`` is not an interface here."""
    if sys.platform.startswith("linux") and iface == ANY:
        return
    try:
        socket.if_nametoindex(iface)
    except (OSError, ValueError) as exc:
        names = ", ".join(interface_names()) or "none found"
        raise InputError(f"unknown interface {iface!r} (available: {names})") from exc


def _arphrd(iface: str) -> int | None:
    try:
        return int(Path("/sys/class/net", iface, "type").read_text().strip())
    except (OSError, ValueError):
        return None


def link_type(iface: str) -> int:
    """pcap link type of the frames a capture on ``iface`` gives (Linux rules, see module doc)."""
    if not sys.platform.startswith("linux"):
        return LINKTYPE_ETHERNET
    hw = None if iface == ANY else _arphrd(iface)
    if hw in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
        return LINKTYPE_ETHERNET
    if hw == ARPHRD_NONE:
        return LINKTYPE_RAW
    return LINKTYPE_LINUX_SLL


def _loopback_names() -> set[str]:
    out = {"lo"}
    base = Path("/sys/class/net")
    if base.is_dir():
        for p in base.iterdir():
            if _arphrd(p.name) == ARPHRD_LOOPBACK:
                out.add(p.name)
    return out


# ----------------------------------------------------------------------------- BPF
def _compile(bpf: str, linktype: int) -> Any:
    """libpcap's compiled program for ``bpf``; the caller frees it with ``free_filter``."""
    try:
        from scapy.arch.common import compile_filter
        from scapy.error import Scapy_Exception
    except (ImportError, OSError) as exc:
        raise InputError(f"BPF filters need scapy and libpcap ({exc})") from exc
    # the kernel runs the filter on what the socket delivers: for cooked sockets that is the
    # network layer, so compile for raw IP
    dlt = LINKTYPE_RAW if linktype in (LINKTYPE_RAW, LINKTYPE_LINUX_SLL) else linktype
    try:
        return compile_filter(bpf, linktype=dlt)
    except ImportError as exc:
        raise InputError(
            "BPF filters need libpcap (Debian/Ubuntu: apt-get install libpcap0.8)"
        ) from exc
    except Scapy_Exception as exc:
        detail = str(exc).split("(", 1)[-1].rstrip(")") if "(" in str(exc) else str(exc)
        raise InputError(f"bad BPF filter {bpf!r}: {detail}") from exc


def check_filter(bpf: str, iface: str) -> None:
    """Raise :class:`InputError` with one line when ``bpf`` does not compile for ``iface``."""
    if not bpf:
        return
    from scapy.arch.common import free_filter

    free_filter(_compile(bpf, link_type(iface)))


# classic BPF (linux/filter.h): load the packet type, compare, return
_INSN = struct.Struct("=HBBI")
_LD_PKTTYPE = _INSN.pack(0x20, 0, 0, (SKF_AD_OFF + SKF_AD_PKTTYPE) & 0xFFFFFFFF)
#: prefix that drops outgoing copies: if pkttype == PACKET_OUTGOING return 0, else go on
_SKIP_OUTGOING = _LD_PKTTYPE + _INSN.pack(0x15, 0, 1, PACKET_OUTGOING) + _INSN.pack(6, 0, 0, 0)
#: a filter that passes nothing: attached when the capture stops
_NOTHING = _INSN.pack(6, 0, 0, 0)


def _set_filter(sock: socket.socket, program: bytes) -> None:
    """Attach the classic BPF ``program`` (8-byte instructions) to ``sock``."""
    import ctypes

    insns = ctypes.create_string_buffer(program, len(program))

    class _Fprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    fprog = _Fprog(len(program) // _INSN.size, ctypes.addressof(insns))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))


def _attach(sock: socket.socket, bpf: str, linktype: int, skip_outgoing: bool) -> None:
    """Attach the user's filter, behind the prefix that drops outgoing copies if asked."""
    program = _INSN.pack(6, 0, 0, SNAPLEN)  # everything
    if bpf:
        import ctypes

        from scapy.arch.common import free_filter

        prog = _compile(bpf, linktype)
        try:
            program = ctypes.string_at(prog.bf_insns, prog.bf_len * _INSN.size)
        finally:
            free_filter(prog)
    # jumps are relative, so the user's program runs unchanged behind the prefix
    _set_filter(sock, (_SKIP_OUTGOING if skip_outgoing else b"") + program)


# ----------------------------------------------------------------------------- capture
class LiveCapture:
    """An open capture: :meth:`read` frames, :meth:`stats`, :meth:`close` (or ``with``)."""

    iface: str
    linktype: int
    bpf: str

    def read(self, timeout: float) -> list[RawPacket]:
        """Frames available within ``timeout`` seconds (up to a batch; [] when none came)."""
        raise NotImplementedError

    def drain(self, max_seconds: float = 1.0) -> list[RawPacket]:
        """The frames already queued, without waiting (call before :meth:`close`).

        Bounded by ``max_seconds`` so that a busy interface cannot keep it going for ever.
        """
        out: list[RawPacket] = []
        end = time.monotonic() + max_seconds
        while time.monotonic() < end and (batch := self.read(0.0)):
            out.extend(batch)
        return out

    def stats(self) -> CaptureStats:
        raise NotImplementedError

    def stop(self) -> None:
        """Take no more packets; what is queued can still be read (then :meth:`drain`)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _packet_socket(kind: int, proto: int) -> socket.socket:
    return socket.socket(socket.AF_PACKET, kind, proto)


def _flush(sock: socket.socket) -> None:
    """Discard what a non-blocking socket queued before its filter was attached."""
    while True:
        try:
            sock.recv(1)
        except (BlockingIOError, InterruptedError):
            return


class _LinuxCapture(LiveCapture):
    def __init__(self, iface: str, bpf: str, snaplen: int) -> None:
        self.iface, self.bpf, self.snaplen = iface, bpf, snaplen
        self.linktype = link_type(iface)
        self.cooked = self.linktype == LINKTYPE_LINUX_SLL
        self._loopbacks = _loopback_names()
        kind = socket.SOCK_DGRAM if self.cooked else socket.SOCK_RAW
        try:
            # one interface: protocol 0 queues nothing until bind, so no frame escapes the
            # filter; "any" cannot be bound, so it starts at once and is flushed after the filter
            sock = _packet_socket(kind, socket.htons(ETH_P_ALL) if iface == ANY else 0)
        except PermissionError as exc:
            raise InputError(PRIVILEGE_HINT) from exc
        self.sock = sock
        self._received = self._dups = self._k_packets = self._k_drops = 0
        self._k_reported = True
        # on a loopback device the kernel drops the outgoing copies, so its counters count
        # each packet once ("any" keeps them: outgoing packets of other devices are wanted)
        skip_outgoing = iface != ANY and iface in self._loopbacks
        try:
            if bpf or skip_outgoing:
                _attach(sock, bpf, self.linktype, skip_outgoing)
            for opt, value in ((SO_RCVBUFFORCE, RCVBUF), (socket.SO_RCVBUF, RCVBUF)):
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, value)
                    break
                except OSError:
                    continue
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            if iface != ANY:
                sock.bind((iface, ETH_P_ALL))
        except PermissionError as exc:
            sock.close()
            raise InputError(PRIVILEGE_HINT) from exc
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise InputError(f"unknown interface {iface!r}") from exc
            if exc.errno == errno.ENETDOWN:
                raise InputError(f"interface {iface!r} is down") from exc
            raise InputError(f"cannot capture on {iface!r}: {exc.strerror or exc}") from exc
        except InputError:
            sock.close()
            raise
        sock.setblocking(False)
        if iface == ANY:
            _flush(sock)
        self._kernel_stats()  # starts the counters at zero

    def _kernel_stats(self) -> None:
        if not self._k_reported:
            return
        try:
            raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS.size)
        except OSError:
            self._k_reported = False
            return
        packets, drops = _STATS.unpack(raw)  # the kernel resets them on every read
        self._k_packets += packets
        self._k_drops += drops

    def _frame(self, data: bytes, anc: list[tuple[int, int, bytes]], addr: Any) -> RawPacket:
        wirelen = len(data)
        ts_ticks = None
        aux = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("=qq" if len(value) >= 16 else "=ii", value[:16])
                ts_ticks = sec * US + nsec // 1000
            elif level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= _AUX.size:
                aux = _AUX.unpack_from(value)
        if ts_ticks is None:
            ts_ticks = time.time_ns() // 1000
        if aux is not None:
            status, tp_len, _snap, _mac, _net, tci, tpid = aux
            wirelen = tp_len
            vlan = status & TP_STATUS_VLAN_VALID or tci
            if vlan and self.linktype == LINKTYPE_ETHERNET and len(data) >= 12:
                tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                data = data[:12] + struct.pack(">HH", tpid, tci) + data[12:]
                wirelen += 4
        if self.cooked:
            _name, proto, pkttype, hatype, hwaddr = addr[:5]
            head = _SLL.pack(pkttype, hatype, len(hwaddr), hwaddr[:8].ljust(8, b"\0"), proto)
            data = head + data
            wirelen += len(head)
        return RawPacket(ts_ticks * TICK, self.linktype, data, max(wirelen, len(data)))

    def read(self, timeout: float) -> list[RawPacket]:
        out: list[RawPacket] = []
        if timeout > 0:
            ready, _w, _x = select.select([self.sock], [], [], timeout)
            if not ready:
                return out
        sock, loopbacks = self.sock, self._loopbacks
        while len(out) < BATCH:
            try:
                data, anc, _flags, addr = sock.recvmsg(self.snaplen, 256, socket.MSG_TRUNC)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:
                    raise InputError(f"interface {self.iface!r} went down") from exc
                raise InputError(
                    f"capture on {self.iface!r} failed: {exc.strerror or exc}"
                ) from exc
            if addr[2] == PACKET_OUTGOING and addr[0] in loopbacks:
                self._dups += 1
                continue
            self._received += 1
            out.append(self._frame(data, anc, addr))
        return out

    def stats(self) -> CaptureStats:
        if self.sock.fileno() >= 0:
            self._kernel_stats()
        return CaptureStats(
            received=self._received,
            loopback_duplicates=self._dups,
            kernel_received=self._k_packets if self._k_reported else None,
            kernel_dropped=self._k_drops if self._k_reported else None,
        )

    def stop(self) -> None:
        if self.sock.fileno() >= 0:
            _set_filter(self.sock, _NOTHING)

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self._kernel_stats()
            self.sock.close()


class _ScapyCapture(LiveCapture):  # pragma: no cover - exercised on non-Linux platforms only
    """scapy's layer-2 listening socket (BPF devices, Npcap): raw bytes, no dissection."""

    def __init__(self, iface: str, bpf: str, snaplen: int) -> None:
        from scapy.config import conf
        from scapy.error import Scapy_Exception

        self.iface, self.bpf, self.snaplen = iface, bpf, snaplen
        try:
            self.sock = conf.L2listen(iface=iface, filter=bpf or None)
        except PermissionError as exc:
            raise InputError(PRIVILEGE_HINT) from exc
        except (OSError, Scapy_Exception) as exc:
            if "ermission" in str(exc):
                raise InputError(PRIVILEGE_HINT) from exc
            raise InputError(f"cannot capture on {iface!r}: {exc}") from exc
        self.linktype = LINKTYPE_ETHERNET
        ll = getattr(self.sock, "LL", None)
        if ll is not None:
            self.linktype = int(conf.l2types.layer2num.get(ll, LINKTYPE_ETHERNET))
        self._received = 0

    def read(self, timeout: float) -> list[RawPacket]:
        out: list[RawPacket] = []
        ready = type(self.sock).select([self.sock], timeout)
        while ready and len(out) < BATCH:
            _cls, data, ts = self.sock.recv_raw(self.snaplen)
            if data:
                ticks = round((ts if ts else time.time()) * US)
                self._received += 1
                out.append(RawPacket(ticks * TICK, self.linktype, data, len(data)))
            ready = type(self.sock).select([self.sock], 0)
        return out

    def stats(self) -> CaptureStats:
        return CaptureStats(received=self._received)

    def close(self) -> None:
        self.sock.close()


def open_live(iface: str, bpf: str = "", snaplen: int = SNAPLEN) -> LiveCapture:
    """Start capturing on ``iface``; :class:`InputError` (one line) for every user-side problem."""
    check_interface(iface)
    check_filter(bpf, iface)
    if sys.platform.startswith("linux"):
        return _LinuxCapture(iface, bpf, snaplen)
    return _ScapyCapture(iface, bpf, snaplen)  # pragma: no cover


# ----------------------------------------------------------------------------- pcapng writer
def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(kind: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


class PcapngWriter:
    """A pcapng file with one interface: SHB + IDB, then one EPB per frame, an ISB at close.

    Timestamps are written in microseconds (the default resolution, so no ``if_tsresol``);
    each frame is written whole, so a file cut short by a crash is still readable up to it.
    """

    def __init__(
        self, path: str | os.PathLike[str], linktype: int, iface: str, bpf: str = ""
    ) -> None:
        self.path = str(path)
        try:
            self._out: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write ({exc.strerror or exc})") from exc
        self.frames = 0
        self._first = self._last = 0
        opts = _opt(4, f"conference-inspector {__version__}".encode()) + _opt(0, b"")
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts
        idb_opts = _opt(2, iface.encode("utf-8", "backslashreplace"))
        if bpf:
            idb_opts += _opt(11, b"\0" + bpf.encode("utf-8", "backslashreplace"))
        idb = struct.pack("<HHI", linktype, 0, SNAPLEN) + idb_opts + _opt(0, b"")
        self._out.write(_block(0x0A0D0D0A, shb) + _block(1, idb))

    def write(self, packet: RawPacket) -> None:
        ticks = round(packet.ts * US)
        if not self.frames:
            self._first = ticks
        self._last = ticks
        self.frames += 1
        data = packet.data
        body = struct.pack(
            "<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), max(packet.wirelen, len(data))
        )
        self._out.write(_block(6, body + data + b"\0" * (-len(data) % 4)))

    def close(self, stats: CaptureStats | None = None) -> None:
        if self._out.closed:
            return
        if stats is not None and stats.kernel_received is not None:
            end = self._last or time.time_ns() // 1000
            opts = b"".join(
                _opt(code, struct.pack("<II", value >> 32, value & 0xFFFFFFFF))
                for code, value in ((2, self._first or end), (3, end))
            )
            opts += _opt(4, struct.pack("<Q", stats.kernel_received))
            opts += _opt(5, struct.pack("<Q", stats.kernel_dropped or 0))
            body = struct.pack("<III", 0, end >> 32, end & 0xFFFFFFFF) + opts + _opt(0, b"")
            self._out.write(_block(5, body))
        self._out.close()
