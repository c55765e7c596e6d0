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
rule(WA, ports("5222"), app="WhatsApp", role="signalling", verdict="UNKNOWN", reason="TLS_NOT_COMPLETED",
     modifiers="",
     note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.payload -> only the client sends "
     "(-z conv,tcp: 0 packets from the server side); first segment 45440001 ('ED' routing "
     "prologue) then 57410502 ('WA' 5.2 prologue) and a protobuf HandshakeMessage (12 .. 0a 20 + "
     "32-byte ephemeral key) = WhatsApp Noise ClientHello; tshark has no dissector for it and the "
     "server's handshake is absent, so whether the session was established is not visible. App from "
     "the 'WA' prologue (vendor framing). Settled by: a capture with the server direction.")
WLC = "ndpi/pcap/whatsapp_login_call.pcap"
WVM = "ndpi/pcap/whatsapp_voice_and_message.pcap"
WLCH = "ndpi/pcap/whatsapp_login_chat.pcap"
FUNXMPP = ("tshark -r {cap} -Y '{f}' -T fields -e ip.src -e tcp.payload -> client's first bytes "
           "5741 0105 ('WA' 1.5 FunXMPP prologue) then tokenised binary stanzas; server frames start "
           "000005f8 then frames flagged 0x80 ('80 00 ..'); tshark decodes no XMPP fields from it "
           "(xmpp.* empty; frame.protocols shows at most a misfired xml/xmpp heuristic). The 0x80 "
           "frame flag means 'encrypted' only by reverse-engineered protocol knowledge, not by a "
           "visible key exchange. App from the 'WA' prologue. Settled by: a FunXMPP dissector.")
for cap in (WLC, WVM, WLCH):
    rule(cap, lambda r: r["proto"] == "tcp" and r["resp_h"].startswith(("184.173.", "158.85.", "173.192.")),
         app="WhatsApp", role="signalling", verdict="UNKNOWN", reason="UNKNOWN_PROTOCOL", modifiers="",
         note=FUNXMPP)
WA_STUN = ("tshark -r {cap} -Y '{f}' -V -> STUN Allocate Request (0x0003) carrying 'Unknown "
           "attribute 0x4000' (102 bytes; nDPI stun.c: attributes 0x4000-0x4002 = WhatsApp call) and "
           "Allocate Success (0x0103) with XOR-MAPPED-ADDRESS; {media}")
for cap in (WLC, WVM):
    rule(cap, lambda r: r["resp_p"] == "3478" and "rtp" not in r["note"],
         app="WhatsApp", role="signalling", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
         note=WA_STUN.format(cap="{cap}", f="{f}", media="no other datagrams: relay allocation only, no media"))
    rule(cap, lambda r: r["resp_p"] == "3478" and "RTP PT" in r["note"],
         app="WhatsApp", role="relay", verdict="LIKELY_E2E", modifiers="", reason="",
         note=WA_STUN.format(cap="{cap}", f="{f}", media=(
             f"then {H} -T fields -e rtp.p_type -e rtp.payload -> RTP PT 120 whose payloads show no "
             "codec structure, and RTCP-typed datagrams (81c9 ...) longer than their RTCP length field "
             "(trailer = SRTCP index + tag): SRTP media through WhatsApp's relay. LIKELY_E2E rests on "
             "WhatsApp's documented end-to-end call keys (WhatsApp Encryption Overview), not on the "
             "capture; the peer behind the relay is not visible.")))
    rule(cap, lambda r: r["resp_p"] not in ("3478",) and r["proto"] == "udp" and "91.253.176.65" in (r["orig_h"], r["resp_h"]),
         app="", role="media", verdict="UNKNOWN", reason="NO_HANDSHAKE_SEEN", modifiers="",
         note=(f"tshark -r {{cap}} -Y '{{f}}' {H} -T fields -e stun.type -e stun.att.type -e rtp.p_type "
               "-> STUN Binding Request/Success (0x0001/0x0101) with only MESSAGE-INTEGRITY (0x0008), then "
               "RTP PT 120 both ways with payloads showing no codec structure: P2P media. No DTLS and no "
               "key exchange on the flow, and its own packets name no app (no vendor STUN attribute, "
               "address not in a vendor range), so neither encryption nor E2E can be read from it. "
               "Settled by: the call's signalling keys (WhatsApp) tied to this 5-tuple."))
    rule(cap, lambda r: "1.194.90.191" in (r["orig_h"], r["resp_h"]),
         app="", role="other", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
         note="tshark -r {cap} -Y '{f}' -T fields -e stun.type -e stun.att.type -> only outgoing STUN "
         "Binding Requests (0x0001, MESSAGE-INTEGRITY 0x0008 only), no answer, no media; no vendor attribute.")

# ---- Zoom -----------------------------------------------------------------------------------
SPOT = dict(app="", role="other", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
            note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> 53706f7455647030 = ASCII "
            "'SpotUdp0' (Spotify LAN discovery beacon, UDP 57621 broadcast), 44 bytes, no conversation; "
            "not a Zoom flow whatever runs beside it.")
for cap in ("ndpi/pcap/zoom.pcap", "ndpi_4.2/pcap/zoom.pcap"):
    rule(cap, ports("57621"), **SPOT)
    rule(cap, ports("993"), app="", role="other", verdict="TRANSPORT_TLS", modifiers="", reason="",
         note="tshark -r {cap} -Y '{f}' -T fields -e tls.record.content_type -e tls.record.version -> 23 "
         "(application data, TLS 1.2 records 1703 03) from the client only: tail of an IMAPS session "
         "established before the capture (application data exists only after a completed handshake).")
    rule(cap, ports("80"), app="", role="other", verdict="UNKNOWN", reason="UNKNOWN_PROTOCOL", modifiers="",
         note="tshark -r {cap} -Y '{f}' -T fields -e frame.protocols -e tcp.payload -> eth:ethertype:ip:tcp "
         "only (no http layer): TCP port 80 carrying opaque bytes (8e4552a4..., cd1ebbb7...), no HTTP "
         "request line. Neither cleartext nor a visible key exchange. Settled by: knowing the protocol.")
    rule(cap, ports("58327"), app="Zoom", role="signalling", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
         note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.length -e udp.payload -> Zoom UDP "
         "framing (nDPI zoom.c): hello 010002.. / 020001.., 04000000/03000000 echo pair, 050c01/050d01 "
         "session token, and 179 datagrams of 1,037 bytes '0515010000..' followed by 1,002 bytes of 0x01 "
         "(bandwidth probes: 1,002 of 1,029 bytes are 01). No RTP, no media payload: probes/hellos only.")
    rule(cap, ports("61731"), app="Zoom", role="signalling", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
         note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> Zoom UDP framing: hello 010002/020001, "
         "04/03 echo, 050d00 session token, 050a06 followed by zero bytes (keepalive). No media.")
    rule(cap, ports("60620"), app="Zoom", role="media", verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
         note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> Zoom UDP framing: hellos 010002/020001, "
         "04/03 echo, 050c01/050d01 token, and one 052201.. datagram whose bytes from offset 17 are "
         "80c80006 01000402 e13779d7.. (RTCP SR: V=2 PT=200 len 6, NTP timestamp, packet count 5) then "
         "81ca (SDES): readable RTCP only, no RTP media on this 5-tuple.")
ZP = "ndpi/pcap/zoom_p2p.pcapng"
HELLO = ("tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> every datagram starts 1f0201 (Zoom P2P "
         "hello, nDPI zoom.c P2P rule) and carries in clear the peer's address as a string "
         "(e.g. '10.78.14.178' / '192.168.1.226') and a UUID ('$C5EADFA1-E2D0-...'); one-sided, no media.")
rule(ZP, (lambda r: r["resp_p"] in ("47312", "49586", "41036") or r["orig_p"] in ("47312", "49586", "41036")),
     app="Zoom", role="signalling", verdict="PLAINTEXT", modifiers="CONTROL_ONLY;METADATA_LEAK", reason="", note=HELLO)
rule(ZP, ports("46757"), app="Zoom", role="media", verdict="PROPRIETARY_ENCRYPTED",
     modifiers="METADATA_LEAK;MIXED_CONTENT", reason="",
     note="tshark -r {cap} -Y '{f}' -T fields -e ip.src -e udp.payload -> Zoom P2P media encapsulation "
     "at offset 0 (no SFU header): type 0x0f audio with RTP (V=2, PT 113, bede extension) at +19, "
     "0x10 video with RTP PT 98/110 at +24, 0x15 bandwidth probes (0101..), 0x1f hellos carrying "
     "'192.168.1.226' and a UUID in clear (METADATA_LEAK), 0x22 with readable RTCP SR 80c80006.. "
     "(MIXED_CONTENT). RTP payloads after the header: video 1c00/1c40/1c80 (FU-A indicator) then "
     "random bytes with FU NAL type 0; audio a length/counter prefix then random bytes: no codec "
     "structure. Zoom's own scheme; P2P is not end-to-end (keys from Zoom's servers per Zoom).")
rule("ndpi/pcap/zoom.pcap", ports("45634"), app="Zoom", role="signalling", verdict="PLAINTEXT",
     modifiers="CONTROL_ONLY", reason="",
     note="tshark -r {cap} -Y 'udp.port==45634' -T fields -e ip.src -e udp.payload (inner packets of a "
     "GTP-U tunnel, frame.protocols ..:gtp:ip:udp) -> 35 '03000000..' / 33 '04000000..' 89-byte echo "
     "pairs and 13 Zoom-framed '050f..' datagrams (byte 7 = 04, from Zoom) whose payload holds the "
     "cleartext string 'bw_level_audio'; no RTP, no media: keepalives and bandwidth control only.")
rule("ndpi/pcap/stun_zoom.pcapng", ANY, app="Zoom", role="other", verdict="TRANSPORT_TLS", modifiers="", reason="",
     note="tshark -r {cap} -Y '{f} && dtls' -T fields -e dtls.record.content_type -e "
     "dtls.use_srtp.protection_profile -e dtls.handshake.type -e x509sat.uTF8String -> client offers "
     "use_srtp 0x0007,0x0008,0x0001,0x0002 but the ServerHello (type 2) from the Zoom address (ndpi "
     "prefixes zoom) selects none; certificate CN '*.cloud.zoom.us'; then DTLS application data (23) "
     "both ways and STUN 0x0001/0x0101: a completed DTLS session without SRTP (data channel), no RTP.")

# ---- Discord --------------------------------------------------------------------------------
DC = "ndpi/pcap/discord.pcap"
DISC_MEDIA = (f"tshark -r {{cap}} -Y '{{f}}' {H} -T fields -e ip.src -e udp.payload -e rtp.p_type -e "
              "rtp.payload -> Discord voice framing: IP discovery request 0001 0046 <ssrc> + zeros and "
              "reply 0002 0046 <ssrc> + the client's public address as ASCII ('84.59.13...', "
              "METADATA_LEAK), 8-byte '1337cafe..' pings, then RTP PT 120 (bede extension) whose payload "
              "is random bytes ending in a 4-byte little-endian counter that steps by one per packet "
              "(..cd070080, ..ce070080: Discord's nonce suffix), RTCP-typed datagrams longer than their "
              "length field: Discord's own transport encryption with keys from Discord's voice server "
              "(no SRTP/DTLS). App from the vendor framing{rng}.")
rule(DC, lambda r: r["proto"] == "udp" and "RTP PT" in r["note"], app="Discord", role="media",
     verdict="PROPRIETARY_ENCRYPTED", modifiers="METADATA_LEAK", reason="",
     note=DISC_MEDIA.replace("{rng}", " and, for 66.22.x, the ndpi prefixes discord range"))
rule(DC, lambda r: r["proto"] == "udp" and "000100460000" in r["note"], app="Discord", role="signalling",
     verdict="PLAINTEXT", modifiers="CONTROL_ONLY;METADATA_LEAK", reason="",
     note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> one IP discovery request "
     "000100460000ace3 + zeros and its reply 000200460000ace3 + '84.59.13..' (the client's public "
     "address in ASCII): Discord voice IP discovery only, no media.")
rule(DC, lambda r: r["proto"] == "udp" and "1337cafe" in r["note"], app="Discord", role="signalling",
     verdict="PLAINTEXT", modifiers="CONTROL_ONLY", reason="",
     note="tshark -r {cap} -Y '{f}' -T fields -e udp.payload -> one 8-byte '1337cafe<n>000000' each way "
     "(Discord voice-server latency ping) to 66.22.x:50004 (ndpi prefixes discord): probe only.")

# ---- END RULES


def _filter(r: Row) -> str:
    ipf = "ipv6.addr" if ":" in r["orig_h"] else "ip.addr"
    base = f"{ipf}=={r['orig_h']} && {ipf}=={r['resp_h']}"
    if r["proto"] in ("tcp", "udp"):
        if r["orig_p"] == r["resp_p"]:
            return f"{base} && {r['proto']}.port=={r['orig_p']}"
        return f"{base} && {r['proto']}.port=={r['orig_p']} && {r['proto']}.port=={r['resp_p']}"
    return f"{base} && icmp"


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
    rows = list(csv.DictReader(open(argv[1], newline="")))
    fields = list(rows[0].keys())
    out = apply(rows)
    left = [r for r in out if "REVIEW" in r["note"]]
    for r in left:
        print("REVIEW", r["capture"], r["proto"], r["orig_h"], r["orig_p"], r["resp_h"], r["resp_p"], r["note"][:200])
    with open(argv[2], "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} rows, {len(left)} still REVIEW", file=sys.stderr)
    return 1 if left and "--strict" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
