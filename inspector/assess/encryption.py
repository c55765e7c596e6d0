"""How each flow's content is protected: a verdict, its evidence, its caveat.

The taxonomy is in ``docs/verdicts.md`` (after the project's research notes): PLAINTEXT,
TRANSPORT_TLS, HOP_BY_HOP_SRTP, PROPRIETARY_ENCRYPTED, LIKELY_E2E, E2E_INDICATED, UNKNOWN, with
the modifiers WEAK_TLS, ECB_SUSPECTED and CLEARTEXT_DNS. Entropy is never used to claim
encryption: a verdict of encryption rests on a visible protocol (TLS, DTLS, SRTP, vendor framing),
and end-to-end is only said where the protocol or the app's documented design supports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inspector.assess.apps import ice_lite_server

__all__ = ["E2E_BY_DESIGN", "VERDICTS", "Verdict", "assess_flow"]

VERDICTS = (
    "PLAINTEXT",
    "TRANSPORT_TLS",
    "HOP_BY_HOP_SRTP",
    "PROPRIETARY_ENCRYPTED",
    "LIKELY_E2E",
    "E2E_INDICATED",
    "UNKNOWN",
)
#: Apps whose documentation says call media keys are derived only at the endpoints.
E2E_BY_DESIGN = {
    "Signal": "Signal's RingRTC derives SRTP keys from a Diffie-Hellman exchange between the two "
    "phones (signalapp/ringrtc core/signaling.rs)",
    "WhatsApp": "WhatsApp's encryption overview: the caller sends a random SRTP master secret "
    "inside an end-to-end encrypted Signal-protocol message",
    "FaceTime": "Apple Platform Security: FaceTime keys are exchanged between devices via IDS",
}
PERC_PROFILES = ("DOUBLE", "0x0009", "0x000a")
ZOOM_CAVEAT = (
    "Zoom documents AES-256-GCM with a meeting key generated and held by Zoom's servers unless "
    "the meeting uses Zoom's E2EE, which looks the same on the wire: no end-to-end claim can be "
    "made from the network. P2P does not mean end-to-end."
)
E2E_UNKNOWABLE = (
    "Key authenticity (whether the vendor swapped keys in signalling) cannot be "
    "seen on the network; users comparing security codes is what settles it."
)


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    modifiers: tuple[str, ...] = ()
    confidence: str = "medium"  #: high, medium, low
    evidence: str = ""
    caveat: str = ""
    reason: str = ""  #: reason code for UNKNOWN


def _rows(by_uid: Mapping[str, Mapping[str, list[Any]]], table: str, uid: str) -> list[Any]:
    return list(by_uid.get(table, {}).get(uid, []))


def assess_flow(
    f: Any, app: str, p2p: bool, by_uid: Mapping[str, Mapping[str, list[Any]]]
) -> Verdict:
    """The verdict for one flow (already attributed, with its app)."""
    uid = f.uid
    services = set((f.service or "").split(";"))
    if f.proto in ("icmp", "icmp6"):
        return Verdict(
            "PLAINTEXT",
            (),
            "high",
            "ICMP control messages are never encrypted.",
            "Carries no application content.",
        )
    if "dns" in services or (f.resp_p in (53, 5353, 5355) and f.proto in ("udp", "tcp")):
        q = _rows(by_uid, "dns", uid)
        names = ", ".join(sorted({r.query for r in q if r.query})[:3])
        return Verdict(
            "PLAINTEXT",
            ("CLEARTEXT_DNS",),
            "high",
            f"Cleartext DNS to {f.resp_h}:{f.resp_p}"
            + (f" asking for {names}" if names else "")
            + ".",
            "Anyone on the path (Wi-Fi, ISP) sees every name looked up.",
        )
    if f.resp_p == 853 and f.proto == "tcp":
        return Verdict(
            "TRANSPORT_TLS",
            (),
            "medium",
            f"DNS over TLS (port 853) to {f.resp_h}.",
            "Protects names from the path, not from the resolver.",
        )
    http = [r for r in _rows(by_uid, "http", uid) if not getattr(r, "inside_tls", False)]
    if http:
        h = http[0]
        return Verdict(
            "PLAINTEXT",
            (),
            "high",
            f"Cleartext HTTP {h.method} to {h.host or f.resp_h} in frame {h.frame}.",
            "Everything in the request and response is readable and changeable on the path.",
        )
    tls = _rows(by_uid, "tls", uid) + _rows(by_uid, "quic", uid)
    if tls:
        return _tls_verdict(f, tls, "quic" in services and not _rows(by_uid, "tls", uid))
    rtp = _rows(by_uid, "rtp", uid)
    dtls = _rows(by_uid, "dtls", uid)
    if dtls or rtp:
        return _media_verdict(f, app, p2p, dtls, rtp, by_uid)
    if services == {"stun"}:
        stun = _rows(by_uid, "stun", uid)
        carried = [r for r in stun if (r.method or "").lower() in ("send", "data")]
        if carried:
            return Verdict(
                "UNKNOWN",
                (),
                "low",
                f"TURN Send/Data indications carry relayed payloads (first in frame "
                f"{carried[0].frame}) that were not recognised as RTP, DTLS or STUN.",
                "What is inside the relay is not parsed, so its protection cannot be read here; "
                "the app's documentation or a capture on the other side of the relay would "
                "settle it.",
                "RELAYED_PAYLOAD_UNPARSED",
            )
        return Verdict(
            "PLAINTEXT",
            (),
            "high",
            "STUN/TURN connectivity checks only; STUN is never encrypted.",
            "STUN carries addresses and ICE credentials (which link the two ends of a call), "
            "not the conversation.",
        )
    if f.proto == "tcp" and app == "Zoom" and f.resp_p in (443, 8801, 8802):
        return Verdict(
            "UNKNOWN",
            (),
            "low",
            f"TCP {f.resp_p} to Zoom without a TLS handshake seen.",
            "Zoom falls back to TCP/TLS for media when UDP is blocked; without the "
            "handshake the protection cannot be read here.",
            "TCP_TLS_FALLBACK",
        )
    if app == "Zoom" and f.proto == "udp":
        return Verdict(
            "PROPRIETARY_ENCRYPTED",
            (),
            "low",
            f"UDP {f.resp_p} to Zoom without recognised RTP inside its framing.",
            ZOOM_CAVEAT,
            "NO_RTP_FOUND",
        )
    payload = int(f.orig_payload_bytes) + int(f.resp_payload_bytes)
    if payload == 0:
        return Verdict(
            "UNKNOWN", (), "low", "No payload bytes.", "Nothing to protect.", "NO_PAYLOAD"
        )
    return Verdict(
        "UNKNOWN",
        (),
        "low",
        f"{payload} payload bytes with no protocol recognised.",
        "The content may be encrypted or not: the network view does not say. Knowing "
        "the application protocol (vendor documentation or a decrypting proxy) would "
        "settle it.",
        "UNKNOWN_PROTOCOL",
    )


def _tls_verdict(f: Any, rows: list[Any], quic: bool) -> Verdict:
    r = rows[0]
    version = getattr(r, "version", "") or ("QUIC (TLS 1.3)" if quic else "")
    cipher = getattr(r, "cipher", "") or ""
    weak = getattr(r, "weak", "") or ""
    terminator = f.organisation or "an unidentified operator"
    name = f.server_name or f.resp_h
    mods = ("WEAK_TLS",) if weak else ()
    if not getattr(r, "server_hello_seen", False) and not version:
        proto = "QUIC" if quic else "TLS"
        ev = f"{proto} ClientHello to {name} (frame {r.frame}); no ServerHello seen."
        return Verdict(
            "TRANSPORT_TLS",
            mods,
            "medium",
            ev,
            f"Encrypted to the server, which {terminator} operates: it can read the "
            "content. The handshake was not seen completing.",
            "",
        )
    ev = (
        f"{version or 'TLS'}{' ' + cipher if cipher else ''} to {name}, terminated by "
        f"{terminator} (frame {r.frame})"
    )
    if weak:
        ev += f"; weak: {weak.replace(';', ', ')}"
    return Verdict(
        "TRANSPORT_TLS",
        mods,
        "high",
        ev + ".",
        f"Protects content from the network path only: {terminator} decrypts it. "
        "Data inside could carry its own end-to-end layer, which cannot be seen here.",
    )


def _media_verdict(
    f: Any,
    app: str,
    p2p: bool,
    dtls: list[Any],
    rtp: list[Any],
    by_uid: Mapping[str, Mapping[str, list[Any]]],
) -> Verdict:
    mods: list[str] = []
    ecb = [r for r in rtp if getattr(r, "ecb_suspected", False)]
    if ecb:
        mods.append("ECB_SUSPECTED")
    ecb_note = ""
    if ecb:
        r = ecb[0]
        ecb_note = (
            f" Identical 16-byte ciphertext blocks recur across packets "
            f"({r.ecb_repeated_blocks} distinct blocks at {r.ecb_block_indices} block "
            f"positions, e.g. {r.ecb_example_block} at {r.ecb_frames.split(';')[0]}): the "
            "signature of deterministic (ECB-like) encryption."
        )
    plain = [
        r
        for r in rtp
        if (getattr(r, "codec_match_fraction", None) or 0) >= 0.9
        and int(getattr(r, "packets", 0) or 0) >= 50
        and getattr(r, "kind", "rtp") == "rtp"
        and not (getattr(r, "framing", "") or "").startswith("zoom")
    ]
    if plain:
        r = plain[0]
        conf = "high" if int(r.packets) >= 200 else "medium"
        return Verdict(
            "PLAINTEXT",
            tuple(mods),
            conf,
            f"RTP payloads show {r.codec_guess} codec structure in "
            f"{float(r.codec_match_fraction):.0%} of {r.packets} packets (SSRC {r.ssrc})."
            + (f" {r.codec_evidence}." if getattr(r, "codec_evidence", "") else ""),
            "Anyone on the path can decode this audio/video.",
        )
    srtcp_clear = [
        r for r in rtp if getattr(r, "kind", "") == "rtcp" and getattr(r, "srtcp_e_flag", "") == "0"
    ]
    for d in dtls:
        if getattr(d, "null_srtp", False):
            return Verdict(
                "PLAINTEXT",
                tuple(mods),
                "high",
                f"DTLS-SRTP negotiated a NULL SRTP profile "
                f"({d.srtp_profile or d.srtp_profiles_offered}) in frame {d.frame}.",
                "Media is authenticated but not encrypted.",
            )
        offered = (getattr(d, "srtp_profiles_offered", "") or "") + (
            getattr(d, "srtp_profile", "") or ""
        )
        if any(p.lower() in offered.lower() for p in PERC_PROFILES):
            return Verdict(
                "E2E_INDICATED",
                tuple(mods),
                "medium",
                f"DTLS offered a double (PERC, RFC 8723) SRTP profile in frame {d.frame}.",
                E2E_UNKNOWABLE,
            )
    zoom = [r for r in rtp if (getattr(r, "framing", "") or "").startswith("zoom")]
    if zoom:
        kinds = sorted({r.zoom_media for r in zoom if getattr(r, "zoom_media", "")})
        where = (
            "peer-to-peer with another participant"
            if p2p or zoom[0].framing == "zoom_p2p"
            else f"to Zoom's server {f.resp_h}"
        )
        return Verdict(
            "PROPRIETARY_ENCRYPTED",
            tuple(mods),
            "medium",
            f"Zoom media framing ({', '.join(kinds) or 'media'}) {where}; RTP headers "
            "are readable, payloads are not." + ecb_note,
            ZOOM_CAVEAT
            + (
                " ECB is suspected from repeated ciphertext blocks, not confirmed by decryption."
                if ecb
                else ""
            ),
        )
    if srtcp_clear:
        r = srtcp_clear[0]
        return Verdict(
            "PLAINTEXT",
            tuple(mods),
            "high",
            f"SRTCP packets carry E=0 (not encrypted), SSRC {r.ssrc}.",
            "Control packets (RTCP) are readable; media may still be encrypted.",
        )
    vendor_server = bool(f.vendor) or (f.category or "").startswith("first-party")
    if dtls:
        d = dtls[0]
        prof = getattr(d, "srtp_profile", "") or getattr(d, "srtp_profiles_offered", "")
        if vendor_server and not p2p:
            return Verdict(
                "HOP_BY_HOP_SRTP",
                tuple(mods),
                "high",
                f"DTLS-SRTP handshake ({prof or 'profile not seen'}) with "
                f"{f.organisation or f.resp_h}'s media server {f.resp_h} (frame "
                f"{d.frame}), then SRTP." + ecb_note,
                f"{f.organisation or 'The server operator'} terminates DTLS and can "
                "decrypt the media. An end-to-end layer inside SRTP (Insertable "
                "Streams/SFrame), if enabled, would not be visible here.",
            )
        if not p2p and ice_lite_server(_rows(by_uid, "stun", f.uid)):
            return Verdict(
                "HOP_BY_HOP_SRTP",
                tuple(mods),
                "medium",
                f"DTLS-SRTP handshake ({prof or 'profile not seen'}) with {f.resp_h}, which "
                f"acts as a media server: it answers connectivity checks but never sends its own "
                f"(ICE-lite) (frame {d.frame})." + ecb_note,
                "Whoever runs that server terminates DTLS and can decrypt the media; its operator "
                "is not identified here. An end-to-end layer inside SRTP, if enabled, would not "
                "be visible.",
            )
        if app in E2E_BY_DESIGN:
            return Verdict(
                "LIKELY_E2E",
                tuple(mods),
                "medium",
                f"DTLS-SRTP between the two endpoints ({f.orig_h} and {f.resp_h}); "
                f"{E2E_BY_DESIGN[app]}.",
                E2E_UNKNOWABLE,
            )
        return Verdict(
            "UNKNOWN",
            tuple(mods),
            "medium",
            f"DTLS-SRTP ({prof or 'profile not seen'}) directly between {f.orig_h} and "
            f"{f.resp_h}, not with a known vendor server (frame {d.frame}).",
            "Keys are negotiated between the two endpoints, but the certificate "
            "fingerprints travel through the app's signalling, which could substitute "
            "them. Whether this is end-to-end depends on the app; identifying it (or "
            "comparing security codes) would settle it. " + E2E_UNKNOWABLE,
            "P2P_DTLS_APP_UNKNOWN",
        )
    if app in E2E_BY_DESIGN:
        return Verdict(
            "LIKELY_E2E",
            tuple(mods),
            "medium",
            f"{app} media as SRTP with no DTLS on the path: keys come from the app's "
            f"own exchange; {E2E_BY_DESIGN[app]}.",
            E2E_UNKNOWABLE,
        )
    if vendor_server:
        return Verdict(
            "HOP_BY_HOP_SRTP",
            tuple(mods),
            "medium",
            f"RTP headers with opaque payloads to {f.organisation or app}'s server "
            f"{f.resp_h}; no DTLS handshake, so keys came through signalling." + ecb_note,
            "Keys exchanged through the vendor's signalling are known to the vendor "
            "(as in Microsoft Teams' normal calls).",
        )
    if app == "Microsoft Teams/Skype":
        return Verdict(
            "UNKNOWN",
            tuple(mods),
            "medium",
            f"Teams media as RTP with opaque payloads between {f.orig_h} and {f.resp_h}, with "
            "no DTLS handshake on the media path." + ecb_note,
            "Microsoft documents that normal Teams calls exchange SRTP keys over its TLS "
            "signalling, so Microsoft can know them even when media goes directly between "
            "participants; Teams' optional 1:1 end-to-end encryption would show a DTLS "
            "handshake between the two clients, and none was seen. This rests on vendor "
            "documentation, not on anything the packets prove.",
            "NO_DTLS_KEYS_VIA_SIGNALLING",
        )
    return Verdict(
        "UNKNOWN",
        tuple(mods),
        "low",
        f"RTP with opaque payloads between {f.orig_h} and {f.resp_h}; no key exchange "
        "seen." + ecb_note,
        "No codec structure is visible, which suggests encryption, but high entropy "
        "alone never proves it (compressed audio looks random too). Seeing the key "
        "exchange (DTLS) or the app's documentation would settle it.",
        "NO_HANDSHAKE_SEEN",
    )
