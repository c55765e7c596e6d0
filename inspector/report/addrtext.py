"""Real addresses and MACs as they can appear in bytes: text forms, same-length pseudonym text,
and a scanner for what must not remain in a published file (:mod:`inspector.report.rewrite`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "COOKIE",
    "Scanner",
    "blank",
    "case",
    "fit_v4",
    "fit_v6",
    "labels",
    "pattern",
    "scan",
    "text_forms",
    "xor",
]

#: the STUN magic cookie (RFC 5389): XOR-ed addresses are XOR-ed with it
COOKIE = b"\x21\x12\xa4\x42"


def xor(data: bytes | bytearray, key: bytes) -> bytes:
    return bytes(x ^ k for x, k in zip(data, key, strict=False))


def _widths(mins: list[int], total: int, most: int) -> list[int] | None:
    if not sum(mins) <= total <= most * len(mins):
        return None
    widths, extra = list(mins), total - sum(mins)
    for i in range(len(widths)):
        add = min(extra, most - widths[i])
        widths[i] += add
        extra -= add
    return widths


def fit_v4(octets: Iterable[int], digits: int) -> str | None:
    octs = list(octets)
    widths = _widths([len(str(o)) for o in octs], digits, 3)
    if widths is None:
        return None
    return ".".join(f"{o:0{w}d}" for o, w in zip(octs, widths, strict=True))


def fit_v6(address: str, length: int) -> str | None:
    """``address`` written in exactly ``length`` characters (zero groups, leading zeros)."""
    packed = ipaddress.IPv6Address(address).packed
    values = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    start, k, i = 8, 0, 0
    while i < 8:
        j = i
        while j < 8 and values[j] == 0:
            j += 1
        if j - i > k:
            start, k = i, j - i
        i = max(j, i + 1)
    for shown in range(k + 1):
        hidden = k - shown
        left = values[:start] + [0] * shown if hidden else values
        right = values[start + k :] if hidden else []
        colons = max(len(left) - 1, 0) + max(len(right) - 1, 0) + 2 if hidden else 7
        widths = _widths([len(f"{v:x}") for v in left + right], length - colons, 4)
        if widths is None:
            continue
        texts = [f"{v:0{w}x}" for v, w in zip(left + right, widths, strict=True)]
        if not hidden:
            return ":".join(texts)
        return ":".join(texts[: len(left)]) + "::" + ":".join(texts[len(left) :])
    return None


def case(text: str, like: str) -> str:
    return text.upper() if like.upper() == like and like.lower() != like else text


def text_forms(real: str) -> list[str]:
    """How a real address or MAC can be written as text (for :func:`scan` and the rewrite)."""
    if re.fullmatch(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}", real):
        forms = [real, real.replace(":", "-")]
        return forms + [f.upper() for f in forms]
    ip = ipaddress.ip_address(real)
    if ip.version == 4:
        return [real, ip.reverse_pointer]
    forms = [ip.compressed, ip.exploded, ip.reverse_pointer]
    return list(dict.fromkeys(forms + [f.upper() for f in forms[:2]]))


def labels(real: str) -> bytes:
    """The reverse name of an IPv4 address as DNS labels (``\\x012\\x011...in-addr``)."""
    return (
        b"".join(bytes([len(o)]) + o.encode() for o in reversed(real.split("."))) + b"\x07in-addr"
    )


_BOUNDS = {
    "v4": (rb"(?<![0-9.])", rb"(?![0-9]|\.[0-9])"),
    "v6": (rb"(?<![0-9A-Fa-f:])", rb"(?![0-9A-Fa-f:])"),
    "mac": (rb"(?<![0-9A-Fa-f:-])", rb"(?![0-9A-Fa-f:-])"),
}


def _family(form: str) -> str:
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", form):
        return "mac"
    return "v6" if ":" in form or form.lower().endswith("ip6.arpa") else "v4"


def pattern(forms: Iterable[str]) -> re.Pattern[bytes] | None:
    """One case-insensitive pattern for ``forms``, each with its family's boundaries."""
    alts = []
    for form in sorted(set(forms), key=len, reverse=True):
        before, after = _BOUNDS[_family(form)]
        alts.append(before + re.escape(form.encode()) + after)
    return re.compile(b"|".join(alts), re.I) if alts else None


def blank(text: bytes) -> bytes:
    return re.sub(rb"[0-9A-Fa-f]", b"x", text)


class Scanner:
    """Finds ``reals`` (addresses, MACs) in bytes: packed, XOR-ed as in STUN (IPv4), as DNS
    reverse labels, and as text in any usual form (reverse names included)."""

    def __init__(self, reals: Iterable[str]) -> None:
        self.reals = sorted(set(reals))
        needles: dict[bytes, str] = {}
        forms: list[str] = []
        self._text_of: dict[str, str] = {}
        for real in self.reals:
            if _family(real) == "mac":
                needles[bytes.fromhex(real.replace(":", ""))] = real
            else:
                ip = ipaddress.ip_address(real)
                needles[ip.packed] = real
                if ip.version == 4:
                    needles[xor(ip.packed, COOKIE)] = real
                    needles[labels(real)] = real
            for form in text_forms(real):
                forms.append(form)
                self._text_of[form.lower()] = real
        self._needles = needles
        self._binary = (
            re.compile(b"|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
            if needles
            else None
        )
        self._text = pattern(forms)

    def find(self, data: bytes) -> list[tuple[str, int]]:
        """(real, offset) of every occurrence in ``data``."""
        hits: list[tuple[str, int]] = []
        if self._binary is not None:
            hits += [(self._needles[m.group()], m.start()) for m in self._binary.finditer(data)]
        if self._text is not None:
            for m in self._text.finditer(data):
                hits.append((self._text_of.get(m.group().decode().lower(), "?"), m.start()))
        return hits


def scan(data: bytes, reals: Iterable[str]) -> list[tuple[str, int]]:
    """Every place ``data`` holds one of ``reals`` (see :class:`Scanner`); (real, offset)."""
    return Scanner(reals).find(data)
