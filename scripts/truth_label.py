# ruff: noqa: E501  (draft notes are long literal f-strings)
"""Summarise a capture per flow with tshark, to make hand-labelling the truth set fast.

Usage:
    python3 scripts/truth_label.py CAPTURE [CAPTURE...] [--root ../shared/captures/real]
        [--json OUT.json] [--decode-as udp.port==X,rtp ...]

For every 5-tuple (TCP/UDP; ICMP by type/code) it prints, from ONE tshark pass over the file:
packets and payload bytes per direction, the protocol stacks tshark reports (`frame.protocols`,
counted), and the values of the fields that decide a label (TLS/DTLS handshake types and SNI,
use_srtp profiles, STUN types/attributes, RTP payload types, RTCP packet types and the SRTCP E
bit, SIP methods, SDP media lines, DNS names, HTTP methods/hosts, QUIC versions, MGCP/Megaco/IAX2/
H.225/RTSP/XMPP markers) and the first payload bytes of each direction.

The command line it runs is printed at the top so a note can cite it exactly. RTP/RTCP/DTLS
heuristics (also inside STUN/TURN) are enabled, because tshark does not look for RTP on
arbitrary UDP ports otherwise.

With --draft OUT.csv it also writes one candidate truth row per flow, filled in by simple
rules over the tshark fields (see draft_row) and flagged `REVIEW` where the rules do not decide.
A draft is a typing aid, not a label: every row of tests/truth/truth.csv was read against this
output (and, where needed, a narrower tshark command named in the row's note) by a person.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HEURISTICS = (
    "rtp_udp",
    "rtp_stun",
    "rtcp_stun",
    "dtls_stun",
    "rtp_classicstun",
)

FIELDS = (
    "frame.number",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
    "tcp.len",
    "udp.length",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "frame.protocols",
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "tls.record.content_type",
    "dtls.handshake.type",
    "dtls.handshake.extensions_server_name",
    "dtls.use_srtp.protection_profile",
    "dtls.record.content_type",
    "stun.type",
    "stun.att.type",
    "stun.att.software",
    "stun.att.realm",
    "stun.att.username",
    "classicstun.type",
    "rtp.p_type",
    "rtp.ssrc",
    "rtcp.pt",
    "srtcp.e",
    "sip.Method",
    "sip.Status-Code",
    "sdp.media",
    "dns.qry.name",
    "dns.flags.response",
    "dns.a",
    "dns.aaaa",
    "http.request.method",
    "http.host",
    "http.response.code",
    "quic.long.packet_type",
    "quic.version",
    "gquic.tag.sni",
    "mgcp.req.verb",
    "megaco.command",
    "iax2.type",
    "h225.h323_message_body",
    "rtsp.method",
    "rtsp.status",
    "xmpp.stream",
    "xmpp.starttls",
    "udp.payload",
    "tcp.payload",
)

SUMMARY_FIELDS = FIELDS[18:-2]


@dataclass
class Flow:
    proto: str
    a: tuple[str, str]
    b: tuple[str, str]
    first_frame: int
    pkts: Counter = field(default_factory=Counter)
    payload: Counter = field(default_factory=Counter)
    stacks: Counter = field(default_factory=Counter)
    values: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    heads: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    syn_from: str = ""


def tshark_command(path: Path, decode_as: list[str]) -> list[str]:
    cmd = ["tshark", "-n", "-r", str(path)]
    for h in HEURISTICS:
        cmd += ["--enable-heuristic", h]
    for d in decode_as:
        cmd += ["-d", d]
    cmd += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    return cmd


def _endpoints(row: dict[str, str]) -> tuple[str, tuple[str, str], tuple[str, str]] | None:
    src = row["ip.src"] or row["ipv6.src"]
    dst = row["ip.dst"] or row["ipv6.dst"]
    # tunnelled packets (GTP, ICMP errors) carry several addresses: keep the innermost one
    src, dst = src.split(",")[-1], dst.split(",")[-1]
    if not src:
        return None
    if row["tcp.srcport"]:
        sp, dp = row["tcp.srcport"].split(",")[-1], row["tcp.dstport"].split(",")[-1]
        return "tcp", (src, sp), (dst, dp)
    if row["udp.srcport"]:
        sp, dp = row["udp.srcport"].split(",")[-1], row["udp.dstport"].split(",")[-1]
        return "udp", (src, sp), (dst, dp)
    if row["icmp.type"] or row["icmpv6.type"]:
        t = (row["icmp.type"] or row["icmpv6.type"]).split(",")[0]
        c = (row["icmp.code"] or row["icmpv6.code"]).split(",")[0]
        return "icmp", (src, t), (dst, c)
    return None


DNS_NAMES: dict[str, str] = {}


def collect(path: Path, decode_as: list[str]) -> tuple[list[str], list[Flow]]:
    cmd = tshark_command(path, decode_as)
    DNS_NAMES.clear()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    flows: dict[tuple, Flow] = {}
    for line in out.splitlines():
        row = dict(zip(FIELDS, line.split("\t"), strict=False))
        ends = _endpoints(row)
        if ends is None:
            continue
        proto, src, dst = ends
        if proto == "icmp":
            key = (proto, *sorted([src[0], dst[0]]))
        else:
            key = (proto, *sorted([src, dst]))
        fl = flows.get(key)
        if fl is None:
            fl = flows[key] = Flow(proto, src, dst, int(row["frame.number"]))
        d = "a>b" if src == fl.a or (proto == "icmp" and src[0] == fl.a[0]) else "b>a"
        fl.pkts[d] += 1
        plen = row["tcp.len"] or (
            str(int(row["udp.length"].split(",")[-1]) - 8) if row["udp.length"] else "0"
        )
        fl.payload[d] += int(plen.split(",")[-1] or 0)
        fl.stacks[row["frame.protocols"]] += 1
        if row.get("dns.flags.response") == "1" and row.get("dns.qry.name"):
            for ip in (row.get("dns.a", "") + "," + row.get("dns.aaaa", "")).split(","):
                if ip:
                    DNS_NAMES.setdefault(ip, row["dns.qry.name"].split(",")[0])
        if row["tcp.flags.syn"] == "1" and row["tcp.flags.ack"] == "0" and not fl.syn_from:
            fl.syn_from = d
        for f in SUMMARY_FIELDS:
            v = row.get(f, "")
            if v:
                fl.values[f][f"{d}:{v[:120]}"] += 1
        head = (row.get("udp.payload") or row.get("tcp.payload") or "").split(",")[-1]
        if head and len(fl.heads[d]) < 3:
            fl.heads[d].append(head[:48])
    return cmd, sorted(flows.values(), key=lambda f: f.first_frame)


def render(path: Path, cmd: list[str], flows: list[Flow]) -> str:
    lines = [f"# {path}", "# " + " ".join(cmd[: -2 * len(FIELDS)]) + " -T fields -e ...", ""]
    for fl in flows:
        lines.append(
            f"{fl.proto} {fl.a[0]}:{fl.a[1]} <-> {fl.b[0]}:{fl.b[1]}  first_frame={fl.first_frame} "
            f"pkts a>b={fl.pkts['a>b']} b>a={fl.pkts['b>a']} payload a>b={fl.payload['a>b']} "
            f"b>a={fl.payload['b>a']} syn_from={fl.syn_from or '-'}"
        )
        for stack, n in fl.stacks.most_common(6):
            lines.append(f"    stack {n:5d} {stack}")
        for f, cnt in fl.values.items():
            vals = ", ".join(f"{v} x{n}" for v, n in cnt.most_common(6))
            lines.append(f"    {f}: {vals}")
        for d, hs in fl.heads.items():
            lines.append(f"    head {d}: {' '.join(hs)}")
    return "\n".join(lines)


def to_json(fl: Flow) -> dict[str, object]:
    return {
        "proto": fl.proto,
        "a": list(fl.a),
        "b": list(fl.b),
        "first_frame": fl.first_frame,
        "pkts": dict(fl.pkts),
        "payload": dict(fl.payload),
        "syn_from": fl.syn_from,
        "stacks": dict(fl.stacks),
        "values": {k: dict(v) for k, v in fl.values.items()},
        "heads": dict(fl.heads),
    }


REF = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"
TRUTH_COLUMNS = (
    "capture",
    "proto",
    "orig_h",
    "orig_p",
    "resp_h",
    "resp_p",
    "direction_free",
    "app",
    "role",
    "verdict",
    "modifiers",
    "reason",
    "note",
)
VENDOR_SERVICES = {
    "zoom": "Zoom",
    "whatsapp": "WhatsApp",
    "ms_skype_teams": "Microsoft Teams/Skype",
    "webex": "Webex",
    "telegram": "Telegram",
    "discord": "Discord",
}
VENDOR_NAMES = {
    "Zoom": "Zoom",
    "Microsoft Teams": "Microsoft Teams/Skype",
    "Skype (consumer)": "Microsoft Teams/Skype",
    "Webex": "Webex",
    "Google Meet": "Google Meet",
    "Discord": "Discord",
    "WhatsApp": "WhatsApp",
    "Signal": "Signal",
    "Slack": "Slack",
    "Jitsi Meet (meet.jit.si)": "Jitsi",
}


def _vendor_tables() -> tuple[list[tuple[object, str, str]], list[tuple[str, str]]]:
    import csv
    import ipaddress

    nets: list[tuple[object, str, str]] = []
    names: list[tuple[str, str]] = []
    pref = REF / "ndpi" / "prefixes.csv"
    if pref.exists():
        for r in csv.DictReader(pref.open()):
            app = VENDOR_SERVICES.get(r["service"])
            if app:
                nets.append(
                    (
                        ipaddress.ip_network(r["prefix"], strict=False),
                        app,
                        "ndpi/prefixes.csv " + r["service"],
                    )
                )
    ven = REF / "vendors.csv"
    if ven.exists():
        for r in csv.DictReader(ven.open()):
            app = VENDOR_NAMES.get(r["vendor"])
            if not app:
                continue
            if r["kind"] in ("ipv4_cidr", "ipv6_cidr"):
                nets.append(
                    (
                        ipaddress.ip_network(r["value"], strict=False),
                        app,
                        "vendors.csv " + r["value"],
                    )
                )
            elif r["kind"] in ("domain", "domain_suffix"):
                names.append((r["value"].lower(), app))
    hosts = REF / "ndpi" / "hosts.csv"
    host_apps = {
        "Discord": "Discord",
        "FacebookMessenger": "Messenger",
        "GoogleMeet": "Google Meet",
        "Signal": "Signal",
        "Skype_Teams": "Microsoft Teams/Skype",
        "Teams": "Microsoft Teams/Skype",
        "Slack": "Slack",
        "Telegram": "Telegram",
        "Viber": "Viber",
        "Webex": "Webex",
        "WhatsApp": "WhatsApp",
        "WhatsAppFiles": "WhatsApp",
        "Zoom": "Zoom",
    }
    if hosts.exists():
        for r in csv.DictReader(hosts.open()):
            app = host_apps.get(r["service"])
            pat = r["pattern"].lower()
            if app and not pat.startswith("-") and not pat.endswith("."):
                names.append((pat.lstrip("*."), app))
    return nets, names


_TABLES: tuple | None = None
_TELEMETRY: list[tuple[str, str]] | None = None


def telemetry_role(name: str) -> str:
    """'first-party telemetry' / 'third-party telemetry' when the name is in telemetry_domains.csv."""
    import csv

    global _TELEMETRY
    if _TELEMETRY is None:
        path = REF / "telemetry_domains.csv"
        _TELEMETRY = []
        if path.exists():
            for r in csv.DictReader(path.open()):
                first = "first-party" in (r.get("sdk_name") or "").lower()
                _TELEMETRY.append(
                    (
                        r["domain_pattern"].lower(),
                        "first-party telemetry" if first else "third-party telemetry",
                    )
                )
    name = name.lower().rstrip(".")
    for pat, role in _TELEMETRY:
        if name == pat or name.endswith("." + pat):
            return role
    return ""


def vendor_of_ip(ip: str) -> tuple[str, str]:
    import ipaddress

    global _TABLES
    if _TABLES is None:
        _TABLES = _vendor_tables()
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "", ""
    for net, app, src in _TABLES[0]:
        if addr.version == net.version and addr in net:
            return app, src
    return "", ""


def vendor_of_name(name: str) -> str:
    global _TABLES
    if _TABLES is None:
        _TABLES = _vendor_tables()
    name = name.lower().rstrip(".")
    if name == "whispersystems.org" or name.endswith(".whispersystems.org"):
        return (
            "Signal"  # Open Whisper Systems, Signal's developer; nDPI host_match lists it as Signal
        )
    for suffix, app in _TABLES[1]:
        if name == suffix or name.endswith("." + suffix):
            return app
    return ""


def _vals(fl: Flow, f: str, d: str | None = None) -> list[str]:
    out = []
    for k in fl.values.get(f, {}):
        dd, v = k.split(":", 1)
        if d is None or dd == d:
            out.extend(v.split(","))
    return out


def _layers(fl: Flow) -> set[str]:
    lay: set[str] = set()
    for st in fl.stacks:
        parts = st.split(":")
        for i, p in enumerate(parts):
            if p in ("tcp", "udp", "icmp", "icmpv6"):
                lay.update(parts[i + 1 :])
                break
    return lay


def _orient(fl: Flow) -> tuple[tuple[str, str], tuple[str, str], str, str]:
    """Client -> server orientation and whether the tuple is direction-free."""

    def pick(d: str, why: str) -> tuple[tuple[str, str], tuple[str, str], str, str]:
        return (fl.a, fl.b, "no", why) if d == "a>b" else (fl.b, fl.a, "no", why)

    if fl.syn_from:
        return pick(fl.syn_from, "TCP SYN sender")
    for f, v, why in (
        ("tls.handshake.type", "1", "ClientHello sender"),
        ("dtls.handshake.type", "1", "DTLS ClientHello sender"),
        ("quic.long.packet_type", "0", "QUIC Initial sender"),
        ("dns.flags.response", "0", "DNS query sender"),
        ("stun.type", "0x0001", "STUN Binding Request sender"),
    ):
        for d in ("a>b", "b>a"):
            if v in _vals(fl, f, d):
                return pick(d, why)
    return fl.a, fl.b, "yes", "first packet sender (no handshake decides)"


def draft_row(cap: str, fl: Flow) -> dict[str, str]:
    """Candidate labels from tshark fields; `REVIEW` in the note where rules do not decide."""
    o, r, free, why = _orient(fl)
    lay = _layers(fl)
    filt = _filter(fl)
    cmd = f"tshark -r {cap} -Y '{filt}'"
    sni = sorted(
        {
            v
            for v in _vals(fl, "tls.handshake.extensions_server_name")
            + _vals(fl, "dtls.handshake.extensions_server_name")
            + _vals(fl, "gquic.tag.sni")
        }
    )
    names = sni + sorted(set(_vals(fl, "http.host")))
    dns_name = DNS_NAMES.get(r[0], "")
    if dns_name and not sni:
        names.append(dns_name)
    app, src = "", ""
    for n in names:
        if vendor_of_name(n):
            app, src = (
                vendor_of_name(n),
                f"server name {n}"
                + (
                    " (from a DNS answer in the capture: -Y 'dns.a=="
                    + r[0]
                    + "' -T fields -e dns.qry.name)"
                    if n == dns_name and n not in sni
                    else ""
                ),
            )
    if not app:
        app, src = vendor_of_ip(r[0])
        if not app:
            app, src = vendor_of_ip(o[0])
    tele = next((telemetry_role(n) for n in names if telemetry_role(n)), "")
    row = {
        "capture": cap,
        "proto": fl.proto,
        "orig_h": o[0],
        "orig_p": o[1],
        "resp_h": r[0],
        "resp_p": r[1],
        "direction_free": free,
        "app": app,
        "role": "other",
        "verdict": "UNKNOWN",
        "modifiers": "",
        "reason": "",
        "note": "",
    }
    pk = f"{fl.pkts['a>b'] + fl.pkts['b>a']} pkts ({'/'.join(str(fl.pkts[d]) for d in ('a>b', 'b>a'))}), orientation: {why}"
    appnote = f"; app from {src}" if app else ""
    hs = _vals(fl, "tls.handshake.type")
    dhs = _vals(fl, "dtls.handshake.type")
    if fl.proto != "icmp" and fl.payload["a>b"] + fl.payload["b>a"] == 0:
        row.update(
            reason="NO_PAYLOAD",
            note=f"{cmd} -T fields -e tcp.flags -e tcp.len -> no payload byte in either direction (handshake/teardown only); {pk}",
        )
    elif fl.proto == "icmp":
        row.update(
            verdict="PLAINTEXT",
            modifiers="CONTROL_ONLY",
            role="other",
            note=f"{cmd} -T fields -e {'icmpv6.type -e icmpv6.code' if ':' in o[0] else 'icmp.type -e icmp.code'} -> {o[1]}/{r[1]}; ICMP carries no conversation; {pk}",
        )
    elif lay & {"dns", "mdns", "llmnr", "nbns"}:
        q = sorted(set(_vals(fl, "dns.qry.name")))[:3]
        row.update(
            verdict="PLAINTEXT",
            modifiers="CLEARTEXT_DNS",
            role="dns",
            note=f"{cmd} -T fields -e frame.protocols -e dns.qry.name -> {'/'.join(sorted(lay & {'dns', 'mdns', 'llmnr', 'nbns'}))} {';'.join(q)}; {pk}",
        )
    elif "quic" in lay or "gquic" in lay:
        sd = "b>a" if o == fl.a else "a>b"
        pt = Counter(_vals(fl, "quic.long.packet_type", sd))
        shs = sorted(set(_vals(fl, "tls.handshake.type", sd)))
        ok = "2" in shs or ("gquic" in lay and fl.pkts[sd] > 0)
        row.update(
            verdict="TRANSPORT_TLS" if ok else "UNKNOWN",
            reason="" if ok else "TLS_NOT_COMPLETED",
            role="web/API",
            note=f"{cmd} -T fields -e ip.src -e quic.long.packet_type -e quic.version -e tls.handshake.type -> server long packet types {dict(pt)}, server TLS handshake types {shs} ({'ServerHello seen' if '2' in shs else 'no ServerHello'}); SNI {sni}{appnote}; {pk}"
            + ("" if ok or not fl.pkts[sd] else " REVIEW"),
        )
    elif hs or "tls" in lay:
        sh = "2" in _vals(fl, "tls.handshake.type")
        both_app = any(
            v.startswith("23") for v in _vals(fl, "tls.record.content_type", "a>b")
        ) and any(v.startswith("23") for v in _vals(fl, "tls.record.content_type", "b>a"))
        mid = not hs and any(v[:2] in ("21", "23") for v in _vals(fl, "tls.record.content_type"))
        if mid:
            ct = sorted(set(_vals(fl, "tls.record.content_type")))
            if both_app:
                row.update(
                    verdict="TRANSPORT_TLS",
                    role="web/API",
                    note=f"{cmd} -T fields -e ip.src -e tls.record.content_type -> {ct}: application data records (23) both ways of a TLS session established before the capture began (no handshake in the capture){appnote}; {pk}",
                )
            else:
                row.update(
                    verdict="UNKNOWN",
                    reason="NO_HANDSHAKE_SEEN",
                    role="web/API",
                    note=f"{cmd} -T fields -e ip.src -e tls.record.content_type -> {ct} in one direction only (or alerts only): tail of a TLS session begun before the capture; no handshake and no application data both ways, so the negotiated protection is not visible{appnote}; {pk}",
                )
        elif sh or both_app:
            row.update(
                verdict="TRANSPORT_TLS",
                role="web/API",
                note=f"{cmd} -T fields -e tls.handshake.type -e tls.handshake.extensions_server_name -> handshake types {sorted(set(hs))} ({'ServerHello seen' if sh else 'application data both ways'}); SNI {sni}{appnote}; {pk}",
            )
        else:
            row.update(
                verdict="UNKNOWN",
                reason="TLS_NOT_COMPLETED",
                role="web/API",
                note=f"{cmd} -T fields -e tls.handshake.type -> {sorted(set(hs))}, no ServerHello (type 2), server payload {fl.payload['b>a'] if o == fl.a else fl.payload['a>b']} bytes; SNI {sni}{appnote}; {pk} REVIEW",
            )
    elif dhs or "dtls" in lay:
        prof = sorted(set(_vals(fl, "dtls.use_srtp.protection_profile")))
        if not prof:
            row.update(
                verdict="TRANSPORT_TLS",
                role="other",
                note=f"{cmd} -T fields -e dtls.handshake.type -e dtls.use_srtp.protection_profile -> handshake {sorted(set(dhs))}, no use_srtp; {pk} REVIEW",
            )
        else:
            row.update(
                role="media",
                note=f"{cmd} -T fields -e dtls.handshake.type -e dtls.use_srtp.protection_profile -> handshake {sorted(set(dhs))}, use_srtp {prof}{appnote}; {pk} REVIEW",
            )
    elif "http" in lay or any(
        h[:8] in ("47455420", "504f5354", "48545450") for hs in fl.heads.values() for h in hs
    ):
        meth = sorted(set(_vals(fl, "http.request.method")))
        row.update(
            verdict="PLAINTEXT",
            role="web/API",
            note=f"{cmd} -T fields -e http.request.method -e http.host -e tcp.payload -> {meth} {sorted(set(_vals(fl, 'http.host')))[:3]}; payload starts 'GET '/'POST'/'HTTP' in clear{appnote}; {pk}",
        )
    elif lay & {"sip", "mgcp", "megaco", "iax2", "h225", "h245", "rtsp", "xmpp", "sdp", "bfcp"}:
        which = sorted(
            lay & {"sip", "mgcp", "megaco", "iax2", "h225", "h245", "rtsp", "xmpp", "sdp", "bfcp"}
        )
        m = sorted(
            set(
                _vals(fl, "sip.Method")
                + _vals(fl, "mgcp.req.verb")
                + _vals(fl, "rtsp.method")
                + _vals(fl, "megaco.command")
                + _vals(fl, "iax2.type")
            )
        )[:6]
        row.update(
            verdict="PLAINTEXT",
            modifiers="CLEARTEXT_SIGNALLING",
            role="signalling",
            note=f"{cmd} -T fields -e frame.protocols -e sip.Method -e mgcp.req.verb -e rtsp.method -e iax2.type -> {'/'.join(which)} {m}; {pk}"
            + (" REVIEW" if lay & {"rtp", "rtcp", "data"} else ""),
        )
    elif lay & {"rtp", "rtcp"}:
        row.update(
            role="media",
            note=f"{cmd} -T fields -e rtp.p_type -e rtcp.pt -e srtcp.e -> RTP PT {sorted(set(_vals(fl, 'rtp.p_type')))} RTCP PT {sorted(set(_vals(fl, 'rtcp.pt')))}; STUN {sorted(set(_vals(fl, 'stun.type')))}{appnote}; {pk} REVIEW",
        )
    elif lay & {"stun", "classicstun"} and not lay & {"data"}:
        row.update(
            verdict="PLAINTEXT",
            modifiers="CONTROL_ONLY",
            role="signalling" if app else "other",
            note=f"{cmd} -T fields -e {'classicstun.type' if 'classicstun' in lay else 'stun.type -e stun.att.type'} -> every datagram is STUN {sorted(set(_vals(fl, 'stun.type') + _vals(fl, 'classicstun.type')))}, no media{appnote}; {pk}",
        )
    elif "http" in lay or "ssdp" in lay:
        meth = sorted(set(_vals(fl, "http.request.method")))
        row.update(
            verdict="PLAINTEXT",
            role="web/API" if "http" in lay and "ssdp" not in lay else "other",
            note=f"{cmd} -T fields -e http.request.method -e http.host -> {meth} {sorted(set(_vals(fl, 'http.host')))[:3]} in clear{appnote}; {pk}",
        )
    elif lay & {
        "dhcp",
        "bootp",
        "ntp",
        "nbdgm",
        "smb",
        "browser",
        "igmp",
        "arp",
        "lldp",
        "cdp",
        "llc",
        "ssdp",
        "db-lsp-disc",
        "json",
    }:
        row.update(
            verdict="PLAINTEXT",
            role="other",
            note=f"{cmd} -T fields -e frame.protocols -> {sorted(lay)} decoded in clear; {pk}",
        )
    else:
        row.update(
            reason="UNKNOWN_PROTOCOL",
            note=f"{cmd} -T fields -e frame.protocols -> {sorted(lay) or ['(no payload)']}{appnote}; heads {dict(fl.heads)}; {pk} REVIEW",
        )
    if (
        row["role"] == "web/API"
        and (fl.proto == "udp" or fl.proto == "tcp")
        and "853" in (o[1], r[1])
    ):
        row["role"] = "dns"
        row["note"] += "; role dns: DNS over TLS/QUIC port 853"
    elif (
        row["role"] == "web/API"
        and app
        and not any(x in n for n in names for x in ("cdn", "media", "static", "assets", "dl-"))
    ):
        row["role"] = "signalling"
        row["note"] += f"; role signalling: the app's own server ({', '.join(names[:2]) or src})"
    if tele and row["role"] in ("web/API", "signalling"):
        row["role"] = tele
        row["note"] += f"; role: server name listed in telemetry_domains.csv ({tele})"
    return row


def _filter(fl: Flow) -> str:
    ipf = "ipv6.addr" if ":" in fl.a[0] else "ip.addr"
    base = f"{ipf}=={fl.a[0]} && {ipf}=={fl.b[0]}"
    if fl.proto in ("tcp", "udp"):
        if fl.a[1] == fl.b[1]:
            return f"{base} && {fl.proto}.port=={fl.a[1]}"
        return f"{base} && {fl.proto}.port=={fl.a[1]} && {fl.proto}.port=={fl.b[1]}"
    return f"{base} && {'icmpv6' if ':' in fl.a[0] else 'icmp'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("captures", nargs="+")
    ap.add_argument("--root", default="../shared/captures/real")
    ap.add_argument("--json", help="also write the per-flow summary as JSON here")
    ap.add_argument("--decode-as", action="append", default=[], help="tshark -d rule")
    ap.add_argument("--draft", help="write candidate truth rows (to be reviewed) to this CSV")
    ap.add_argument("--quiet", action="store_true", help="do not print the per-flow summary")
    args = ap.parse_args(argv)
    dump: dict[str, list[dict[str, object]]] = {}
    drafts: list[dict[str, str]] = []
    for cap in args.captures:
        path = Path(args.root) / cap
        if not path.exists():
            print(f"missing: {path}", file=sys.stderr)
            continue
        cmd, flows = collect(path, args.decode_as)
        if not args.quiet:
            print(render(Path(cap), cmd, flows))
            print()
        dump[cap] = [to_json(f) for f in flows]
        drafts += [draft_row(cap, f) for f in flows]
    if args.json:
        Path(args.json).write_text(json.dumps(dump, indent=1))
    if args.draft:
        import csv

        with open(args.draft, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=TRUTH_COLUMNS)
            w.writeheader()
            w.writerows(drafts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
