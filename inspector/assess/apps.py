"""Which conferencing application each flow belongs to, and why.

Evidence, strongest first: the server name or address matched a vendor's published domains or
ranges (attribution), a vendor fingerprint in STUN, a documented app signature, Zoom's own media
framing, the same local port as an already attributed media/STUN flow (peer-to-peer media set up
through the vendor), and finally generic WebRTC (STUN + DTLS on one flow). Ports alone are never
proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.assess.profiles import UNKNOWN_WEBRTC, profile_for_stun, profile_for_vendor
from inspector.attribute.stage import Attribution
from inspector.evidence import Endpoints, FlowEvidence
from inspector.schema.stun import StunRow

__all__ = ["AppDecision", "decide_apps", "ice_both_ways", "ice_lite_server"]

#: Peer-to-peer media reuses the local port of an app's flow within this many seconds.
P2P_WINDOW_S = 300.0
#: Ports of name services: never peer-to-peer media.
NAME_SERVICE_PORTS = frozenset({53, 5353, 5355, 853})


@dataclass(frozen=True, slots=True)
class AppDecision:
    app: str
    reason: str
    p2p: bool = False
    #: False when the app comes from another flow (same local port): it then groups sessions
    #: but is not the flow's app (verdict and role rules, the published ``app`` column)
    own: bool = True


Decider = Callable[[FlowEvidence, Attribution], AppDecision | None]


def _by_vendor(ev: FlowEvidence, att: Attribution) -> AppDecision | None:
    p = profile_for_vendor(att.owner.vendor)
    if p is None:
        return None
    where = att.name.name or att.ends.server_h
    return AppDecision(p.name, f"{where} belongs to {p.name} ({att.owner.source.split(':')[0]})")


def _by_stun(ev: FlowEvidence, att: Attribution) -> AppDecision | None:
    for s in ev.stun:
        p = profile_for_stun(s.vendor_hint)
        if p is not None:
            attrs = s.vendor_attrs or s.realm
            return AppDecision(
                p.name,
                f"STUN vendor fingerprint {s.vendor_hint}"
                + (f" ({attrs})" if attrs else "")
                + f" in frame {s.frame}",
            )
    return None


def _by_signature(ev: FlowEvidence, att: Attribution) -> AppDecision | None:
    for r in ev.signatures:
        return AppDecision(r.app, f"{r.detail}, frame {r.frame}")
    return None


def _by_zoom_framing(ev: FlowEvidence, att: Attribution) -> AppDecision | None:
    for r in ev.rtp:
        if r.framing.startswith("zoom"):
            return AppDecision(
                "Zoom",
                f"Zoom media framing ({r.framing}) with valid RTP inside, first in frame {r.frame}",
                p2p=r.framing == "zoom_p2p",
            )
    return None


def _by_zoom_content(ev: FlowEvidence, att: Attribution) -> AppDecision | None:
    """Zoom hellos or SFU control framing among the flow's own datagrams (content classes)."""
    for c in ev.content:
        if c.zoom_control or c.zoom_media:
            first = [p for p in c.first_frames.split(";") if p.startswith("zoom_")]
            where = f", first {first[0]}" if first else ""
            return AppDecision(
                "Zoom",
                f"Zoom hellos/control framing (nDPI zoom.c layouts) in {c.zoom_control} datagrams"
                + where,
            )
    return None


#: Direct evidence, strongest first; the first that applies decides.
DIRECT: tuple[Decider, ...] = (
    _by_vendor,
    _by_stun,
    _by_signature,
    _by_zoom_framing,
    _by_zoom_content,
)


def _check_senders(stun: Sequence[StunRow], ends: Endpoints) -> set[bool]:
    """For each Binding request: whether the client sent it."""
    return {
        ends.sent_by_client(r.from_orig)
        for r in stun
        if r.method.lower() == "binding" and r.msg_class.lower() == "request"
    }


def ice_both_ways(stun: Sequence[StunRow], ends: Endpoints) -> bool:
    """Both ends sent Binding requests: full ICE on both sides, as between two participants
    (an ICE-lite SFU never sends checks)."""
    return _check_senders(stun, ends) == {True, False}


def ice_lite_server(stun: Sequence[StunRow], ends: Endpoints) -> bool:
    """Only the client side sent Binding requests: the far end is ICE-lite, i.e. a media server."""
    return _check_senders(stun, ends) == {True}


def decide_apps(
    evidence: Sequence[FlowEvidence], atts: dict[str, Attribution]
) -> dict[str, AppDecision]:
    """uid -> decision for every flow that has app evidence."""
    out: dict[str, AppDecision] = {}
    for ev in evidence:
        att = atts[ev.uid]
        for decide in DIRECT:
            d = decide(ev, att)
            if d is not None:
                out[ev.uid] = d
                break
    _p2p_by_port(evidence, atts, out)
    for ev in evidence:
        if ev.uid not in out and ev.stun and ev.dtls:
            att = atts[ev.uid]
            both = ice_both_ways(ev.stun, att.ends)
            out[ev.uid] = AppDecision(
                UNKNOWN_WEBRTC,
                "STUN and DTLS on one flow (WebRTC), no vendor fingerprint"
                + ("; both ends send ICE checks (peer-to-peer)" if both else ""),
                p2p=both and not att.owner.vendor,
            )
    return out


def _p2p_by_port(
    evidence: Sequence[FlowEvidence], atts: dict[str, Attribution], out: dict[str, AppDecision]
) -> None:
    """UDP flows reusing the local port of an attributed STUN/media flow: the app's P2P media."""
    seen: dict[tuple[str, int], list[tuple[float, float, str, str]]] = {}
    for ev in evidence:
        d = out.get(ev.uid)
        if d is not None and ev.conn.proto == "udp":
            e = atts[ev.uid].ends
            end = ev.conn.ts + ev.conn.duration_s
            seen.setdefault((e.client_h, e.client_p), []).append((ev.conn.ts, end, d.app, ev.uid))
    for ev in evidence:
        e = atts[ev.uid].ends
        if ev.uid in out or ev.conn.proto != "udp" or e.server_p in NAME_SERVICE_PORTS:
            continue
        for start, end, app, uid in seen.get((e.client_h, e.client_p), []):
            if start - P2P_WINDOW_S <= ev.conn.ts <= end + P2P_WINDOW_S:
                out[ev.uid] = AppDecision(
                    app,
                    f"same local port {e.client_h}:{e.client_p} as {app} "
                    f"flow {uid} (peer-to-peer media)",
                    p2p=True,
                    own=False,
                )
                break
