"""The sentences behind each verdict: evidence and caveat, worded from a rule's facts.

The verdict rules (``inspector/assess/encryption.py``) decide and return structured facts; this
module is the only place that turns them into prose. One entry per reason code; a test checks
that every rule of the table has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from inspector.report.text import count

__all__ = ["E2E_UNKNOWABLE", "TEXTS", "verdict_text"]

Facts = Mapping[str, object]
Text = Callable[[Facts], tuple[str, str]]

E2E_UNKNOWABLE = (
    "Key authenticity (whether the vendor swapped keys in signalling) cannot be "
    "seen on the network; users comparing security codes is what settles it."
)
_SRTP_E2E_LAYER = (
    "An end-to-end layer inside SRTP (Insertable Streams/SFrame), if enabled, would not be "
    "visible here."
)


def _ecb_note(f: Facts) -> str:
    if not f.get("ecb_example"):
        return ""
    return (
        " Identical 16-byte ciphertext blocks recur across packets "
        f"({count(int(str(f['ecb_blocks'])), 'distinct block')} at "
        f"{count(int(str(f['ecb_positions'])), 'block position')}, e.g. {f['ecb_example']} at "
        f"{f['ecb_frame']}): the signature of deterministic (ECB-like) encryption."
    )


def _icmp(f: Facts) -> tuple[str, str]:
    return "ICMP control messages are never encrypted.", "Carries no application content."


def _dns(f: Facts) -> tuple[str, str]:
    asking = f" asking for {f['names']}" if f.get("names") else ""
    return (
        f"Cleartext DNS to {f['server']}:{f['port']}{asking}.",
        "Anyone on the path (Wi-Fi, ISP) sees every name looked up.",
    )


def _dot(f: Facts) -> tuple[str, str]:
    return (
        f"DNS over TLS (port 853) to {f['server']}.",
        "Protects names from the path, not from the resolver.",
    )


def _http(f: Facts) -> tuple[str, str]:
    return (
        f"Cleartext HTTP {f['method']} to {f['host']} in frame {f['frame']}.",
        "Everything in the request and response is readable and changeable on the path.",
    )


#: How QUIC version numbers read in a sentence ("QUIC version 1" reads like a count).
_QUIC_VERSIONS = {
    "": "QUIC (TLS 1.3)",
    "1": "QUIC v1 (RFC 9000, TLS 1.3)",
    "2": "QUIC v2 (RFC 9369, TLS 1.3)",
}


def _version(f: Facts) -> str:
    if f["proto"] == "QUIC":
        return _QUIC_VERSIONS.get(str(f["version"]), f"QUIC {f['version']} (TLS 1.3)")
    return str(f["version"] or "TLS")


def _signalling(f: Facts) -> tuple[str, str]:
    name = {"sip": "SIP", "h323": "H.323", "mgcp": "MGCP", "megaco": "Megaco/H.248",
            "iax2": "IAX2", "xmpp": "XMPP", "rtsp": "RTSP",
            "bfcp": "BFCP floor control"}.get(str(f["protocol"]), "")  # fmt: skip
    key = (
        " An SDP a=crypto line carried the SRTP master key in clear: that media can be "
        "decrypted by anyone who saw this flow."
        if f.get("sdp_crypto")
        else ""
    )
    return (
        f"{name or f['protocol']} call signalling in clear ({f['messages']} messages: "
        f"{f['methods']}; first in frame {f['frame']}), not upgraded to TLS.{key}",
        "Anyone on the path reads who calls whom, addresses, codecs and (SIP/XMPP) user names.",
    )


def _sdes_key(f: Facts) -> tuple[str, str]:
    return (
        f"{str(f['protocol']).upper()} in clear carries an SDP a=crypto line (RFC 4568 SDES) in "
        f"frame {f['frame']}: the SRTP master key for {f['media'] or 'the media'} is readable.",
        "Anyone who saw this flow can decrypt the SRTP media it keys, wherever that media goes.",
    )


def _connect(f: Facts) -> tuple[str, str]:
    return (
        f"HTTP CONNECT tunnel to {f['target']} (frame {f['frame']}) carrying TLS to {f['sni']}.",
        "The content inside the tunnel is TLS, readable by the server that terminates it; the "
        "CONNECT line itself shows the host to anyone on the path.",
    )


def _websocket_text(f: Facts) -> tuple[str, str]:
    return (
        f"{f['frames']} WebSocket frames with {f['server']} straight on TCP, {f['text']} of "
        "them uncompressed UTF-8 text, readable in clear (the client's masking is an XOR with "
        "a key sent in the same frame).",
        "Anyone on the path reads the messages.",
    )


def _websocket_binary(f: Facts) -> tuple[str, str]:
    return (
        f"{f['frames']} WebSocket frames with {f['server']} straight on TCP, none of them "
        "readable text.",
        "Not protected by TLS; whether the binary frames carry an encrypted protocol of their "
        "own is not visible here.",
    )


def _tls_not_completed(f: Facts) -> tuple[str, str]:
    return (
        f"{f['proto']} ClientHello to {f['name']} (frame {f['frame']}); the server sent no "
        "payload and no ServerHello.",
        "The handshake did not complete in the capture, so no protection was established or "
        "seen; a capture with the server's answer would settle it.",
    )


def _dtls_not_completed(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS ClientHello to {f['name']} (frame {f['frame']}); the server answered "
        f"({count(int(str(f['server_pkts'])), 'packet')}) but sent no ServerHello.",
        "No DTLS session (and so no SRTP keys) was seen being set up; whether media followed "
        "elsewhere is not visible.",
    )


def _tls_incomplete(f: Facts) -> tuple[str, str]:
    return (
        f"{f['proto']} ClientHello to {f['name']} (frame {f['frame']}); no ServerHello seen.",
        f"Encrypted to the server, which {f['terminator']} operates: it can read the content. "
        "The handshake was not seen completing.",
    )


def _tls(f: Facts) -> tuple[str, str]:
    cipher = f" {f['cipher']}" if f.get("cipher") else ""
    ev = (
        f"{_version(f)}{cipher} to {f['name']}, terminated by {f['terminator']} "
        f"(frame {f['frame']})"
    )
    if f.get("weak"):
        ev += f"; weak: {str(f['weak']).replace(';', ', ')}"
    return (
        ev + ".",
        f"Protects content from the network path only: {f['terminator']} decrypts it. "
        "Data inside could carry its own end-to-end layer, which cannot be seen here.",
    )


def _records(f: Facts) -> tuple[str, str]:
    return (
        f"{f['records']} {f['proto']} records both ways with {f['name']}, whose handshake is not "
        "in the capture (the session began before it).",
        f"Encrypted to the server, which {f['terminator']} operates: it can read the content. "
        "The handshake was not captured, so the version, cipher suite and server name are "
        "unknown.",
    )


def _records_one_way(f: Facts) -> tuple[str, str]:
    return (
        f"{f['records']} {f['proto']} records from one side only with {f['name']}, and no "
        "handshake in the capture: the tail of a session begun before it.",
        "With no handshake and no exchange both ways, how (or whether) the session protects "
        "its content is not visible here.",
    )


def _codec(f: Facts) -> tuple[str, str]:
    extra = f" {f['codec_evidence']}." if f.get("codec_evidence") else ""
    fraction = float(f["fraction"])  # type: ignore[arg-type]
    return (
        f"RTP payloads show {f['codec']} codec structure in {fraction:.0%} of {f['packets']} "
        f"packets (SSRC {f['ssrc']}).{extra}",
        "Anyone on the path can decode this audio/video.",
    )


def _rtcp_readable(f: Facts) -> tuple[str, str]:
    return (
        f"{f['packets']} RTCP packets (SSRC {f['ssrc']}, first frame {f['frame']}) walk exactly "
        "as sender/receiver reports (RFC 3550 section 6) with no SRTCP trailer.",
        "Reception statistics, SSRCs and (SDES) CNAMEs are readable on the path; no audio or "
        "video travels on this flow.",
    )


def _null_srtp(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS-SRTP negotiated a NULL SRTP profile ({f['profile']}) in frame {f['frame']}.",
        "Media is authenticated but not encrypted.",
    )


def _perc(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS offered a double (PERC, RFC 8723) SRTP profile in frame {f['frame']}.",
        E2E_UNKNOWABLE,
    )


def _zoom(f: Facts) -> tuple[str, str]:
    where = (
        "peer-to-peer with another participant" if f["p2p"] else f"to Zoom's server {f['server']}"
    )
    caveat = str(f.get("app_caveat", ""))
    if f.get("ecb_example"):
        caveat += " ECB is suspected from repeated ciphertext blocks, not confirmed by decryption."
    return (
        f"Zoom media framing ({f['kinds']}) {where}; RTP headers are readable, payloads are not."
        + _ecb_note(f),
        caveat.strip(),
    )


def _vendor_media(f: Facts) -> tuple[str, str]:
    return (
        f"{f['app']} voice framing on this flow ({f['signature']}, frame {f['sig_frame']}) "
        f"around {f['packets']} RTP packets whose payloads fail every codec test (first frame "
        f"{f['frame']}); no DTLS." + _ecb_note(f),
        f"That the payloads are encrypted, and with which keys, comes from the vendor's "
        f"documentation ({f['doc']}), not from the capture: the keys come from the vendor's "
        "server, which can decrypt. An end-to-end layer inside, if enabled, would not be visible.",
    )


def _dtls_no_srtp(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS ({f['version'] or 'version not seen'}) with {f['server']}, use_srtp "
        f"{f['use_srtp']} (frame {f['frame']}): a DTLS-protected application, not SRTP media.",
        f"Protects content from the path only: the DTLS server ({f['terminator']}) reads it.",
    )


def _relay_peer(f: Facts) -> tuple[str, str]:
    org = f" ({f['organisation']})" if f.get("organisation") else ""
    peers = f"; TURN peer addresses: {f['peers']}" if f.get("peers") else ""
    return (
        f"{f['what']} relayed through the TURN server {f['relay']}{org}{peers}.",
        "The relay only forwards: the encryption ends at the peer behind it, which the capture "
        "does not identify (a participant or a vendor media server), so who can decrypt is not "
        "visible.",
    )


def _srtcp(f: Facts) -> tuple[str, str]:
    return (
        f"SRTCP packets carry E=0 (not encrypted), SSRC {f['ssrc']}.",
        "Control packets (RTCP) are readable; media may still be encrypted.",
    )


def _profile(f: Facts) -> str:
    return str(f.get("profile") or "profile not seen")


def _dtls_vendor(f: Facts) -> tuple[str, str]:
    org = f.get("organisation") or ""
    return (
        f"DTLS-SRTP handshake ({_profile(f)}) with {org or f['server']}'s media server "
        f"{f['server']} (frame {f['frame']}), then SRTP." + _ecb_note(f),
        f"{org or 'The server operator'} terminates DTLS and can decrypt the media. "
        + _SRTP_E2E_LAYER,
    )


def _dtls_ice_lite(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS-SRTP handshake ({_profile(f)}) with {f['server']}, which acts as a media server: "
        f"it answers connectivity checks but never sends its own (ICE-lite) (frame {f['frame']})."
        + _ecb_note(f),
        "Whoever runs that server terminates DTLS and can decrypt the media; its operator is not "
        "identified here. " + _SRTP_E2E_LAYER,
    )


def _dtls_e2e(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS-SRTP between the two endpoints ({f['client']} and {f['server']}) of "
        f"{f['app']}; the end-to-end part comes from the vendor's documentation, not from the "
        f"capture: {f['design']}.",
        E2E_UNKNOWABLE,
    )


def _dtls_unknown(f: Facts) -> tuple[str, str]:
    return (
        f"DTLS-SRTP ({_profile(f)}) directly between {f['client']} and {f['server']}, not with a "
        f"known vendor server (frame {f['frame']}).",
        "Keys are negotiated between the two endpoints, but the certificate fingerprints travel "
        "through the app's signalling, which could substitute them. Whether this is end-to-end "
        "depends on the app; identifying it (or comparing security codes) would settle it. "
        + E2E_UNKNOWABLE,
    )


def _srtp_e2e(f: Facts) -> tuple[str, str]:
    return (
        f"{f['app']} media as SRTP with no DTLS on the path: keys come from the app's own "
        f"exchange; the end-to-end part comes from the vendor's documentation, not from the "
        f"capture: {f['design']}.",
        E2E_UNKNOWABLE,
    )


def _srtp_vendor(f: Facts) -> tuple[str, str]:
    return (
        f"RTP headers with opaque payloads to {f.get('organisation') or f.get('app')}'s server "
        f"{f['server']}; no DTLS handshake, so keys came through signalling." + _ecb_note(f),
        "Keys exchanged through the vendor's signalling are known to the vendor "
        "(as in Microsoft Teams' normal calls).",
    )


def _keys_via_signalling(f: Facts) -> tuple[str, str]:
    return (
        f"Teams media as RTP with opaque payloads between {f['client']} and {f['server']}, with "
        "no DTLS handshake on the media path." + _ecb_note(f),
        "Microsoft documents that normal Teams calls exchange SRTP keys over its TLS "
        "signalling, so Microsoft can know them even when media goes directly between "
        "participants; Teams' optional 1:1 end-to-end encryption would show a DTLS "
        "handshake between the two clients, and none was seen. This rests on vendor "
        "documentation, not on anything the packets prove.",
    )


def _rtp_opaque(f: Facts) -> tuple[str, str]:
    return (
        f"RTP with opaque payloads between {f['client']} and {f['server']}; no key exchange "
        "seen." + _ecb_note(f),
        "No codec structure is visible, which suggests encryption, but high entropy "
        "alone never proves it (compressed audio looks random too). Seeing the key "
        "exchange (DTLS) or the app's documentation would settle it.",
    )


def _turn(f: Facts) -> tuple[str, str]:
    return (
        f"TURN Send/Data indications carry relayed payloads (first in frame {f['frame']}) that "
        "were not recognised as RTP, DTLS or STUN.",
        "What is inside the relay is not parsed, so its protection cannot be read here; the "
        "app's documentation or a capture on the other side of the relay would settle it.",
    )


def _leak_note(f: Facts) -> str:
    if not f.get("leak_kinds"):
        return ""
    kinds = str(f["leak_kinds"]).replace(";", ", ")
    return (
        f" Cleartext metadata ({kinds}) in frame {f['leak_frame']}, e.g. "
        f"{str(f['leak_examples']).replace(';', ', ')}."
    )


def _stun(f: Facts) -> tuple[str, str]:
    relayed = " (some relayed through TURN)" if f.get("relayed") else ""
    return (
        f"STUN/TURN connectivity checks only: {f['stun']} STUN messages{relayed}; STUN is "
        "never encrypted." + _leak_note(f),
        "STUN carries addresses and ICE credentials (which link the two ends of a call), "
        "not the conversation.",
    )


def _control(f: Facts) -> tuple[str, str]:
    parts = [f"{f[k]} {k}" for k in ("stun", "probes", "keepalives", "hellos") if f.get(k)]
    if f.get("unexplained"):
        parts.append(f"{f['unexplained']} unexplained")
    sig = f" ({f['signature']})" if f.get("signature") else ""
    probe = f"; probe: {f['probe_evidence']}" if f.get("probe_evidence") else ""
    return (
        f"Control datagrams only, {f['datagrams']} in all: {', '.join(parts)}{sig}{probe}."
        + _leak_note(f),
        "Readable control traffic with no conversation in it; it still shows that, when and "
        "with whom the app talked.",
    )


def _cleartext_content(f: Facts) -> tuple[str, str]:
    kinds = (("dhcp", "DHCP"), ("ntp", "NTP"), ("netbios", "NetBIOS datagram"), ("text", "text"))
    parts = ", ".join(f"{f[k]} {name}" for k, name in kinds if f.get(k))
    return (
        f"{f['datagrams']} readable datagrams ({parts}) in clear.",
        "Anyone on the path reads them (device names, addresses, services, clock requests).",
    )


def _zoom_tcp(f: Facts) -> tuple[str, str]:
    return (
        f"TCP {f['port']} to Zoom without a TLS handshake seen.",
        "Zoom falls back to TCP/TLS for media when UDP is blocked; without the handshake the "
        "protection cannot be read here.",
    )


def _zoom_udp(f: Facts) -> tuple[str, str]:
    return (
        f"UDP {f['port']} to Zoom without recognised RTP inside its framing.",
        str(f.get("app_caveat", "")),
    )


def _no_payload(f: Facts) -> tuple[str, str]:
    return "No payload bytes.", "Nothing to protect."


def _unknown(f: Facts) -> tuple[str, str]:
    prefix = f" (first unrecognised bytes {f['prefix']})" if f.get("prefix") else ""
    return (
        f"{f['payload']} payload bytes with no protocol recognised{prefix}." + _leak_note(f),
        "The content may be encrypted or not: the network view does not say. Knowing the "
        "application protocol (vendor documentation or a decrypting proxy) would settle it.",
    )


def _tls_not_completed_or_dtls(f: Facts) -> tuple[str, str]:
    return _dtls_not_completed(f) if f["proto"] == "DTLS" else _tls_not_completed(f)


#: reason code -> wording of evidence and caveat.
TEXTS: dict[str, Text] = {
    "ICMP": _icmp,
    "CLEARTEXT_DNS": _dns,
    "DNS_OVER_TLS": _dot,
    "SDES_KEY_IN_CLEAR": _sdes_key,
    "CLEARTEXT_SIGNALLING": _signalling,
    "CONNECT_TUNNEL_TLS": _connect,
    "CLEARTEXT_HTTP": _http,
    "CLEARTEXT_WEBSOCKET": _websocket_text,
    "WEBSOCKET_BINARY": _websocket_binary,
    "TLS_NOT_COMPLETED": _tls_not_completed_or_dtls,
    "TLS_HANDSHAKE_INCOMPLETE": _tls_incomplete,
    "TLS_HANDSHAKE": _tls,
    "RECORDS_NO_HANDSHAKE": _records,
    "RECORDS_ONE_WAY": _records_one_way,
    "CODEC_STRUCTURE": _codec,
    "RTCP_READABLE": _rtcp_readable,
    "NULL_SRTP_PROFILE": _null_srtp,
    "PERC_DOUBLE_PROFILE": _perc,
    "ZOOM_FRAMING": _zoom,
    "VENDOR_MEDIA_FRAMING": _vendor_media,
    "SRTCP_UNENCRYPTED": _srtcp,
    "DTLS_NO_SRTP": _dtls_no_srtp,
    "RELAY_PEER_UNIDENTIFIED": _relay_peer,
    "DTLS_VENDOR_SERVER": _dtls_vendor,
    "DTLS_ICE_LITE_SERVER": _dtls_ice_lite,
    "DTLS_E2E_APP": _dtls_e2e,
    "P2P_DTLS_APP_UNKNOWN": _dtls_unknown,
    "SRTP_E2E_APP": _srtp_e2e,
    "SRTP_VENDOR_SERVER": _srtp_vendor,
    "NO_DTLS_KEYS_VIA_SIGNALLING": _keys_via_signalling,
    "NO_HANDSHAKE_SEEN": _rtp_opaque,
    "RELAYED_PAYLOAD_UNPARSED": _turn,
    "STUN_ONLY": _stun,
    "CONTROL_TRAFFIC": _control,
    "CLEARTEXT_CONTENT": _cleartext_content,
    "TCP_TLS_FALLBACK": _zoom_tcp,
    "NO_RTP_FOUND": _zoom_udp,
    "NO_PAYLOAD": _no_payload,
    "UNKNOWN_PROTOCOL": _unknown,
}


def verdict_text(reason: str, facts: Facts, role_note: str = "") -> tuple[str, str]:
    """``(evidence, caveat)`` for a verdict decided by the rule with ``reason``."""
    evidence, caveat = TEXTS[reason](facts)
    if role_note:
        evidence = f"{role_note}: {evidence}"
    return evidence, caveat
