"""Which side of each flow is the client: protocol evidence first, then the local client address.

The client address is ``--client`` when given; otherwise the busiest local (private) endpoint of
the capture, or the busiest endpoint at all when no address is local.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from inspector.attribute.local import is_local

__all__ = ["CLIENT_EVIDENCE_TABLES", "guess_client", "needs_flip"]

#: Tables whose ``client_is_orig`` column says who sent the ClientHello or the request.
CLIENT_EVIDENCE_TABLES = ("tls", "quic", "http", "dtls")


def guess_client(flows: Iterable[Any]) -> str:
    """The busiest local endpoint (by packets), else the busiest endpoint; "" without flows."""
    local: Counter[str] = Counter()
    every: Counter[str] = Counter()
    for f in flows:
        n = int(f.orig_pkts) + int(f.resp_pkts)
        for addr in (f.orig_h, f.resp_h):
            every[addr] += n
            if is_local(addr) and not _multicast(addr):
                local[addr] += n
    counts = local or every
    if not counts:
        return ""
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _multicast(addr: str) -> bool:
    if ":" in addr:
        return addr.lower().startswith("ff")
    first = int(addr.split(".", 1)[0])
    return 224 <= first <= 239 or addr == "255.255.255.255"


def needs_flip(flow: Any, client: str, evidence: Mapping[str, Mapping[str, list[Any]]]) -> bool:
    """True when the flow's responder is the client side."""
    for table in CLIENT_EVIDENCE_TABLES:
        for row in evidence.get(table, {}).get(flow.uid, []):
            value = getattr(row, "client_is_orig", None)
            if value is not None:
                return not bool(value)
    return flow.resp_h == client and flow.orig_h != client
