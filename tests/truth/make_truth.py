# ruff: noqa: E501  (tshark justifications are long literal strings)
"""Build tests/truth/truth.csv: tshark-drafted rows (scripts/truth_label.py --draft) plus the
hand decisions below, each with the tshark command and field that justify it.

    python3 scripts/truth_label.py $(cat tests/truth/captures.txt) --quiet --draft /tmp/draft.csv
    python3 tests/truth/make_truth.py /tmp/draft.csv tests/truth/truth.csv

A draft row still flagged REVIEW after the decisions below is an error (the build stops).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable

Row = dict[str, str]
Rule = tuple[str, Callable[[Row], bool], dict[str, str]]

H = "--enable-heuristic rtp_udp"


def ports(*ps: str) -> Callable[[Row], bool]:
    return lambda r: r["orig_p"] in ps or r["resp_p"] in ps


def host(*hs: str) -> Callable[[Row], bool]:
    return lambda r: r["orig_h"] in hs or r["resp_h"] in hs


def both(*preds: Callable[[Row], bool]) -> Callable[[Row], bool]:
    return lambda r: all(p(r) for p in preds)


def tup(a: str, pa: str, b: str, pb: str) -> Callable[[Row], bool]:
    return lambda r: {(r["orig_h"], r["orig_p"]), (r["resp_h"], r["resp_p"])} == {(a, pa), (b, pb)}


ANY: Callable[[Row], bool] = lambda r: True  # noqa: E731

RULES: list[Rule] = []


def rule(cap: str, pred: Callable[[Row], bool], **upd: str) -> None:
    RULES.append((cap, pred, upd))


# ---- WhatsApp -------------------------------------------------------------------------------
WA = "ndpi/pcap/whatsapp.pcap"
rule(
    WA,
    ports("5222"),
    app="WhatsApp",
    role="signalling",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.payload -> only the client sends "
    "(-z conv,tcp: 0 packets from the server side); first segment 45440001 ('ED' routing "
    "prologue) then 57410502 ('WA' 5.2 prologue) and a protobuf HandshakeMessage (12 .. 0a 20 + "
    "32-byte ephemeral key) = WhatsApp Noise ClientHello; tshark has no dissector for it and the "
    "server's handshake is absent, so whether the session was established is not visible. App from "
    "the 'WA' prologue (vendor framing). Settled by: a capture with the server direction.",
)
WLC = "ndpi/pcap/whatsapp_login_call.pcap"
WVM = "ndpi/pcap/whatsapp_voice_and_message.pcap"
WLCH = "ndpi/pcap/whatsapp_login_chat.pcap"
FUNXMPP = (
    "tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.payload -> client's first bytes "
    "5741 0105 ('WA' 1.5 FunXMPP prologue) then tokenised binary stanzas; server frames start "
    "000005f8 then frames flagged 0x80 ('80 00 ..'); tshark decodes no XMPP fields from it "
    "(xmpp.* empty; frame.protocols shows at most a misfired xml/xmpp heuristic). The 0x80 "
    "frame flag means 'encrypted' only by reverse-engineered protocol knowledge, not by a "
    "visible key exchange. App from the 'WA' prologue. Settled by: a FunXMPP dissector."
)
for cap in (WLC, WVM, WLCH):
    rule(
        cap,
        lambda r: (
            r["proto"] == "tcp" and r["resp_h"].startswith(("184.173.", "158.85.", "173.192."))
        ),
        app="WhatsApp",
        role="signalling",
        verdict="UNKNOWN",
        reason="UNKNOWN_PROTOCOL",
        modifiers="",
        note=FUNXMPP,
    )
WA_STUN = (
    "tshark -r {cap} -Y '{f}' -V -> STUN Allocate Request (0x0003) carrying 'Unknown "
    "attribute 0x4000' (102 bytes; nDPI stun.c: attributes 0x4000-0x4002 = WhatsApp call) and "
    "Allocate Success (0x0103) with XOR-MAPPED-ADDRESS; {media}"
)
for cap in (WLC, WVM):
    rule(
        cap,
        lambda r: r["resp_p"] == "3478" and "rtp" not in r["note"],
        app="WhatsApp",
        role="signalling",
        verdict="PLAINTEXT",
        modifiers="CONTROL_ONLY",
        reason="",
        note=WA_STUN.format(
            cap="{cap}", f="{f}", media="no other datagrams: relay allocation only, no media"
        ),
    )
    rule(
        cap,
        lambda r: r["resp_p"] == "3478" and "RTP PT" in r["note"],
        app="WhatsApp",
        role="relay",
        verdict="LIKELY_E2E",
        modifiers="",
        reason="",
        note=WA_STUN.format(
            cap="{cap}",
            f="{f}",
            media=(
                f"then {H} -T fields -e rtp.p_type -e rtp.payload -> RTP PT 120 whose payloads show no "
                "codec structure, and RTCP-typed datagrams (81c9 ...) longer than their RTCP length field "
                "(trailer = SRTCP index + tag): SRTP media through WhatsApp's relay. LIKELY_E2E rests on "
                "WhatsApp's documented end-to-end call keys (WhatsApp Encryption Overview), not on the "
                "capture; the peer behind the relay is not visible."
            ),
        ),
    )
    rule(
        cap,
        lambda r: (
            r["resp_p"] not in ("3478",)
            and r["proto"] == "udp"
            and "91.253.176.65" in (r["orig_h"], r["resp_h"])
        ),
        app="",
        role="media",
        verdict="UNKNOWN",
        reason="NO_HANDSHAKE_SEEN",
        modifiers="",
        note=(
            f"tshark -r {{cap}} -Y '{{f}}' {H} -T fields -e stun.type -e stun.att.type -e rtp.p_type "
            "-> STUN Binding Request/Success (0x0001/0x0101) with only MESSAGE-INTEGRITY (0x0008), then "
            "RTP PT 120 both ways with payloads showing no codec structure: P2P media. No DTLS and no "
            "key exchange on the flow, and its own packets name no app (no vendor STUN attribute, "
            "address not in a vendor range), so neither encryption nor E2E can be read from it. "
            "Settled by: the call's signalling keys (WhatsApp) tied to this 5-tuple."
        ),
    )
    rule(
        cap,
        lambda r: "1.194.90.191" in (r["orig_h"], r["resp_h"]),
        app="",
        role="other",
        verdict="PLAINTEXT",
        modifiers="CONTROL_ONLY",
        reason="",
        note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -> only outgoing STUN "
        "Binding Requests (0x0001, MESSAGE-INTEGRITY 0x0008 only), no answer, no media; no vendor attribute.",
    )

# ---- Zoom -----------------------------------------------------------------------------------
SPOT = dict(
    app="",
    role="other",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> 53706f7455647030 = ASCII "
    "'SpotUdp0' (Spotify LAN discovery beacon, UDP 57621 broadcast), 44 bytes, no conversation; "
    "not a Zoom flow whatever runs beside it.",
)
for cap in ("ndpi/pcap/zoom.pcap", "ndpi_4.2/pcap/zoom.pcap"):
    rule(cap, ports("57621"), **SPOT)
    rule(
        cap,
        ports("993"),
        app="",
        role="other",
        verdict="UNKNOWN",
        modifiers="",
        reason="NO_HANDSHAKE_SEEN",
        note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tls.record.content_type -> 23 (TLS 1.2 "
        "application data records 1703 03) from the client only: tail of an IMAPS session begun before "
        "the capture; no handshake and no data both ways, so the negotiated protection is not visible.",
    )
    rule(
        cap,
        ports("80"),
        app="",
        role="other",
        verdict="UNKNOWN",
        reason="UNKNOWN_PROTOCOL",
        modifiers="",
        note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> eth:ethertype:ip:tcp "
        "only (no http layer): TCP port 80 carrying opaque bytes (8e4552a4..., cd1ebbb7...), no HTTP "
        "request line. Neither cleartext nor a visible key exchange. Settled by: knowing the protocol.",
    )
    rule(
        cap,
        ports("58327"),
        app="Zoom",
        role="signalling",
        verdict="PLAINTEXT",
        modifiers="CONTROL_ONLY",
        reason="",
        note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.length -e udp.payload -> Zoom UDP "
        "framing (nDPI zoom.c): hello 010002.. / 020001.., 04000000/03000000 echo pair, 050c01/050d01 "
        "session token, and 179 datagrams of 1,037 bytes '0515010000..' followed by 1,002 bytes of 0x01 "
        "(bandwidth probes: 1,002 of 1,029 bytes are 01). No RTP, no media payload: probes/hellos only.",
    )
    rule(
        cap,
        ports("61731"),
        app="Zoom",
        role="signalling",
        verdict="PLAINTEXT",
        modifiers="CONTROL_ONLY",
        reason="",
        note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> Zoom UDP framing: hello 010002/020001, "
        "04/03 echo, 050d00 session token, 050a06 followed by zero bytes (keepalive). No media.",
    )
    rule(
        cap,
        ports("60620"),
        app="Zoom",
        role="media",
        verdict="PLAINTEXT",
        modifiers="CONTROL_ONLY",
        reason="",
        note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> Zoom UDP framing: hellos 010002/020001, "
        "04/03 echo, 050c01/050d01 token, and one 052201.. datagram whose bytes from offset 17 are "
        "80c80006 01000402 e13779d7.. (RTCP SR: V=2 PT=200 len 6, NTP timestamp, packet count 5) then "
        "81ca (SDES): readable RTCP only, no RTP media on this 5-tuple.",
    )
ZP = "ndpi/pcap/zoom_p2p.pcapng"
HELLO = (
    "tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> every datagram starts 1f0201 (Zoom P2P "
    "hello, nDPI zoom.c P2P rule) and carries in clear the peer's address as a string "
    "(e.g. '10.78.14.178' / '192.168.1.226') and a UUID ('$C5EADFA1-E2D0-...'); one-sided, no media."
)
rule(
    ZP,
    (
        lambda r: (
            r["resp_p"] in ("47312", "49586", "41036") or r["orig_p"] in ("47312", "49586", "41036")
        )
    ),
    app="Zoom",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY;METADATA_LEAK",
    reason="",
    note=HELLO,
)
rule(
    ZP,
    ports("46757"),
    app="Zoom",
    role="media",
    verdict="PROPRIETARY_ENCRYPTED",
    modifiers="METADATA_LEAK;MIXED_CONTENT",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.payload -> Zoom P2P media encapsulation "
    "at offset 0 (no SFU header): type 0x0f audio with RTP (V=2, PT 113, bede extension) at +19, "
    "0x10 video with RTP PT 98/110 at +24, 0x15 bandwidth probes (0101..), 0x1f hellos carrying "
    "'192.168.1.226' and a UUID in clear (METADATA_LEAK), 0x22 with readable RTCP SR 80c80006.. "
    "(MIXED_CONTENT). RTP payloads after the header: video 1c00/1c40/1c80 (FU-A indicator) then "
    "random bytes with FU NAL type 0; audio a length/counter prefix then random bytes: no codec "
    "structure. Zoom's own scheme; P2P is not end-to-end (keys from Zoom's servers per Zoom).",
)
rule(
    "ndpi/pcap/zoom.pcap",
    ports("45634"),
    app="Zoom",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y 'udp.port==45634' -T fields -e ip.src -e udp.payload -> (inner packets of a "
    "GTP-U tunnel, frame.protocols ..:gtp:ip:udp) 35 '03000000..' / 33 '04000000..' 89-byte echo "
    "pairs and 13 Zoom-framed '050f..' datagrams (byte 7 = 04, from Zoom) whose payload holds the "
    "cleartext string 'bw_level_audio'; no RTP, no media: keepalives and bandwidth control only.",
)
rule(
    "ndpi/pcap/stun_zoom.pcapng",
    ANY,
    app="Zoom",
    role="other",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f} && dtls' -T fields -e dtls.record.content_type -e "
    "dtls.use_srtp.protection_profile -e dtls.handshake.type -e x509sat.uTF8String -> client offers "
    "use_srtp 0x0007,0x0008,0x0001,0x0002 but the ServerHello (type 2) from the Zoom address (ndpi "
    "prefixes zoom) selects none; certificate CN '*.cloud.zoom.us'; then DTLS application data (23) "
    "both ways and STUN 0x0001/0x0101: a completed DTLS session without SRTP (data channel), no RTP.",
)

# ---- Discord --------------------------------------------------------------------------------
DC = "ndpi/pcap/discord.pcap"
DISC_MEDIA = (
    f"tshark -r {{cap}} -Y '{{f}}' {H} -T fields -e ip.src -e udp.payload -e rtp.p_type -e "
    "rtp.payload -> Discord voice framing: IP discovery request 0001 0046 <ssrc> + zeros and "
    "reply 0002 0046 <ssrc> + the client's public address as ASCII ('84.59.13...', "
    "METADATA_LEAK), 8-byte '1337cafe..' pings, then RTP PT 120 (bede extension) whose payload "
    "is random bytes ending in a 4-byte little-endian counter that steps by one per packet "
    "(..cd070080, ..ce070080: Discord's nonce suffix), RTCP-typed datagrams longer than their "
    "length field: Discord's own transport encryption with keys from Discord's voice server "
    "(no SRTP/DTLS). App from the vendor framing{rng}."
)
rule(
    DC,
    lambda r: r["proto"] == "udp" and "RTP PT" in r["note"],
    app="Discord",
    role="media",
    verdict="PROPRIETARY_ENCRYPTED",
    modifiers="METADATA_LEAK",
    reason="",
    note=DISC_MEDIA.replace("{rng}", " and, for 66.22.x, the ndpi prefixes discord range"),
)
rule(
    DC,
    lambda r: r["proto"] == "udp" and "000100460000" in r["note"],
    app="Discord",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY;METADATA_LEAK",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> one IP discovery request "
    "000100460000ace3 + zeros and its reply 000200460000ace3 + '84.59.13..' (the client's public "
    "address in ASCII): Discord voice IP discovery only, no media.",
)
rule(
    DC,
    lambda r: r["proto"] == "udp" and "1337cafe" in r["note"],
    app="Discord",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> one 8-byte '1337cafe<n>000000' each way "
    "(Discord voice-server latency ping) to 66.22.x:50004 (ndpi prefixes discord): probe only.",
)

# ---- Microsoft Teams / Skype ----------------------------------------------------------------
TM = "ndpi/pcap/teams.pcap"
TEAMS = "Microsoft Teams/Skype"
rule(TM, ports("57621"), **SPOT)
rule(
    TM,
    ports("60547"),
    app=TEAMS,
    role="signalling",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e tls.handshake.type -e tls.handshake.extensions_server_name "
    "-e tcp.payload -> ClientHello (1) with SNI chatsvcagg.teams.microsoft.com; the server's records "
    "are not reassembled by tshark but its tcp.payload contains 16030317750200005e03035e98.. (handshake "
    "record, type 02 = ServerHello), followed by encrypted records: completed handshake.",
)
rule(
    TM,
    ports("2222"),
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> eth:ethertype:ip:tcp "
    "with 'data' only: 2 opaque segments each way (7410d91f.., e40a650c..), no SYN (mid-session), no "
    "recognised protocol. Settled by: the handshake of the session or knowing the service on 2222.",
)
rule(
    TM,
    ports("51681"),
    app=TEAMS,
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="METADATA_LEAK",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.payload -> no STUN/RTP/DTLS decoded "
    "(frame.protocols ..:udp:data); datagrams to the Teams address 52.114.77.136:3478 (ndpi prefixes "
    "ms_skype_teams) start 06/07 + opaque bytes, and 45-byte '03' + ASCII UUID "
    "('3bff6a15-6841-4607-8c27-9eceb9eed93b') datagrams: identifiers in clear, rest unparsed.",
)
MSTURN = (
    "tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -e udp.payload -> MS-TURN "
    "(attributes 0x8008 MS-VERSION, 0x8055/0x8095/0x8006; nDPI stun.c: Skype/Teams) to the Teams "
    "relay range (ndpi prefixes ms_skype_teams): Allocate 0x0003/0x0103, Send 0x0004 and Data "
    "Indication 0x0115 whose DATA attribute (0x0013) holds STUN Binding messages (0001005c2112a442.., "
    "01010044..) for the peer: relayed ICE checks only, no media."
)
rule(
    TM,
    lambda r: r["resp_p"] == "3478" and r["resp_h"] in ("52.114.250.141", "52.114.250.137"),
    app=TEAMS,
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note=MSTURN,
)
rule(
    TM,
    lambda r: "3480" in (r["orig_p"], r["resp_p"]) or "3479" in (r["orig_p"], r["resp_p"]),
    app=TEAMS,
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -e udp.payload -> Binding "
    "Request 0x0001 from the Teams relay (ndpi prefixes ms_skype_teams) with 0x8070 (MS implementation "
    "version) and the client's answer wrapped in MS-TURN 'ff10 0060' framing around 01010044 (Binding "
    "Success): connectivity check only.",
)
rule(
    TM,
    ports("16333"),
    app=TEAMS,
    role="media",
    verdict="UNKNOWN",
    modifiers="",
    reason="NO_DTLS_KEYS_VIA_SIGNALLING",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.number -e stun.type -e stun.att.type -e "
    "udp.payload -> STUN Binding 0x0001/0x0101 both ways with 0x8070 (MS implementation version; "
    "nDPI stun.c: Skype/Teams) and 0x8029/0x802a ICE attributes, plus ICMP errors quoting them; "
    "and two non-STUN datagrams from 192.168.1.6 (frames 1483, 1489): 8fce0007 0000e65b.. "
    "ending 80000000 + 10 bytes and 80c90004 0000e65b.. ending 80000001 + 10 bytes, i.e. RTCP "
    "headers (PT 206, 201) with an E|index word E=1, index 0 then 1, and an HMAC-SHA1-80 tag = "
    "SRTCP (RFC 3711 section 3.4). Media control as on the sibling flow port 16332, no DTLS: "
    "keys through Teams signalling. Corrected from PLAINTEXT/CONTROL_ONLY ('no media'), which "
    "missed these two datagrams.",
)
rule(
    TM,
    ports("16332"),
    app=TEAMS,
    role="media",
    verdict="UNKNOWN",
    reason="NO_DTLS_KEYS_VIA_SIGNALLING",
    modifiers="",
    note=f"tshark -r {{cap}} -Y '{{f}}' {H} -T fields -e stun.att.type -e rtp.p_type -e rtcp.pt -e "
    "udp.payload -> STUN Binding with 0x8070 (MS implementation version: Skype/Teams), then RTP PT 104 "
    "with random payload after the bede extension, and RTCP PT 206 whose last 14 bytes are 80000006 + "
    "10-byte tag (SRTCP, E=1): SRTP between two endpoints (93.71.110.205 is not a Microsoft range), no "
    "DTLS on the path: keys came through Teams signalling (Microsoft documentation), so whether "
    "Microsoft can read it is not visible. Settled by: DTLS between the clients (Teams 1:1 E2EE).",
)
rule(
    TM,
    lambda r: r["resp_h"] == "192.168.0.4",
    app=TEAMS,
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -> 5 one-way STUN Binding "
    "Requests (0x0001) with 0x8070 (MS implementation version; nDPI stun.c: Skype/Teams), 0x802a, 0x8037; "
    "no answer, no media.",
)

# ---- Viber ----------------------------------------------------------------------------------
for cap in ("ndpi/pcap/viber.pcap", "ndpi_4.2/pcap/viber.pcap"):
    rule(
        cap,
        lambda r: r["proto"] == "tcp" and r["resp_p"] in ("4244", "5242"),
        app="",
        role="other",
        verdict="UNKNOWN",
        reason="UNKNOWN_PROTOCOL",
        modifiers="",
        note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> ..:tcp:data only: "
        "length-prefixed little-endian frames (e.g. 65000a000000.., 6000add4..) with opaque bodies on "
        "TCP 4244/5242 to AWS-hosted addresses; nothing in the packets names the app or a key exchange. "
        "Settled by: a Viber protocol description (nDPI uses these ports for Viber, which is not identity).",
    )
    rule(
        cap,
        lambda r: r["proto"] == "udp" and r["resp_p"] in ("7985", "7987"),
        app="",
        role="other",
        verdict="UNKNOWN",
        reason="UNKNOWN_PROTOCOL",
        modifiers="",
        note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> ..:udp:data only: datagrams starting "
        "with a 2-byte flow tag (edf6.. / 05b8..), a type byte and a repeated 8-byte identifier "
        "(ac19358c8f64e447 / 3518f5189864e447), rest opaque; no RTP/STUN/DTLS decoded. Settled by: "
        "the protocol's description (the port alone is not app identity).",
    )
    rule(
        cap,
        lambda r: (
            r["proto"] == "udp" and r["resp_p"] == "443" and r["resp_h"].startswith("172.217.")
        ),
        app="",
        role="web/API",
        verdict="UNKNOWN",
        reason="NO_HANDSHAKE_SEEN",
        modifiers="",
        note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e udp.payload -> ..:udp:data: 3 "
        "datagrams to a Google address on UDP 443 starting 0c/00 (gQUIC public-flags byte) with no "
        "Initial/CHLO in the capture: a QUIC session already running; no handshake visible.",
    )
rule(
    "ndpi/pcap/viber.pcap",
    ports("40482"),
    app="Viber",
    role="relay",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' --enable-heuristic dtls_stun -T fields -e stun.type -e stun.att.realm "
    "-e dtls.handshake.type -e dtls.use_srtp.protection_profile -> TURN Allocate 0x0003/0x0113/0x0103 "
    "with REALM 'viber.com', CreatePermission 0x0008/0x0108, Send Indications 0x0016 to "
    "XOR-PEER-ADDRESS 18.195.4.121:61359 carrying a DTLS ClientHello (type 1, use_srtp 0x0001) and Data "
    "Indications 0x0017; no ServerHello and no media in the capture.",
)

# ---- STUN / TURN / WebRTC -------------------------------------------------------------------
MESSENGER_TURN = (
    "tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.realm -e stun.channel -e data.data "
    "-> TURN Allocate 0x0003/0x0113/0x0103 with REALM 'turner.facebook' (Meta's TURN; nDPI stun.c: "
    "realm 'facebook' = Messenger call) and 0xC057, CreatePermission 0x0008/0x0108, Send/Data "
    "Indications 0x0016/0x0017 and ChannelData 0x4003. Besides relayed STUN Binding messages "
    "(0001004c2112a442.., 0101002c2112a442..), the ChannelData and Data payloads include 22- and "
    "50-byte packets 80c90001 <SSRC> 8000000N <10 bytes> (e.g. 80c9000100000001 80000003 "
    "1ff01345009e4583923d): an RTCP RR header (V=2, PT 201, length 1) then an E|index word with "
    "E=1 whose index steps 3, 4, 5, 6, 7, then a 10-byte HMAC-SHA1-80 tag = SRTCP (RFC 3711 "
    "section 3.4; tshark leaves ChannelData payloads as data). Encrypted media control relayed "
    "through Meta's TURN to a peer (XOR-PEER-ADDRESS) the capture does not identify. Corrected "
    "from PLAINTEXT/CONTROL_ONLY, whose note had missed these SRTCP payloads."
)
HS = "--enable-heuristic rtp_udp --enable-heuristic rtp_stun --enable-heuristic rtcp_stun --enable-heuristic dtls_stun"
ST = "ndpi/pcap/stun.pcap"
rule(
    ST,
    lambda r: r["proto"] == "tcp" and "41588" in (r["orig_p"], r["resp_p"]),
    app=TEAMS,
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -> every message is "
    "STUN Binding 0x0001/0x0101 (no media) carrying 0x8070 (MS implementation version) and 0x8054 "
    "(nDPI stun.c: Skype/Teams attributes): connectivity checks of Teams/Skype over TCP. App "
    "corrected from '' (README convention: 0x8070/0x8054 name Skype/Teams), hence role signalling.",
)
rule(
    ST,
    ports("40003"),
    app="Messenger",
    role="relay",
    verdict="UNKNOWN",
    modifiers="",
    reason="RELAY_PEER_UNIDENTIFIED",
    note=MESSENGER_TURN,
)
rule(
    ST,
    ports("37257"),
    app="",
    role="other",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.software -e data.data -> TURN over "
    "TCP to a Coturn server (SOFTWARE 'Coturn-4.5.0.5'): Allocate 0x0003/0x0113/0x0103, CreatePermission "
    "0x0008/0x0108, Send Indications 0x0016 whose DATA is a STUN Binding Request (0001004c2112a442..): "
    "relayed ICE checks only; no vendor attribute or name.",
)
rule(
    ST,
    ports("49153"),
    app="Google Meet",
    role="media",
    verdict="HOP_BY_HOP_SRTP",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} -Y '{{f}}' {HS} -T fields -e stun.type -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -e rtp.p_type -e srtcp.e -> STUN 0x0001/0x0101, DTLS ClientHello "
    "with use_srtp 0x0001 and the server's handshake/certificate flight, then RTP PT 111 and RTCP with "
    "srtcp.e=1: DTLS-SRTP terminated by 142.250.82.99, in Google Meet's published media range "
    "(vendors.csv 142.250.82.0/24): keys negotiated with Google's server.",
)
rule(
    ST,
    ports("8801"),
    app="Zoom",
    role="media",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -> STUN 0x0001/0x0101 and a DTLS ClientHello (use_srtp "
    "0x0007,0x0008,0x0001,0x0002) to 134.224.90.111:8801 (ndpi prefixes zoom); no ServerHello and no "
    "media in this excerpt.",
)
rule(
    ST,
    ports("48094"),
    app="",
    role="relay",
    verdict="UNKNOWN",
    reason="RELAY_PEER_UNIDENTIFIED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e udp.payload -> from a TURN server "
    "(2600:1900:..:3478, Google Cloud customer range, not a vendor list): CreatePermission success "
    "0x0109, Binding success 0x0101 and ChannelData 0x4001 (length 48) carrying 81ca0006 000007d3 + 20 "
    "random bytes + 16-byte tag + trailer 80000001 (RFC 7714 AEAD SRTCP: E=1, index 1): encrypted "
    "RTCP relayed for a call; the peer behind the relay is not identified.",
)
SDR = "ndpi/pcap/stun_dtls_rtp.pcapng"
rule(
    SDR,
    ports("37967"),
    app="Google Meet",
    role="media",
    verdict="HOP_BY_HOP_SRTP",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} -Y '{{f}}' {HS} -T fields -e stun.type -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -e rtp.p_type -e rtcp.pt -> STUN 0x0001/0x0101, DTLS ClientHello "
    "(use_srtp 0x0001,0x0008,0x0007) answered by 142.250.82.76 (certificate flight, NewSessionTicket 4), "
    "then RTP PT 111 and RTCP 207: DTLS-SRTP with a server in Google Meet's media range "
    "(vendors.csv 142.250.82.0/24).",
)
rule(
    SDR,
    ports("50221"),
    app="Google Meet",
    role="relay",
    verdict="UNKNOWN",
    reason="RELAY_PEER_UNIDENTIFIED",
    modifiers="",
    note=f"tshark -r {{cap}} -Y '{{f}}' {HS} -T fields -e stun.type -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -e rtp.p_type -> TURN over TCP to 142.250.82.249:3478 (Google "
    "Meet range, vendors.csv): Allocate/Refresh/CreatePermission, then Send/Data Indications "
    "(0x0016/0x0017) carrying a DTLS handshake (ClientHello with use_srtp 0x0001,0x0008,0x0007) and "
    "RTP PT 96/97: DTLS-SRTP through the relay to XOR-PEER-ADDRESS 10.13.0.50:1259 (a private address, "
    "not identified). The DTLS is inside TURN, so 'no DTLS' would be wrong.",
)
SDU = "ndpi/pcap/stun_dtls_rtp_unidir.pcapng"
rule(
    SDU,
    ANY,
    app="",
    role="relay",
    verdict="UNKNOWN",
    reason="RELAY_PEER_UNIDENTIFIED",
    modifiers="",
    note=f"tshark -r {{cap}} -Y '{{f}}' {HS} -T fields -e stun.type -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -e rtp.p_type -> one direction of a TURN allocation between "
    "private addresses: Send (0x0016) or Data (0x0017) Indications carrying a DTLS handshake "
    "(ClientHello use_srtp 0x0001 / server flight 12,13,14 with certificates) and RTP PT 109: "
    "DTLS-SRTP relayed to an unidentified peer; no app name or vendor attribute.",
)
P2PDTLS = (
    "tshark -r {cap} -Y '{f}' -V | grep -E 'Handshake Type|Protection Profile' plus -T fields -e "
    "stun.type -> STUN Binding 0x0001/0x0101 and DTLS {what}: DTLS-SRTP directly between two "
    "endpoints (no relay, no vendor name/range/attribute), so the app and who holds the keys are not "
    "visible. Settled by: the app's identity (its documentation then says whether this is E2E)."
)
rule(
    "ndpi/pcap/stun_dtls_unidirectional_client.pcap",
    ANY,
    app="",
    role="media",
    verdict="UNKNOWN",
    reason="P2P_DTLS_APP_UNKNOWN",
    modifiers="",
    note=P2PDTLS.replace(
        "{what}",
        "ClientHello with use_srtp 0x0002,0x0001 (client side only: the "
        "client's 0x0101 answers show the peer sent checks the capture lacks)",
    ),
)
rule(
    "ndpi/pcap/stun_dtls_unidirectional_server.pcap",
    ANY,
    app="",
    role="media",
    verdict="UNKNOWN",
    reason="P2P_DTLS_APP_UNKNOWN",
    modifiers="",
    note=P2PDTLS.replace(
        "{what}",
        "ServerHello selecting use_srtp SRTP_AES128_CM_HMAC_SHA1_32 (0x0002), "
        "certificate, ServerKeyExchange (server side only)",
    ),
)
rule(
    "zeek/traces/tls/webrtc-stun.pcap",
    ANY,
    app="",
    role="media",
    verdict="UNKNOWN",
    reason="P2P_DTLS_APP_UNKNOWN",
    modifiers="",
    note=P2PDTLS.replace(
        "{what}",
        "full handshake (ClientHello with use_srtp 0x0001, ServerHello, "
        "certificates, ClientKeyExchange) both ways",
    ),
)
rule(
    "ndpi/pcap/stun_classic.pcap",
    ANY,
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} {H} -Y rtp -T fields -e rtp.p_type -e rtp.payload -> after one classic "
    "STUN exchange, 20 RTP packets PT 18 (G.729, static) whose payloads are all exactly 20 bytes = two "
    "10-byte G.729 frames, leaving no room for an SRTP auth tag; no DTLS/SDES key exchange: G.729 "
    "in clear (TAXONOMY: codec structure + no tag, >= 10 packets).",
)
rule(
    "ndpi_4.2/pcap/stun_facebook.pcapng",
    ANY,
    app="Messenger",
    role="relay",
    verdict="UNKNOWN",
    modifiers="",
    reason="RELAY_PEER_UNIDENTIFIED",
    note=MESSENGER_TURN + " The same exchange as ndpi/pcap/stun.pcap port 40003.",
)

# ---- SIP / RTP / other VoIP -----------------------------------------------------------------
SIPC = "ndpi/pcap/sip.pcap"
rule(
    SIPC,
    ports("5060"),
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e sip.Method -e sip.Status-Code -e sdp.media -> REGISTER/"
    "INVITE/ACK/CANCEL and 100/401/407/403/200/408 in clear, SDP 'audio 30000 RTP/AVP 0 8 97 2 3' (plain "
    "RTP/AVP, no a=crypto); the other datagrams are 5-byte '2020202020' keepalives (udp.payload).",
)
rule(
    SIPC,
    ports("40392"),
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} {H} -Y '{{f}}' -T fields -e rtp.p_type -e rtp.payload -> 9 RTP packets "
    "PT 8 (G.711 A-law) whose first payload is d5d5d5.. (A-law silence) and whose payload lengths are "
    "exactly 160 bytes (20 ms of 8 kHz samples, no SRTP tag); the SIP flow's SDP offered plain RTP/AVP "
    "(sdp.media) with no a=crypto. Readable audio (9 packets: below the TAXONOMY's 10-packet codec "
    "threshold; the SDP settles it).",
)
rule(
    SIPC,
    ports("40393"),
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e rtcp.pt -e rtcp.sdes.text -> one compound RTCP packet "
    "SR (200) + SDES (202) + BYE (203) decoded in clear (no SRTCP E-bit/tag): RTCP-only flow with "
    "readable reports.",
)
RTPC = "ndpi/pcap/rtp.pcapng"
rule(
    RTPC,
    ports("6000"),
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} {H} -Y '{{f}}' -T fields -e rtp.p_type -e frame.protocols -> 15 RTP "
    "packets PT 34 (H.263) that tshark decodes as rtp:rfc2190:h263 (picture start codes and GOB "
    "headers readable): video in clear.",
)
rule(
    RTPC,
    ports("5000"),
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e tcp.payload -> one-way TCP segments framed as RFC 4571 "
    "RTP-over-TCP: 2-byte length 04bc, then 8088 (RTP V=2, M=1, PT 8 = G.711 A-law) c623 .. SSRC "
    "00000000, payload beginning d5d5 (A-law silence) and sample-like bytes; no SRTP/TLS key "
    "exchange: A-law audio in clear.",
)
rule(
    RTPC,
    ports("50003"),
    app="Discord",
    role="media",
    verdict="PROPRIETARY_ENCRYPTED",
    modifiers="METADATA_LEAK",
    reason="",
    note=f"tshark -r {{cap}} {H} -Y '{{f}}' -T fields -e udp.payload -e rtp.p_type -> Discord voice "
    "framing: IP discovery 0001 0046 + SSRC and reply 0002 0046 + the client's public address as ASCII "
    "('85.154.2..', METADATA_LEAK), then RTP PT 120/101 with bede extension and random payloads ending in "
    "a per-packet counter (Discord's nonce): Discord's own encryption, keys from Discord's server.",
)
rule(
    RTPC,
    ports("6008"),
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note=f"tshark -r {{cap}} {H} -Y '{{f}}' -T fields -e rtp.p_type -e rtp.seq -e rtp.payload -> 29 RTP "
    "packets PT 111 whose payloads begin 0x48 (Opus TOC: config 9, SILK WB 20 ms, mono) and repeat "
    "byte-identical across sequence numbers (4806e379c12458 in seq 52691, 52692, 52695..): SRTP would "
    "give different ciphertext per packet and add a tag; Opus DTX frames in clear.",
)
rule(
    "ndpi/pcap/mumble.pcapng",
    lambda r: r["proto"] == "udp",
    app="",
    role="other",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> one 12-byte request 00000000 + 8-byte "
    "ident and one 24-byte reply 000103.. (version) + the same ident + counters: Mumble server-list "
    "ping, no voice.",
)
TS = "ndpi/pcap/teamspeak3.pcap"
rule(
    TS,
    ports("9987"),
    app="",
    role="other",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> 13 one-way datagrams: 'TS3INIT1' (ASCII "
    "545333494e495431) connection-init packets with incrementing counters and a repeated 7974.. packet; "
    "no answer, no voice: handshake attempt only.",
)
rule(
    TS,
    ports("2010"),
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e udp.payload -> ..:udp:data: 576 short "
    "datagrams (4-16 bytes, 0180../0181..) with opaque counters; no recognised protocol.",
)
rule(
    "ndpi/pcap/bfcp.pcapng",
    ANY,
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -d tcp.port==5070,bfcp -d udp.port==5070,bfcp -T fields -e bfcp.primitive "
    "-e tcp.payload -e udp.payload -> 12-byte BFCP (RFC 4582) messages 2003 0001 0000 0001 0002 0504 / "
    "2004.. (version 1, primitives 3/4 with conference ID 1, transaction ID 2) in clear: conference "
    "floor control signalling.",
)
DT = "ndpi/pcap/dtls.pcap"
rule(
    DT,
    ports("56515"),
    app="",
    role="media",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e dtls.handshake.type -e dtls.use_srtp.protection_profile "
    "-> two DTLS 1.0 ClientHellos (use_srtp 0x0001) and nothing from the peer.",
)
rule(
    DT,
    ports("3478"),
    app="",
    role="media",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e dtls.handshake.type -e dtls.use_srtp.protection_profile "
    "-> (inside GTP-U) DTLS 1.0 ClientHellos with use_srtp 0x0001 to 157.240.16.128:3478 (a Meta AS "
    "range, shared by WhatsApp/Messenger/Facebook, so no single app) and no ServerHello.",
)
rule(
    DT,
    ports("11111"),
    app="",
    role="other",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e dtls.record.version -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -> DTLS 1.2 ClientHello/ServerHello (02) and application data, "
    "no use_srtp: a DTLS session between test endpoints on localhost, not media.",
)

# ---- the rest of the conferencing/VoIP captures ---------------------------------------------
for cap in ("ndpi/pcap/whatsapp_login_call.pcap", "ndpi/pcap/whatsapp_login_chat.pcap"):
    rule(cap, ports("57621"), **SPOT)
rule(
    "ndpi/pcap/skype-conference-call.pcap",
    ANY,
    app=TEAMS,
    role="media",
    verdict="UNKNOWN",
    reason="NO_DTLS_KEYS_VIA_SIGNALLING",
    modifiers="",
    note=f"tshark -r {{cap}} {H} -T fields -e stun.att.type -e rtp.p_type -e udp.payload -> STUN Binding "
    "Requests with 0x8070 (MS implementation version; nDPI stun.c: Skype/Teams) and 0x8029/0x802a, then "
    "RTP PT 104 with bede extension and random payloads (no codec structure), no DTLS anywhere: SRTP "
    "with keys from Skype/Teams signalling, to 104.46.40.49 (an Azure customer range: hosting, not a "
    "published Teams media range). Whether Microsoft holds the keys is documentation, not visible.",
)
rule(
    "ndpi_4.2/pcap/skype_udp.pcap",
    ANY,
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -T fields -e frame.protocols -e udp.payload -> ..:udp:data only: 5 opaque "
    "datagrams (1697 02.., b06b 02..) with no recognised header; the app cannot be named from them "
    "(nDPI's Skype guess is a byte-pattern heuristic, not a documented marker).",
)
rule(
    "ndpi/pcap/h323-overflow.pcap",
    ANY,
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -d tcp.port==80,tpkt -T fields -e tpkt.version -e tpkt.length -e tcp.payload -> "
    "one segment 03000004: a TPKT (RFC 1006) header, the framing of H.323/H.225 call signalling, with an "
    "empty body (nDPI's H.323 overflow test); nothing encrypted, nothing hidden.",
)
rule(
    "ndpi/pcap/linecall_falsepositve.pcap",
    ANY,
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -T fields -e frame.protocols -e udp.payload -> ..:udp:data: datagrams to UDP "
    "5093 starting 00000f62 00000000 2d1f4837 followed by scrambled printable bytes; no recognised "
    "protocol, and (per the capture's name) not LINE.",
)
rule(
    "ndpi/pcap/rtcp_multiple_pkts_in_the_same_datagram.pcap",
    ANY,
    app="",
    role="media",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note="tshark -r {cap} -T fields -e rtcp.pt -e srtcp.e -e rtcp.sdes.text -> compound RTCP SR+SDES (200,202) "
    "and RR+SDES (201,202) both ways, report blocks and SDES CNAME/TOOL text decoded in clear; no SRTCP "
    "E-bit or tag: RTCP-only flow with readable reports.",
)
rule(
    "ndpi/pcap/sip_hello.pcapng",
    ANY,
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -T fields -e sip.Method -e sip.Status-Code -e udp.payload -> REGISTER, 401, 200 "
    "in clear and 22 'hello' keepalives (udp.payload 68656c6c6f).",
)
rule(
    "wireshark/captures/sip.pcapng",
    ports("2944"),
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -Y 'udp.port==2944' -T fields -e frame.protocols -e megaco.command -> "
    "raw:ip:udp:megaco: a text Megaco/H.248 message in clear.",
)
for cap, extra in (
    ("ndpi/pcap/dtls2.pcap", "DTLS 1.0 (0xfeff)"),
    ("ndpi/pcap/dtls_old_version.pcapng", "pre-RFC DTLS 0x0100"),
    ("wireshark/captures/dtls12-aes128ccm8.pcap", "DTLS 1.2, AES-128-CCM-8"),
    ("wireshark/captures/snakeoil-dtls.pcap", "pre-RFC DTLS 0x0100"),
    ("wireshark/captures/udt-dtls.pcapng.gz", "DTLS 1.0 over UDT, SNI 'ws-test'"),
    ("zeek/traces/tls/dtls13-wolfssl.pcap", "DTLS 1.3 (wolfSSL), ServerHello in clear"),
    ("zeek/traces/tls/dtls1_2.pcap", "DTLS 1.2"),
):
    rule(
        cap,
        ANY,
        app="",
        role="other",
        verdict="TRANSPORT_TLS",
        modifiers="",
        reason="",
        note="tshark -r {cap} -T fields -e ip.src -e dtls.record.version -e dtls.handshake.type -e "
        f"dtls.record.content_type -e dtls.use_srtp.protection_profile -> {extra}: ClientHello (1) "
        "answered by a ServerHello (2) (HelloVerifyRequest 3 where present), then encrypted records; no "
        "use_srtp offered or chosen: DTLS protecting a non-media application (VPN/test), role other.",
    )
rule(
    "zeek/traces/quic/quicdoq.pcap",
    ANY,
    app="",
    role="dns",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -d udp.port==853,quic -T fields -e quic.long.packet_type -e tls.handshake.type "
    "-e quic.version -> QUIC v1 Initial with ClientHello from the client, Initial (ServerHello 2) and "
    "Handshake packets from the server on UDP 853: DNS over QUIC with a completed handshake (tshark "
    "mis-labels port 853 as DTLS without -d).",
)
rule(
    "ndpi/pcap/tls_1.3_unidirectional_client.pcapng",
    ANY,
    app="",
    role="web/API",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -T fields -e ip.src -e tls.record.content_type -e tls.handshake.type -> only "
    "the client's packets: ClientHello (1), then CCS+application data records; the server's side "
    "(ServerHello, certificate, parameters) is absent from the capture, so the negotiated protection is "
    "not visible. Settled by: the server direction of the capture.",
)
rule(
    "ndpi/pcap/gquic.pcap",
    ANY,
    app="",
    role="web/API",
    verdict="UNKNOWN",
    reason="TLS_NOT_COMPLETED",
    modifiers="",
    note="tshark -r {cap} -T fields -e gquic.tag -e gquic.tag.sni -> a single gQUIC client hello (CHLO, "
    "SNI www.gstatic.com) and no answer from the server.",
)
rule(
    "ndpi/pcap/websocket.pcap",
    ANY,
    app="",
    role="web/API",
    verdict="PLAINTEXT",
    modifiers="",
    reason="",
    note="tshark -r {cap} -d tcp.port==12345,websocket -T fields -e frame.protocols -e tcp.payload -> "
    "websocket:data-text-lines: unmasked server text frames 8117 'Welcome, 192.168.43.1 !' and "
    "'21:33:52 ('192.168.43.1', 50999)..' readable; client frames masked (masking is not encryption).",
)
for cap in ("ndpi/pcap/zoom.pcap", "ndpi_4.2/pcap/zoom.pcap"):
    rule(
        cap,
        ports("54854"),
        app="",
        role="third-party telemetry",
        verdict="UNKNOWN",
        reason="TLS_NOT_COMPLETED",
        modifiers="",
        note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tls.handshake.type -e "
        "tls.handshake.extensions_server_name -> 4 copies of one ClientHello (SNI www.googletagmanager.com, "
        "listed in telemetry_domains.csv: Google Tag Manager) and 0 packets from the server.",
    )
rule(
    "ndpi/pcap/jabber.pcap",
    ports("5222"),
    app="",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CLEARTEXT_SIGNALLING",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e xmpp.starttls -e tcp.payload -> "
    "xml:xmpp stanzas in clear ('<?xml version=', '<stream:stream', '<iq type=', '<presence', '<message'); "
    "xmpp.starttls never present and no TLS record: XMPP without STARTTLS.",
)
rule(
    "ndpi/pcap/jabber.pcap",
    ports("5223"),
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> ..:tcp:data: "
    "length-prefixed binary frames (2500 4514 04.., 2600 1000 ..) on TCP 5223 to a Huawei Cloud address; "
    "not XMPP, not TLS (no 16 03 record); no recognised protocol.",
)
rule(
    "ndpi/pcap/threema.pcap",
    ANY,
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> ..:tcp only, opaque "
    "segments both ways on TCP 5222 to 185.88.236.110 (ndpi prefixes: Threema GmbH, not an app of the "
    "TAXONOMY list); no TLS record, no recognised handshake. Settled by: Threema's protocol description.",
)
PRINC = "other/Princeton-Cabernet_zoom-analysis/test_data/"
for n in ("test0", "test1", "test2", "test3", "test4", "test4_rawip", "test5", "test6", "test7"):
    rule(
        PRINC + n + ".pcap",
        lambda r: r["proto"] in ("tcp", "udp"),
        app="",
        role="other",
        verdict="UNKNOWN",
        reason="NO_PAYLOAD",
        modifiers="",
        note="tshark -r {cap} -T fields -e frame.len -e frame.cap_len -e frame.protocols -> every frame is "
        "cut at 64 bytes (frame.cap_len 64 < frame.len): the payload was not captured (at most 2 bytes "
        "after the UDP header, none after TCP), so nothing about its protection is visible.",
    )
ZT = PRINC + "zoom_test.pcap"
rule(
    ZT,
    ports("50508"),
    app="Zoom",
    role="media",
    verdict="PROPRIETARY_ENCRYPTED",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> (frames cut at 128 bytes) Zoom P2P media "
    "encapsulation at offset 0: type 0x10 (video) with RTP V=2 PT 98 (9062..) at +24 and 0x0f (audio) "
    "with RTP PT 99/bede at +19; payload bytes after the RTP header are random (no codec structure): "
    "Zoom's own encryption; P2P, keys from Zoom per its documentation.",
)
rule(
    ZT,
    ports("65027", "55189"),
    app="Zoom",
    role="media",
    verdict="PROPRIETARY_ENCRYPTED",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.payload -> to 144.195.52.3:8801 (ndpi prefixes "
    "zoom): hellos 010003/020003, 03 echoes, Zoom SFU type 05 with inner 0x0c/0x0d session messages, and "
    "from the server type 05 + inner 0x10 video / 0x0f audio with RTP (V=2, PT 98/99) whose payload "
    "after the header is random: Zoom's own media encryption (server-held keys per Zoom).",
)
rule(
    ZT,
    ports("64764"),
    app="Zoom",
    role="signalling",
    verdict="PLAINTEXT",
    modifiers="CONTROL_ONLY",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.payload -> to 144.195.52.3:8801 (ndpi prefixes "
    "zoom): hellos 010003/020003, 03 echoes, Zoom SFU type 05 with inner 0x0d session messages carrying a "
    "16-byte token and mostly zero bytes, and 0x0a keepalives (050..0a06 + zeros); no RTP/media.",
)

rule(
    "ndpi/pcap/doq_adguard.pcapng",
    ANY,
    app="",
    role="dns",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -T fields -e tls.handshake.extensions_alpn_str -e "
    "tls.handshake.extensions_server_name -e tls.handshake.type -> QUIC ClientHello with ALPN 'doq-i00' "
    "and SNI dns.adguard.com, ServerHello (2) from 94.140.14.14:784: DNS over QUIC to a public resolver, "
    "handshake completed.",
)

rule(
    "ndpi/pcap/wechat.pcap",
    ports("54084"),
    app="",
    role="web/API",
    verdict="UNKNOWN",
    reason="NO_HANDSHAKE_SEEN",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.len -e tcp.payload -> no SYN and no "
    "handshake: 604 bytes from the server on TCP 443 starting 8f134f19.. (a continuation, not a TLS "
    "record header) and bare ACKs from the client: the tail of a session begun before the capture.",
)
rule(
    "ndpi/pcap/dingtalk.pcap",
    ports("48910"),
    app="",
    role="other",
    verdict="UNKNOWN",
    reason="UNKNOWN_PROTOCOL",
    modifiers="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.payload -> one 104-byte client segment on "
    "TCP 443 starting 1064878001000100020002646b03 (not a TLS record: first byte 0x10, not 0x16) and no "
    "answer from the server: an unrecognised protocol on the HTTPS port.",
)

for cap in (
    "ndpi/pcap/dtls_certificate_fragments.pcap",
    "ndpi_4.2/pcap/dtls_certificate_fragments.pcap",
):
    rule(
        cap,
        ports("44443"),
        app="",
        role="other",
        verdict="TRANSPORT_TLS",
        modifiers="",
        reason="",
        note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e dtls.handshake.type -e "
        "dtls.record.content_type -e dtls.use_srtp.protection_profile -> DTLS 1.0: ClientHello, "
        "HelloVerifyRequest (3), ServerHello (2) + fragmented Certificate (11), then application data "
        "(23) both ways; no use_srtp: DTLS protecting a non-media application.",
    )
rule(
    "ndpi/pcap/dtls_certificate_fragments.pcap",
    ports("50001"),
    app="Discord",
    role="media",
    verdict="HOP_BY_HOP_SRTP",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e dtls.handshake.type -e "
    "dtls.use_srtp.protection_profile -> client ClientHello with use_srtp 0x0001, server ServerHello (2) "
    "selecting use_srtp 0x0001, certificates, CertificateRequest, client Certificate/Finished: DTLS-SRTP "
    "keyed with 104.153.87.149:50001, a Discord voice address (ndpi prefixes discord 104.153.84.0/22): "
    "the server holds the media keys.",
)
DMS = "ndpi/pcap/dtls_mid_sessions.pcapng"
rule(
    DMS,
    lambda r: "170.151.105.215" in (r["orig_h"], r["resp_h"]),
    app="",
    role="other",
    verdict="TRANSPORT_TLS",
    modifiers="",
    reason="",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e dtls.record.version -e dtls.record.content_type "
    "-> DTLS 1.2 application data records (17 fefd, epoch 1) both ways on UDP 443, no handshake in the "
    "capture (a session already established), no use_srtp: a DTLS VPN-style tunnel, not media.",
)
rule(
    DMS,
    ANY,
    app="",
    role="other",
    verdict="UNKNOWN",
    modifiers="",
    reason="NO_HANDSHAKE_SEEN",
    note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e dtls.record.content_type -> DTLS application "
    "data records (23) in one direction only and no handshake: the tail of a session begun before the "
    "capture; its protection parameters are not visible.",
)

# ---- END RULES


def _filter(r: Row) -> str:
    ipf = "ipv6.addr" if ":" in r["orig_h"] else "ip.addr"
    base = f"{ipf}=={r['orig_h']} && {ipf}=={r['resp_h']}"
    if r["proto"] in ("tcp", "udp"):
        if r["orig_p"] == r["resp_p"]:
            return f"{base} && {r['proto']}.port=={r['orig_p']}"
        return f"{base} && {r['proto']}.port=={r['orig_p']} && {r['proto']}.port=={r['resp_p']}"
    return f"{base} && {'icmpv6' if ':' in r['orig_h'] else 'icmp'}"


def apply(rows: list[Row]) -> list[Row]:
    out = []
    for r in rows:
        for cap, pred, upd in RULES:
            if cap == r["capture"] and pred(r):
                if upd.get("drop"):
                    r = {}
                    break
                r.update(upd)
                r["note"] = r["note"].replace("{cap}", r["capture"]).replace("{f}", _filter(r))
                break
        if r:
            out.append(r)
    return out


def main(argv: list[str]) -> int:
    with open(argv[1], newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0].keys())
    out = apply(rows)
    left = [r for r in out if "REVIEW" in r["note"]]
    for r in left:
        print(
            "REVIEW",
            r["capture"],
            r["proto"],
            r["orig_h"],
            r["orig_p"],
            r["resp_h"],
            r["resp_p"],
            r["note"][:200],
        )
    with open(argv[2], "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} rows, {len(left)} still REVIEW", file=sys.stderr)
    return 1 if left and "--strict" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
