"""TLS key logs (NSS ``SSLKEYLOGFILE`` format), from a user's file or a pcapng Decryption
Secrets Block.

``CLIENT_RANDOM`` lines give TLS 1.2 master secrets; the TLS 1.3 labels (RFC 8446 traffic
secrets, as NSS, OpenSSL, BoringSSL and Python's ``ssl`` write them, and as QUIC stacks log them
for 1-RTT keys) give per-direction traffic secrets. Both are keyed by the ClientHello random.
The format is described in draft-ietf-tls-keylogfile (section 3 lists the labels).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from inspector.schema.base import Row

__all__ = [
    "DECRYPTED",
    "TLS13_LABELS",
    "DecryptedMark",
    "KeyLog",
    "parse_keylog",
    "parse_keylog_all",
]

#: internal table of the flows whose content a logged secret opened (not an output)
DECRYPTED = "_decrypted"

#: TLS 1.3 labels read (draft-ietf-tls-keylogfile section 3).
TLS13_LABELS = frozenset(
    {
        "CLIENT_EARLY_TRAFFIC_SECRET",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
        "EARLY_EXPORTER_SECRET",
    }
)
_SECRET_LENGTHS = (32, 48)  #: SHA-256 and SHA-384 suites


def parse_keylog_all(
    text: str,
) -> tuple[dict[bytes, bytes], dict[bytes, dict[str, bytes]], int]:
    """``(tls12 {random: master}, tls13 {random: {label: secret}}, other_lines)``.

    Comments, blank and malformed lines are skipped; lines with an unknown label are counted.
    """
    masters: dict[bytes, bytes] = {}
    tls13: dict[bytes, dict[str, bytes]] = {}
    other = 0
    for line in text.splitlines():
        parts = line.strip().rstrip("\\").split()  # some writers end lines with a backslash
        if len(parts) != 3 or parts[0].startswith("#"):
            continue
        label, random_hex, secret_hex = parts
        try:
            random, secret = bytes.fromhex(random_hex), bytes.fromhex(secret_hex)
        except ValueError:
            continue
        if len(random) != 32:
            other += 1
        elif label == "CLIENT_RANDOM" and len(secret) == 48:
            masters[random] = secret
        elif label in TLS13_LABELS and len(secret) in _SECRET_LENGTHS:
            tls13.setdefault(random, {})[label] = secret
        else:
            other += 1
    return masters, tls13, other


def parse_keylog(text: str) -> tuple[dict[bytes, bytes], int]:
    """``({client_random: master_secret}, other_lines)``: the TLS 1.2 part of a key log
    (TLS 1.3 lines count as other)."""
    masters, tls13, other = parse_keylog_all(text)
    return masters, other + sum(len(v) for v in tls13.values())


class KeyLog:
    """Secrets by ClientHello random, filled as key material arrives.

    ``sources`` are lists of key-log texts that may still grow (a pcapng reader appends the
    Decryption Secrets Blocks it meets); new texts are parsed on the next lookup.
    """

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.sources: list[list[str]] = [list(texts)]
        self._seen: list[int] = [0]
        self._secrets: dict[bytes, bytes] = {}
        self._tls13: dict[bytes, dict[str, bytes]] = {}
        self.unsupported_lines = 0

    def follow(self, texts: list[str]) -> None:
        """Also read ``texts`` (a list another stage keeps appending to)."""
        self.sources.append(texts)
        self._seen.append(0)

    def _refresh(self) -> None:
        for i, texts in enumerate(self.sources):
            while self._seen[i] < len(texts):
                secrets, tls13, other = parse_keylog_all(texts[self._seen[i]])
                self._secrets.update(secrets)
                for random, labels in tls13.items():
                    self._tls13.setdefault(random, {}).update(labels)
                self.unsupported_lines += other
                self._seen[i] += 1

    def master_secret(self, client_random: bytes) -> bytes | None:
        """The TLS 1.2 master secret of the connection with this ClientHello random."""
        self._refresh()
        return self._secrets.get(client_random)

    def tls13_secrets(self, client_random: bytes) -> dict[str, bytes]:
        """The TLS 1.3 secrets logged for this ClientHello random, by label ({} when none)."""
        self._refresh()
        return dict(self._tls13.get(client_random, {}))

    def __len__(self) -> int:
        self._refresh()
        return len(self._secrets) + len(self._tls13)


@dataclass(frozen=True, slots=True)
class DecryptedMark(Row):
    """A flow whose TLS records or QUIC packets a logged secret opened (some plaintext read).

    The evidence stage turns these into ``FlowEvidence.decrypted``; not an output table."""

    TABLE: ClassVar[str] = DECRYPTED
    uid: str
    ts: float
    protocol: str  #: ``tls`` or ``quic``
