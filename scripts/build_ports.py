"""vendors.csv ``ports`` rows -> the bundled ``ports.csv`` (documented vendor port ranges).

A port fact is weak evidence: ``shared`` marks 80/443/3478/5349, which every product uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable


class PortError(ValueError):
    """A protocol_ports cell that cannot be read."""


#: Ports that every product uses; a port fact on them is no evidence (STUN/TURN RFC 8489/8656).
SHARED_PORTS = frozenset({80, 443, 3478, 5349})

PORT_COLUMNS = (
    "vendor",
    "organisation",
    "transport",
    "port_low",
    "port_high",
    "category",
    "shared",
    "role",
    "detail",
    "source",
)


def _join(parts: Iterable[str]) -> str:
    seen: list[str] = []
    for p in parts:
        p = p.strip()
        if p and p not in seen:
            seen.append(p)
    return " ; ".join(seen)


def parse_ports(text: str) -> list[tuple[str, int, int, str]]:
    """``(transport, low, high, segment)`` from a protocol_ports cell (``;`` separates segments).

    Parenthesised remarks are dropped, ``TLS`` counts as TCP, ``TCP/UDP`` yields both, and a
    segment with no number (``TCP fallback``) yields nothing.
    """
    out = []
    for segment in text.split(";"):
        seg = segment.strip()
        bare = re.sub(r"\([^)]*\)", " ", seg)
        words = re.findall(r"\b(TCP/UDP|TCP|UDP|TLS|WSS)\b", bare)
        if not words:
            continue
        transports: list[str] = []
        for w in words:
            for t in ("tcp", "udp") if w == "TCP/UDP" else ("udp",) if w == "UDP" else ("tcp",):
                if t not in transports:
                    transports.append(t)
        for low, high in re.findall(r"\b(\d{2,5})(?:\s*-\s*(\d{2,5}))?\b", bare):
            lo, hi = int(low), int(high or low)
            if not 0 < lo <= hi <= 65535:
                raise PortError(f"bad port range {low}-{high} in {text!r}")
            for t in transports:
                out.append((t, lo, hi, seg))
    return out


def port_category(transport: str) -> str:
    """Port facts: UDP is the media path, TCP the signalling path (fallbacks included)."""
    return "first-party media" if transport == "udp" else "first-party signalling"


def build_ports(
    vendors: list[dict[str, str]], vendor_name: Callable[[str], str] = str.strip
) -> list[dict[str, str]]:
    rows: dict[tuple[str, str, int, int], dict[str, str]] = {}
    for r in vendors:
        if r["kind"] != "ports":
            continue
        vendor = vendor_name(r["vendor"])
        for transport, lo, hi, seg in parse_ports(r["protocol_ports"]):
            key = (vendor, transport, lo, hi)
            shared = all(p in SHARED_PORTS for p in range(lo, min(hi, lo + 10) + 1))
            new = {
                "vendor": vendor,
                "organisation": r["organisation"].strip(),
                "transport": transport,
                "port_low": str(lo),
                "port_high": str(hi),
                "category": port_category(transport),
                "shared": "true" if shared else "false",
                "role": f"{r['value'].strip()}: {r['role'].strip()}",
                "detail": seg,
                "source": r["source"].strip(),
            }
            if key in rows:
                old = rows[key]
                old["role"] = _join([old["role"], new["role"]])
                old["detail"] = _join([old["detail"], new["detail"]])
                old["source"] = _join([old["source"], new["source"]])
            else:
                rows[key] = new
    return [rows[k] for k in sorted(rows)]
