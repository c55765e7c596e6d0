"""Which side of each flow is the client: protocol evidence first, then the local client address.

The client address is ``--client`` when given; otherwise the busiest local (private) endpoint of
the capture, or the busiest endpoint at all when no address is local.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from inspector.attribute.local import is_local
from inspector.evidence import FlowEvidence
from inspector.schema.flows import FlowRow

__all__ = ["client_is_orig", "guess_client"]


def guess_client(flows: Iterable[FlowRow]) -> str:
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


def client_is_orig(ev: FlowEvidence, client: str) -> bool:
    """True when the flow's originator (first packet) is the client side.

    Protocol evidence decides first (who sent the ClientHello or the request); otherwise the
    side that is the capture's client address.
    """
    for rows in (ev.tls, ev.quic, ev.http, ev.dtls):
        for row in rows:
            if row.client_is_orig is not None:
                return bool(row.client_is_orig)
    return not (ev.conn.resp_h == client and ev.conn.orig_h != client)
