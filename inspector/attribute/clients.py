"""Which app a flow's own client is, from fingerprints in the flow's packets.

A telemetry flow rarely carries its app's vendor evidence (it goes to somebody else's server),
but its client sometimes names itself on the wire:

* **Meta's QUIC stack.** QUIC versions ``0xfaceb00X`` (``mvfst-*``) are Meta's own QUIC
  implementation (https://github.com/facebook/mvfst: "used at Facebook"); only Meta's apps and
  servers speak them, so a client offering one is a Meta app (:data:`META_MVFST_APP`).
* **A User-Agent naming a registered app.** A product token of the HTTP (or decrypted HTTP/3)
  ``User-Agent`` that is an app name or alias of :mod:`inspector.apps` ("WhatsApp/2.23.1 ...",
  "Viber/...", "Zoom/...").

The session's app is never a fingerprint: a flow that names no app keeps no app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inspector.apps import AppProfile, app_named, meta_mvfst_app
from inspector.evidence import FlowEvidence

__all__ = ["ClientApp", "client_app"]

_TOKEN = re.compile(r"([A-Za-z][A-Za-z0-9 ._-]{0,40}?)/\d")


@dataclass(frozen=True, slots=True)
class ClientApp:
    """The app a client fingerprint names, and the wire evidence."""

    app: AppProfile
    evidence: str


def _by_mvfst(ev: FlowEvidence) -> ClientApp | None:
    for q in ev.quic:
        if q.version.startswith("mvfst"):
            return ClientApp(
                meta_mvfst_app(),
                f"QUIC version {q.version} in frame {q.frame}: Meta's own QUIC stack (mvfst)",
            )
    return None


def _by_user_agent(ev: FlowEvidence) -> ClientApp | None:
    agents = [(h.user_agent, h.frame) for h in ev.http] + [(q.user_agent, q.frame) for q in ev.quic]
    for ua, frame in agents:
        for token in _TOKEN.findall(ua or ""):
            p = app_named(token)
            if p is not None and p.entity:
                return ClientApp(p, f"User-Agent {ua[:80]!r} in frame {frame}")
    return None


def client_app(ev: FlowEvidence) -> ClientApp | None:
    """The app the flow's own client fingerprint names, or None."""
    return _by_mvfst(ev) or _by_user_agent(ev)
