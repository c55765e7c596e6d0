"""TLS key logs (NSS ``SSLKEYLOGFILE`` format), from a user's file or a pcapng Decryption
Secrets Block. Only ``CLIENT_RANDOM`` lines (TLS 1.2 master secrets) are used for now.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["KeyLog", "parse_keylog"]


def parse_keylog(text: str) -> tuple[dict[bytes, bytes], int]:
    """``({client_random: master_secret}, other_lines)``; malformed lines are skipped."""
    secrets: dict[bytes, bytes] = {}
    other = 0
    for line in text.splitlines():
        parts = line.strip().split()
        if len(parts) != 3 or parts[0].startswith("#"):
            continue
        label, random_hex, secret_hex = parts
        try:
            random, secret = bytes.fromhex(random_hex), bytes.fromhex(secret_hex)
        except ValueError:
            continue
        if label == "CLIENT_RANDOM" and len(random) == 32 and len(secret) == 48:
            secrets[random] = secret
        else:
            other += 1
    return secrets, other


class KeyLog:
    """Master secrets by ClientHello random, filled as key material arrives.

    ``sources`` are lists of key-log texts that may still grow (a pcapng reader appends the
    Decryption Secrets Blocks it meets); new texts are parsed on the next lookup.
    """

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.sources: list[list[str]] = [list(texts)]
        self._seen: list[int] = [0]
        self._secrets: dict[bytes, bytes] = {}
        self.unsupported_lines = 0

    def follow(self, texts: list[str]) -> None:
        """Also read ``texts`` (a list another stage keeps appending to)."""
        self.sources.append(texts)
        self._seen.append(0)

    def _refresh(self) -> None:
        for i, texts in enumerate(self.sources):
            while self._seen[i] < len(texts):
                secrets, other = parse_keylog(texts[self._seen[i]])
                self._secrets.update(secrets)
                self.unsupported_lines += other
                self._seen[i] += 1

    def master_secret(self, client_random: bytes) -> bytes | None:
        self._refresh()
        return self._secrets.get(client_random)

    def __len__(self) -> int:
        self._refresh()
        return len(self._secrets)
