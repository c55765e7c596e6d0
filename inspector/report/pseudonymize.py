"""Replace personal addresses with stable tokens before outputs are published (--pseudonymize).

What is replaced, in every table, every text column (explanations, evidence, display filters
included) and the summary:

* the client under study: the address the sessions name, even when it is a public one
  (IPv4 ``192.0.2.N``, IPv6 ``2001:db8:1::N``);
* every private, shared (CGNAT), link-local, loopback or unique-local address: home routers,
  resolvers, other devices on the LAN (``198.51.100.N``, ``2001:db8:2::N``);
* addresses that belong to people rather than servers: the public address STUN reported back
  to a participant (XOR-MAPPED-ADDRESS / MAPPED-ADDRESS), a TURN peer address (XOR-PEER-ADDRESS)
  and the far end of peer-to-peer media flows (``203.0.113.N``, ``2001:db8:3::N``);
* MAC addresses (the RFC 7042 documentation range ``00:00:5e:00:53:NN``, then locally
  administered ``02:00:5e:...``), reverse-lookup names of those
  addresses (``N.2.0.192.in-addr.arpa``) and the device part of mDNS ``.local`` names
  (``host-N.local``).

Pseudonyms are documentation addresses (RFC 5737, RFC 3849; 198.18.0.0/15 when a /24 is used
up) and documentation MACs, so every display filter stays valid Wireshark syntax; none is
an address the result itself contains. ``inspector evidence`` on the pseudonymised OUTDIR
rewrites the packets it exports with the same map (:mod:`inspector.report.rewrite`), and the
filters are written for that evidence pcap: a clause naming frame numbers of the original
capture becomes one on the DNS answers that named the server (``dns.a == S``), or is dropped
when the flows' own clauses already select those frames.

Public server addresses are kept on purpose: which servers a client contacted is the evidence a
report rests on, and anyone can look them up. Tokens are given by a counter in first-seen order
(clients first, then flows in time order, then the other tables), so the same result always
gives the same tokens; the mapping is never written to OUTDIR (the command line keeps it in the
user's state folder, :mod:`inspector.report.pseudomap`). Flow ``uid`` values are kept (they
are derived from the 5-tuple, so a determined reader could test guesses of a private address
against them).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Iterable
from typing import Any

import pandas as pd

from inspector.api import Result
from inspector.attribute.local import is_local, parse_addr

__all__ = ["Pseudonymizer", "is_local_address", "pseudonymize", "pseudonymize_run"]

_CANDIDATE = re.compile(
    r"(?P<rev4>(?<![\w.-])(?:\d{1,3}\.){4}(?i:in-addr\.arpa)(?![\w-]))"
    r"|(?P<rev6>(?<![\w.-])(?:[0-9A-Fa-f]\.){32}(?i:ip6\.arpa)(?![\w-]))"
    r"|(?P<mac>(?<![\w:.-])[0-9A-Fa-f]{2}(?P<sep>[:-])[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){4}(?![\w:-]))"
    r"|(?P<v6>(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[\w.-]+)?(?![\w:]))"
    r"|(?P<v4>(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d))"
    r"|(?P<mdns>(?<![\w.\\-])(?!_)[\w\\-]+(?=\.(?:_[\w-]+\.)*local\.?(?![\w.-])))",
    re.ASCII,
)


def is_local_address(text: str) -> bool:
    """True for private, CGNAT, link-local, loopback and unique-local addresses: a local device.

    The attribution stage's :func:`is_local` minus what names no device (multicast, broadcast,
    the unspecified block).
    """
    ip = parse_addr(text.split("%", 1)[0])
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or any(ip.version == n.version and ip in n for n in _NOT_DEVICES):
        return False
    return is_local(str(ip))


_NOT_DEVICES = (
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("::/128"),
)


def _canonical(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return None


def _addresses(cell: object) -> list[str]:
    """Addresses in an ``ip:port`` / ``[ip]:port`` list cell (STUN columns)."""
    if not isinstance(cell, str) or not cell:
        return []
    out = []
    for item in cell.split(";"):
        item = item.strip()
        if item.startswith("["):
            item = item[1:].split("]", 1)[0]
        elif item.count(":") == 1:
            item = item.split(":", 1)[0]
        canon = _canonical(item)
        if canon is not None:
            out.append(canon)
    return out


#: Where each kind's pseudonyms come from: documentation ranges, then the benchmarking /15.
_POOLS: dict[tuple[str, int], ipaddress.IPv4Network | ipaddress.IPv6Network] = {
    ("client", 4): ipaddress.ip_network("192.0.2.0/24"),
    ("local", 4): ipaddress.ip_network("198.51.100.0/24"),
    ("peer", 4): ipaddress.ip_network("203.0.113.0/24"),
    ("client", 6): ipaddress.ip_network("2001:db8:1::/48"),
    ("local", 6): ipaddress.ip_network("2001:db8:2::/48"),
    ("peer", 6): ipaddress.ip_network("2001:db8:3::/48"),
}
_OVERFLOW = {
    4: ipaddress.ip_network("198.18.0.0/15"),
    6: ipaddress.ip_network("2001:db8:ffff::/48"),
}
_FRAME_CLAUSE = re.compile(r"\s*\|\|\s*frame\.number in \{[^}]*\}")


def reverse_name(address: str) -> str:
    """``192.0.2.1`` -> ``1.2.0.192.in-addr.arpa`` (and the nibble form for IPv6)."""
    return ipaddress.ip_address(address).reverse_pointer


def _from_reverse(name: str) -> str | None:
    labels = name.lower().split(".")
    if name.lower().endswith("in-addr.arpa"):
        return _canonical(".".join(reversed(labels[:4])))
    nibbles = "".join(reversed(labels[:32]))
    return _canonical(":".join(nibbles[i : i + 4] for i in range(0, 32, 4)))


def _mac(n: int) -> str:
    """The RFC 7042 documentation MACs 00:00:5e:00:53:01-ff, then locally administered ones."""
    if n < 0x100:
        return f"00:00:5e:00:53:{n:02x}"
    return "02:00:5e:" + ":".join(f"{b:02x}" for b in n.to_bytes(3, "big"))


class Pseudonymizer:
    """Gives each personal address a stable pseudonym and rewrites text with them.

    ``mapping``: real (canonical address, lower-case MAC, ``mdns:name``) -> pseudonym;
    ``kinds``: real -> ``client`` / ``local`` / ``peer`` / ``mac`` / ``host``; ``reserved``:
    addresses and MACs the data contains, never handed out as pseudonyms.
    """

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.reserved: set[str] = set()
        self._given: set[str] = set()
        self._next: dict[tuple[str, int], int] = {}
        self._memo: dict[str, str] = {}

    def reserve_text(self, value: str) -> None:
        """Note every address and MAC in ``value`` so that none becomes a pseudonym."""
        for m in _CANDIDATE.finditer(value):
            if m.group("mac") is not None:
                self.reserved.add(m.group().lower().replace("-", ":"))
            elif m.group("v4") is not None or m.group("v6") is not None:
                canon = _canonical(m.group())
                if canon is not None:
                    self.reserved.add(canon)
                elif re.fullmatch(r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", m.group()):
                    self.reserved.add(m.group().lower())

    def _allocate(self, kind: str, version: int) -> str:
        if kind == "mac":
            while True:
                n = self._next[("mac", 0)] = self._next.get(("mac", 0), 0) + 1
                if _mac(n) not in self.reserved:
                    return _mac(n)
        if kind == "host":
            n = self._next[("host", 0)] = self._next.get(("host", 0), 0) + 1
            return f"host-{n}"
        pool = _POOLS[(kind, version)]
        while True:
            n = self._next[(kind, version)] = self._next.get((kind, version), 0) + 1
            if n < min(pool.num_addresses - 1, 1 << 16):
                candidate = str(pool.network_address + n)
            else:  # this /24 is used up: the shared overflow block
                spill = self._next[("spill", version)] = self._next.get(("spill", version), 0) + 1
                if spill >= _OVERFLOW[version].num_addresses - 1:
                    raise ValueError("more personal addresses than pseudonyms")
                candidate = str(_OVERFLOW[version].network_address + spill)
            if candidate not in self.reserved and candidate not in self._given:
                return candidate

    def _new(self, key: str, kind: str) -> str:
        if key not in self.mapping:
            version = 6 if ":" in key and kind not in ("mac", "host") else 4
            self.reserved.add(key)
            token = self._allocate(kind, version)
            self.mapping[key] = token
            self.kinds[key] = kind
            self._given.add(token)
        return self.mapping[key]

    def register(self, address: str, kind: str) -> str | None:
        """Give ``address`` a ``kind`` pseudonym now (so that it is numbered in this order)."""
        canon = _canonical(address)
        if canon is None or canon in self._given:
            return None
        return self._new(canon, kind)

    def register_mac(self, mac: str) -> str:
        key = mac.lower().replace("-", ":")
        return key if key in self._given else self._new(key, "mac")

    def address(self, canon: str) -> str | None:
        """The pseudonym of a canonical address: given before, or a new ``local`` one."""
        if canon in self.mapping:
            return self.mapping[canon]
        if canon in self._given:
            return canon
        if is_local_address(canon):
            return self._new(canon, "local")
        return None

    def _replace(self, m: re.Match[str]) -> str:
        token = m.group()
        if m.group("rev4") is not None or m.group("rev6") is not None:
            canon = _from_reverse(token)
            pseudo = self.address(canon) if canon is not None else None
            return token if pseudo is None else reverse_name(pseudo)
        if m.group("mac") is not None:
            return self.register_mac(token)
        if m.group("mdns") is not None:
            return self._new("mdns:" + token.lower(), "host")
        canon = _canonical(token)
        if canon is None:
            if m.group("v6") is not None and re.fullmatch(
                r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", token
            ):
                return self.register_mac(token)
            return token
        pseudo = self.address(canon)
        return token if pseudo is None else pseudo

    def text(self, value: str) -> str:
        """``value`` with every personal address, MAC and .local device name replaced."""
        if not value or ("." not in value and ":" not in value and "-" not in value):
            return value
        done = self._memo.get(value)
        if done is None:
            done = _CANDIDATE.sub(self._replace, value)
            self._memo[value] = done
        return done

    def value(self, obj: Any) -> Any:
        """Strings rewritten, containers walked; anything else unchanged."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.value(v) for v in obj)
        return obj

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for name, dtype in out.dtypes.items():
            if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
                out[name] = (
                    out[name]
                    .map(lambda v: self.text(v) if isinstance(v, str) else v, na_action="ignore")
                    .astype(dtype)
                )
        return out

    def state(self) -> dict[str, Any]:
        """Everything needed to go on giving the same pseudonyms (the private map file)."""
        return {
            "mapping": dict(self.mapping),
            "kinds": dict(self.kinds),
            "reserved": sorted(self.reserved),
            "next": [[k, v, n] for (k, v), n in sorted(self._next.items())],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Pseudonymizer:
        p = cls()
        p.mapping = {str(k): str(v) for k, v in state.get("mapping", {}).items()}
        p.kinds = {str(k): str(v) for k, v in state.get("kinds", {}).items()}
        p.reserved = {str(a) for a in state.get("reserved", [])}
        p._given = set(p.mapping.values())
        p._next = {(str(k), int(v)): int(n) for k, v, n in state.get("next", [])}
        return p


def _personal(
    tables: dict[str, pd.DataFrame], summary: dict[str, Any]
) -> Iterable[tuple[str, str]]:
    """(address, kind) to register first, in a fixed order."""
    client = summary.get("attribution", {}).get("client", "")
    if client:
        yield client, "client"
    sessions = tables.get("sessions")
    if sessions is not None and "client" in sessions:
        for c in sessions["client"].dropna():
            yield str(c), "client"
    flows = tables.get("flows")
    if flows is not None and len(flows):
        ordered = flows.sort_values("ts", kind="stable")
        if "peer_to_peer" in ordered:
            for h in ordered.loc[ordered["peer_to_peer"].fillna(False).astype(bool), "resp_h"]:
                if isinstance(h, str):
                    yield h, "peer"
    stun = tables.get("stun")
    if stun is not None and len(stun):
        for column in ("xor_mapped", "mapped", "xor_peer"):
            if column in stun:
                for cell in stun[column].dropna():
                    for a in _addresses(cell):
                        yield a, "peer"


def _strings(tables: dict[str, pd.DataFrame], summary: dict[str, Any]) -> Iterable[str]:
    yield json.dumps(summary, default=str)
    for frame in tables.values():
        for name, dtype in frame.dtypes.items():
            if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
                for v in frame[name].dropna().unique():
                    if isinstance(v, str):
                        yield v


def _frames_outside(frames: str, spans: list[tuple[int, int]]) -> bool:
    numbers = [int(n) for n in frames.split(";") if n.strip().isdigit()]
    return any(not any(a <= n <= b for a, b in spans) for n in numbers)


def evidence_filters(findings: pd.DataFrame, flows: pd.DataFrame | None) -> pd.DataFrame:
    """Filters that hold in the evidence pcap (whose frames are numbered afresh).

    A ``frame.number in {...}`` clause names frames of the original capture. When a listed frame
    lies outside the finding's flows it is the DNS answer that named the server: the clause
    becomes ``dns.a == S`` / ``dns.aaaa == S`` for the servers of those flows; otherwise the flows'
    own clauses select the frames already and it is dropped.
    """
    if "evidence_filter" not in findings or not len(findings):
        return findings
    spans: dict[str, tuple[int, int, str]] = {}
    if flows is not None and len(flows):
        for uid, a, b, server in flows[["uid", "first_frame", "last_frame", "resp_h"]].itertuples(
            index=False
        ):
            spans[str(uid)] = (int(a), int(b), str(server))
    out = findings.copy()
    rewritten = []
    for text, uids, frames in out[["evidence_filter", "uids", "frames"]].itertuples(index=False):
        text = str(text)
        if _FRAME_CLAUSE.search(text) is None:
            rewritten.append(text)
            continue
        text = _FRAME_CLAUSE.sub("", text)
        mine = [spans[u] for u in str(uids).split(";") if u in spans]
        if mine and _frames_outside(str(frames), [(a, b) for a, b, _s in mine]):
            servers = sorted({s for _a, _b, s in mine})
            text += "".join(f" || dns.{'aaaa' if ':' in s else 'a'} == {s}" for s in servers[:8])
        rewritten.append(text)
    out["evidence_filter"] = pd.array(rewritten, dtype=findings["evidence_filter"].dtype)
    return out


def pseudonymize_run(result: Result) -> tuple[Result, Pseudonymizer]:
    """A copy of ``result`` with personal addresses replaced (see the module doc), and the map.

    ``summary.pseudonymized.key_id`` (random) names the private map file the command line
    keeps (:mod:`inspector.report.pseudomap`), so that ``inspector evidence`` can find it.
    """
    p = Pseudonymizer()
    for text in _strings(result.tables, result.summary):
        p.reserve_text(text)
    for address, kind in _personal(result.tables, result.summary):
        p.register(address, kind)
    flows = result.tables.get("flows")
    if flows is not None and len(flows):
        for h in flows.sort_values("ts", kind="stable")[["orig_h", "resp_h"]].to_numpy().ravel():
            if isinstance(h, str):
                p.text(h)
    source = dict(result.tables)
    if "findings" in source:
        source["findings"] = evidence_filters(source["findings"], flows)
    tables = {name: p.frame(frame) for name, frame in source.items()}
    summary = p.value(result.summary)
    for item in summary.get("inputs", []):
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            item["path"] = os.path.basename(item["path"])  # directories can name the user
    capture = summary.get("capture")
    if isinstance(capture, dict) and isinstance(capture.get("written_to"), str):
        capture["written_to"] = os.path.basename(capture["written_to"])
    kinds: dict[str, int] = {}
    for kind in p.kinds.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    summary["pseudonymized"] = {
        "tokens": dict(sorted(kinds.items())),
        "key_id": secrets.token_hex(16),
        "note": "personal addresses and MACs replaced by documentation addresses and locally "
        "administered MACs, .local names by host-N; public server addresses kept as evidence",
    }
    return Result(tables, summary, [p.text(w) for w in result.warnings]), p


def pseudonymize(result: Result) -> Result:
    """A copy of ``result`` with personal addresses replaced by pseudonyms (see the module doc)."""
    return pseudonymize_run(result)[0]
