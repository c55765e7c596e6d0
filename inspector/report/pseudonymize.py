"""Replace personal addresses with stable tokens before outputs are published (--pseudonymize).

What is replaced, in every table, every text column (explanations, evidence, display filters
included) and the summary:

* the client under study (``client-1``, ``client-2``...): the address the sessions name, even
  when it is a public one;
* every private, shared (CGNAT), link-local, loopback or unique-local address (``local-N``):
  home routers, resolvers, other devices on the LAN;
* addresses that belong to people rather than servers (``peer-N``): the public address STUN
  reported back to a participant (XOR-MAPPED-ADDRESS / MAPPED-ADDRESS), a TURN peer address
  (XOR-PEER-ADDRESS) and the far end of peer-to-peer media flows;
* MAC addresses (``mac-N``) and the device part of mDNS ``.local`` names (``host-N.local``).

Public server addresses are kept on purpose: which servers a client contacted is the evidence a
report rests on, and anyone can look them up. Tokens are given by a counter in first-seen order
(clients first, then flows in time order, then the other tables), so the same result always
gives the same tokens; the mapping is never written to OUTDIR. Flow ``uid`` values are kept (they
are derived from the 5-tuple, so a determined reader could test guesses of a private address
against them). Display filters that name a token are no longer valid Wireshark filters; run
``inspector evidence`` on the non-pseudonymised output to export packets.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from inspector.api import Result
from inspector.attribute.local import is_local, parse_addr

__all__ = ["Pseudonymizer", "is_local_address", "pseudonymize"]

_CANDIDATE = re.compile(
    r"(?P<mac>(?<![\w:.-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\2[0-9A-Fa-f]{2}){4}(?![\w:-]))"
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


class Pseudonymizer:
    """Gives each personal address a stable token and rewrites text with them."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._memo: dict[str, str] = {}

    def _new(self, key: str, kind: str) -> str:
        if key not in self.mapping:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self.mapping[key] = f"{kind}-{self._counts[kind]}"
        return self.mapping[key]

    def register(self, address: str, kind: str) -> None:
        """Give ``address`` a ``kind`` token now (so that it is numbered in this order)."""
        canon = _canonical(address)
        if canon is not None and canon not in self.mapping:
            self._new(canon, kind)

    def _replace(self, m: re.Match[str]) -> str:
        token = m.group()
        if m.group("mac") is not None:
            return self._new(token.lower().replace("-", ":"), "mac")
        if m.group("mdns") is not None:
            return self._new("mdns:" + token.lower(), "host")
        canon = _canonical(token)
        if canon is None:
            if m.group("v6") is not None and re.fullmatch(
                r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", token
            ):
                return self._new(token.lower(), "mac")
            return token
        if canon in self.mapping:
            return self.mapping[canon]
        if is_local_address(canon):
            return self._new(canon, "local")
        return token

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


def pseudonymize(result: Result) -> Result:
    """A copy of ``result`` with personal addresses replaced by tokens (see the module doc)."""
    p = Pseudonymizer()
    for address, kind in _personal(result.tables, result.summary):
        p.register(address, kind)
    flows = result.tables.get("flows")
    if flows is not None and len(flows):
        for h in flows.sort_values("ts", kind="stable")[["orig_h", "resp_h"]].to_numpy().ravel():
            if isinstance(h, str):
                p.text(h)
    tables = {name: p.frame(frame) for name, frame in result.tables.items()}
    summary = p.value(result.summary)
    for item in summary.get("inputs", []):
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            item["path"] = os.path.basename(item["path"])  # directories can name the user
    kinds: dict[str, int] = {}
    for token in p.mapping.values():
        kind = token.rsplit("-", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    summary["pseudonymized"] = {
        "tokens": dict(sorted(kinds.items())),
        "note": "personal addresses, MACs and .local names replaced by stable tokens; "
        "public server addresses kept as evidence",
    }
    return Result(tables, summary, [p.text(w) for w in result.warnings])
