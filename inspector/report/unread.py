"""What the run could not read: TLS and QUIC connections whose content no logged key opened.

Facts come from the published ``flows`` table (``content_decrypted``, set from the evidence
stage: a completed handshake, and whether a logged secret opened the flow); this module only
counts them and words them, for the HTML report and the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inspector.report.text import plain

__all__ = ["GUIDE", "HOW_TO_READ", "Unread", "headline", "unread", "unread_lines"]

#: the guide shipped with the project
GUIDE = "docs/decryption.md"

#: how to get keys for one's own client, one line each (the guide has the details)
HOW_TO_READ = (
    "Browsers and desktop clients: set SSLKEYLOGFILE before starting the client, capture at the "
    "same time, and run with --keylog FILE.",
    "Android: PCAPdroid with its decryption add-on exports a pcapng with the secrets embedded; "
    "analyse it as it is.",
    "Otherwise: run the client through mitmproxy (--mitm FILE) or save a browser's requests as "
    "HAR (--har FILE).",
)

#: destinations named in the summary
TOP = 5


@dataclass
class Unread:
    """Counts over the published flows (no prose)."""

    flows: int = 0  #: completed TLS/QUIC handshakes whose content no logged key opened
    destinations: int = 0
    decrypted: int = 0  #: flows a logged key opened
    top: list[tuple[str, int]] = field(default_factory=list)  #: (destination, flows)
    listed: list[dict[str, str]] = field(default_factory=list)  #: unread flows (partial keys)

    @property
    def partial(self) -> bool:
        """Some flows were decrypted, others not: keys were given for only part of them."""
        return self.decrypted > 0 and self.flows > 0


def _destination(r: Any) -> str:
    return plain(r.server_name) or plain(r.resp_h)


def unread(flows: pd.DataFrame | None, limit: int = 50) -> Unread:
    """Count the flows of ``flows`` by ``content_decrypted``; ``limit`` unread flows listed."""
    out = Unread()
    if flows is None or flows.empty or "content_decrypted" not in flows:
        return out
    state = flows["content_decrypted"]
    out.decrypted = int((state == True).sum())  # noqa: E712 (nullable boolean column)
    closed = flows[(state == False).fillna(False)]  # noqa: E712
    out.flows = len(closed)
    counts: dict[str, int] = {}
    for r in closed.itertuples(index=False):
        dest = _destination(r)
        counts[dest] = counts.get(dest, 0) + 1
    out.destinations = len(counts)
    out.top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    if out.partial:
        for r in closed.head(limit).itertuples(index=False):
            proto = "QUIC" if plain(r.proto) == "udp" else "TLS"
            out.listed.append(
                {"uid": plain(r.uid), "destination": _destination(r), "protocol": proto}
            )
    return out


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def headline(u: Unread) -> str:
    """One sentence: what could not be read ("" when everything was)."""
    if not u.flows:
        return ""
    one = u.flows == 1
    top = ", ".join(f"{d} {n}" for d, n in u.top)
    more = f" and {u.destinations - len(u.top)} more" if u.destinations > len(u.top) else ""
    who = f"{_plural(u.flows, 'TLS/QUIC flow')} to {_plural(u.destinations, 'destination')}"
    by = f"by destination: {top}{more}" if u.destinations > 1 else u.top[0][0]
    if u.partial:
        return (
            f"Logged keys opened {_plural(u.decrypted, 'flow')}; {who} stayed unread: no logged "
            f"key opened {'it' if one else 'them'} ({by})."
        )
    done = "its handshake completed" if one else "their handshakes completed"
    return (
        f"{who} could not be read without keys: {done} and what "
        f"{'it' if one else 'they'} carried is encrypted ({by})."
    )


def unread_lines(u: Unread) -> list[str]:
    """The terminal's lines: the headline and where to read how to get keys."""
    line = headline(u)
    if not line:
        return []
    return [line, f"To read your own client's traffic, see {GUIDE} (--keylog, --har, --mitm)."]
