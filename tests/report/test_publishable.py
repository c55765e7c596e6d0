"""--pseudonymize + ``inspector evidence``: publishable outputs and evidence pcaps.

Every byte of every file (CSV, JSON, Parquet, HTML, the evidence pcaps) is scanned for every real
local address, client address, STUN-reflexive address and unicast MAC of the capture (packed,
STUN-XORed, as text in its usual forms, reverse names); the real addresses are read from the
capture by tshark where installed (else from the analysis), and every finding's display filter is
run by tshark on its evidence pcap: exit 0 and at least one packet.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import inspector
from inspector.cli import main
from inspector.report.addrtext import Scanner, fit_v6, text_forms, xor
from inspector.report.pseudonymize import Pseudonymizer, _addresses, is_local_address
from inspector.report.rewrite import PacketRewriter

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "captures" / "real"
TSHARK = shutil.which("tshark")
FIELDS = [
    "eth.src",
    "eth.dst",
    "sll.src.eth",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4",
    "arp.src.hw_mac",
    "arp.dst.hw_mac",
    "dns.a",
    "dns.aaaa",
    "stun.att.ipv4",
    "stun.att.ipv6",
]
BUNDLED = ["zoom-2020.pcap", "webrtc-p2p.pcap", "teams-turn.pcap", "telemetry-heavy.pcap"]
SHARED_CAPTURES = [
    "ndpi/pcap/http_ipv6.pcap",  # IPv6
    "ndpi/pcap/stun.pcap",  # STUN, TURN DATA indications, XOR-MAPPED over IPv4 and IPv6
    "ndpi/pcap/whatsapp_login_chat.pcap",  # DNS, mDNS, DHCP
    "ndpi/pcap/sip.pcap",  # SIP/SDP addresses as text
    "wireshark/captures/dns+icmp.pcapng.gz",  # DNS, ICMP errors quoting packets
]


def personal(capture: Path) -> set[str]:
    """The real addresses and MACs that must not appear in a published folder."""
    result = inspector.analyze(capture)
    clients = {result.summary["attribution"]["client"], *result.sessions["client"].dropna()}
    reals = {c for c in clients if c}
    for column in ("xor_mapped", "mapped", "xor_peer"):
        for cell in result.tables["stun"][column].dropna():
            reals.update(_addresses(cell))
    for f in result.flows.itertuples():
        reals.update(a for a in (f.orig_h, f.resp_h) if is_local_address(a))
    if TSHARK:
        args = [a for f in FIELDS for a in ("-e", f)]
        out = subprocess.run(
            [TSHARK, "-n", "-r", str(capture), "-T", "fields", "-E", "separator=,", *args],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        for value in re.split(r"[,\s]+", out.lower()):
            if re.fullmatch(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}", value):
                raw = bytes.fromhex(value.replace(":", ""))
                if not raw[0] & 1 and any(raw):
                    reals.add(value)
                continue
            try:
                ip = str(ipaddress.ip_address(value))
            except ValueError:
                continue
            if is_local_address(ip) or ip in clients:
                reals.add(ip)
    return reals


def publish_and_export(
    capture: Path | list[Path], tmp: Path, *options: str
) -> tuple[Path, list[tuple[str, Path]]]:
    out = tmp / "out"
    paths = [str(c) for c in (capture if isinstance(capture, list) else [capture])]
    rc = main(["analyze", *paths, "-o", str(out), "--pseudonymize", "-q", *options])
    assert rc == 0
    exported = []
    for f in json.loads((out / "findings.json").read_text(encoding="utf-8")):
        pcap = out / f"{f['finding_id']}.pcap"  # inside OUTDIR: it is published with it
        assert main(["evidence", str(out), f["finding_id"], "-o", str(pcap), "-q"]) == 0
        exported.append((f["evidence_filter"], pcap))
    return out, exported


def scan_folder(out: Path, reals: set[str]) -> tuple[int, int, list[tuple[str, str]]]:
    scanner = Scanner(reals)
    files = size = 0
    hits = []
    for folder, _dirs, names in os.walk(out):
        for name in names:
            data = (Path(folder) / name).read_bytes()
            files += 1
            size += len(data)
            hits += [(name, real) for real, _at in scanner.find(data)]
    return files, size, hits


def check(
    capture: Path | list[Path], tmp: Path, monkeypatch: pytest.MonkeyPatch, *options: str
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp / "state"))
    captures = capture if isinstance(capture, list) else [capture]
    reals = set().union(*(personal(c) for c in captures))
    out, exported = publish_and_export(capture, tmp, *options)
    files, size, hits = scan_folder(out, reals)
    assert files > 30 and size > 0
    assert hits == [], hits[:5]
    assert not (out / ".inspector-cache").exists()
    if TSHARK:
        for display_filter, pcap in exported:
            done = subprocess.run(
                [
                    TSHARK,
                    "-n",
                    "-r",
                    str(pcap),
                    "-Y",
                    display_filter,
                    "-T",
                    "fields",
                    "-e",
                    "frame.number",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, (display_filter, done.stderr)
            assert done.stdout.split(), (pcap.name, display_filter)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_capture_is_publishable(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(ROOT / "captures" / name, tmp_path, monkeypatch)


@pytest.mark.parametrize("name", SHARED_CAPTURES)
def test_shared_capture_is_publishable(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (SHARED / name).is_file():
        pytest.skip("shared captures absent")
    check(SHARED / name, tmp_path, monkeypatch)


def test_several_captures_with_parquet_are_publishable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of several captures (index and per-capture pages, Parquet datasets); the map
    grows with each export, so no export reuses another capture's address as a pseudonym."""
    pytest.importorskip("pyarrow")
    captures = [ROOT / "captures" / "zoom-2020.pcap", ROOT / "captures" / "webrtc-p2p.pcap"]
    if (SHARED / SHARED_CAPTURES[1]).is_file():
        captures.append(SHARED / SHARED_CAPTURES[1])
    check(captures, tmp_path, monkeypatch, "--format", "csv,parquet", "--jobs", "1")
    assert any((tmp_path / "out" / "parquet").rglob("*.parquet"))
    assert len(list((tmp_path / "out" / "files").iterdir())) == len(captures)


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_evidence_checksums_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    _out, exported = publish_and_export(ROOT / "captures" / "teams-turn.pcap", tmp_path)
    bad = "ip.checksum.status==0 || tcp.checksum.status==0 || udp.checksum.status==0"
    for _filter, pcap in exported:
        checks = [f"{p}.check_checksum:TRUE" for p in ("ip", "tcp", "udp")]
        opts = [a for c in checks for a in ("-o", c)]
        done = subprocess.run(
            [TSHARK, "-n", "-r", str(pcap), *opts, "-Y", bad],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and done.stdout == "", pcap.name


def test_without_the_map_nothing_is_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    assert (
        main(
            [
                "analyze",
                str(ROOT / "captures" / "zoom-2020.pcap"),
                "-o",
                str(out),
                "--pseudonymize",
                "-q",
            ]
        )
        == 0
    )
    shutil.rmtree(tmp_path / "state")
    capsys.readouterr()
    pcap = tmp_path / "F1.pcap"
    assert main(["evidence", str(out), "F0001", "-o", str(pcap)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "address map" in err and "--map" in err
    assert not pcap.exists()


def test_map_is_private_and_outside_outdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    assert (
        main(
            [
                "analyze",
                str(ROOT / "captures" / "zoom-2020.pcap"),
                "-o",
                str(out),
                "--pseudonymize",
                "-q",
            ]
        )
        == 0
    )
    key = json.loads((out / "summary.json").read_text(encoding="utf-8"))["pseudonymized"]["key_id"]
    (path,) = (tmp_path / "state" / "conference-inspector" / "pseudonyms").iterdir()
    assert path.name == f"{key}.json" and path.stat().st_mode & 0o077 == 0


def test_text_fits_at_the_same_length() -> None:
    assert fit_v6("2001:db8:2::1", 13) == "2001:db8:2::1"
    assert fit_v6("2001:db8:2::1", 39) == "2001:0db8:0002:0000:0000:0000:0000:0001"
    assert fit_v6("2001:db8:2::1", 7) is None
    assert "1.1.168.192.in-addr.arpa" in text_forms("192.168.1.1")


def test_sdp_text_and_blanking() -> None:
    p = Pseudonymizer()
    p.register("192.168.1.20", "client")
    p.register("10.0.0.2", "local")
    rw = PacketRewriter(p)
    rw.freeze()
    payload = bytearray(b"c=IN IP4 192.168.1.20\r\nhost 10.0.0.2:5060 x")
    rw._texts(payload, 0)
    assert b"192.168.1.20" not in payload and b"10.0.0.2" not in payload
    assert payload.startswith(b"c=IN IP4 192.00") and b"xx.x.x.x:5060" in payload
    assert rw.notes.blanked == 1 and rw.notes.text == 1


def test_map_option_and_old_pseudonymised_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    capture = ROOT / "captures" / "zoom-2020.pcap"
    assert main(["analyze", str(capture), "-o", str(out), "--pseudonymize", "-q"]) == 0
    (kept,) = (tmp_path / "state" / "conference-inspector" / "pseudonyms").iterdir()
    moved = tmp_path / "elsewhere.json"
    kept.rename(moved)
    pcap = tmp_path / "F1.pcap"
    assert main(["evidence", str(out), "F0001", "-o", str(pcap), "--map", str(moved), "-q"]) == 0
    assert pcap.stat().st_size > 24
    # a folder pseudonymised by an older version (tokens, no key id): refused, nothing written
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    del summary["pseudonymized"]["key_id"]
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    capsys.readouterr()
    assert main(["evidence", str(out), "F0001", "-o", str(tmp_path / "old.pcap")]) == 2
    assert "older version" in capsys.readouterr().err
    assert not (tmp_path / "old.pcap").exists()


def _rewritten(packets: list[bytes], p: Pseudonymizer) -> tuple[list[bytes], PacketRewriter]:
    rw = PacketRewriter(p)
    for data in packets:
        rw.learn(1, data)
    rw.freeze()
    return [rw.rewrite(1, data) for data in packets], rw


def test_crafted_packets_headers_payloads_and_checksums() -> None:
    """ARP, a DNS answer naming a LAN device, an ICMP error quoting a packet, IPv6 and STUN
    XOR-MAPPED-ADDRESS: every real address and MAC goes, and every checksum verifies."""
    scapy = pytest.importorskip("scapy.all")
    ether = scapy.Ether(src="a4:83:e7:11:22:33", dst="f0:9f:c2:44:55:66")
    client, router, device = "192.168.1.20", "192.168.1.1", "192.168.1.77"
    stun = bytes.fromhex("0101000c2112a442") + bytes(12)
    stun += bytes.fromhex("0020000800019f2a") + xor(
        ipaddress.ip_address(client).packed, b"!\x12\xa4B"
    )
    packets = [
        ether / scapy.ARP(op=2, hwsrc="f0:9f:c2:44:55:66", psrc=router, pdst=client),
        ether
        / scapy.IP(src=router, dst=client)
        / scapy.UDP(sport=53, dport=40000)
        / scapy.DNS(
            qr=1, qd=scapy.DNSQR(qname="nas.lan"), an=scapy.DNSRR(rrname="nas.lan", rdata=device)
        ),
        ether
        / scapy.IP(src=router, dst=client)
        / scapy.ICMP(type=3, code=3)
        / scapy.IP(src=client, dst="8.8.8.8")
        / scapy.UDP(sport=40001, dport=53),
        ether
        / scapy.IPv6(src="fe80::a683:e7ff:fe11:2233", dst="2001:4860:4860::8888")
        / scapy.UDP(sport=5000, dport=3478)
        / scapy.Raw(b"hello"),
        ether
        / scapy.IP(src="142.250.82.99", dst=client)
        / scapy.UDP(sport=3478, dport=40002)
        / scapy.Raw(stun),
    ]
    raw = [bytes(pkt) for pkt in packets]
    p = Pseudonymizer()
    p.register(client, "client")
    out, rw = _rewritten(raw, p)
    reals = {
        client,
        router,
        device,
        "fe80::a683:e7ff:fe11:2233",
        "a4:83:e7:11:22:33",
        "f0:9f:c2:44:55:66",
    }
    for data in out:
        assert Scanner(reals).find(data) == []
    assert rw.notes.stun_xor == 1 and rw.notes.payload_bytes == 1  # the DNS answer
    for data in out:  # scapy recomputes every checksum (inner quoted ones too): same bytes
        fresh = scapy.Ether(data)
        layer = fresh
        while layer:
            if "chksum" in layer.fields:
                del layer.chksum
            layer = layer.payload
        assert bytes(fresh) == data, scapy.Ether(data).summary()
    dns = scapy.Ether(out[1])[scapy.DNS]
    assert dns.an[0].rdata == "198.51.100.2"  # the router is local 1, the NAS local 2
    assert scapy.Ether(out[0]).psrc == "198.51.100.1" and scapy.Ether(out[0]).pdst == "192.0.2.1"


def test_an_address_in_an_opaque_payload_refuses_the_export() -> None:
    """A real address the rewriter cannot reach (STUN-XOR-ed, but in a payload that is not STUN):
    nothing is exported, and the error says where (frame, byte) without printing the address."""
    scapy = pytest.importorskip("scapy.all")
    from inspector.errors import InputError
    from inspector.report.evidence import _pseudonymised
    from inspector.source.open import RawPacket

    client = "192.168.1.20"
    payload = b"opaque" + xor(ipaddress.ip_address(client).packed, b"!\x12\xa4B")
    pkt = (
        scapy.Ether(src="a4:83:e7:11:22:33", dst="f0:9f:c2:44:55:66")
        / scapy.IP(src=client, dst="142.250.82.99")
        / scapy.UDP(sport=40000, dport=9999)
        / scapy.Raw(payload)
    )
    data = bytes(pkt)
    p = Pseudonymizer()
    p.register(client, "client")
    with pytest.raises(InputError) as err:
        _pseudonymised([(7, RawPacket(0.0, 1, data, len(data)))], p)
    message = str(err.value)
    assert "frame 7 byte " + str(len(data) - 4) in message and "nothing written" in message
    assert client not in message


def test_mdns_device_names_take_their_host_token() -> None:
    """The device part of a .local name is host-N in the report; in the exported packets it is
    host-N too, padded to the same length (DNS label lengths and compression stay valid)."""
    scapy = pytest.importorskip("scapy.all")
    p = Pseudonymizer()
    assert p.text("Alices-iPhone.local") == "host-1.local"
    answer = scapy.DNSRR(rrname="Alices-iPhone.local", type="A", rdata="192.168.1.30")
    pkt = (
        scapy.Ether(src="a4:83:e7:11:22:33", dst="01:00:5e:00:00:fb")
        / scapy.IP(src="192.168.1.30", dst="224.0.0.251")
        / scapy.UDP(sport=5353, dport=5353)
        / scapy.DNS(qr=1, an=answer)
        / scapy.Raw(b" txt=Alices-iPhone.local")
    )
    (out,), rw = _rewritten([bytes(pkt)], p)
    assert b"alices" not in out.lower() and rw.notes.names == 2
    dns = scapy.Ether(out)[scapy.DNS]
    assert dns.an[0].rrname == b"host-1xxxxxxx.local."
    assert out.endswith(b" txt=host-1xxxxxxx.local")


def test_a_pseudonymised_run_into_a_kept_folder_drops_earlier_real_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OUTDIR holds the user's own file (so it is kept, not swapped) and an earlier plain run
    with Parquet and a resume cache: after --pseudonymize none of those remain."""
    pytest.importorskip("pyarrow")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "out"
    capture = str(ROOT / "captures" / "zoom-2020.pcap")
    assert main(["analyze", capture, "-o", str(out), "-q", "--format", "csv,parquet"]) == 0
    assert (out / ".inspector-cache").is_dir() and (out / "parquet").is_dir()
    (out / "my notes.txt").write_text("mine", encoding="utf-8")
    assert main(["analyze", capture, "-o", str(out), "-q", "--pseudonymize"]) == 0
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / ".inspector-cache").exists() and not (out / "parquet").exists()
    reals = personal(ROOT / "captures" / "zoom-2020.pcap")
    files, _size, hits = scan_folder(out, reals)
    assert files > 30 and hits == []
