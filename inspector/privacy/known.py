"""The user's own values (``--known-values FILE``) and the encodings they are looked for in.

File format: one value per line, optionally ``LABEL: value`` (the label is kept, e.g.
``email: jane@example.org``); blank lines and lines starting with ``#`` are skipped. A field
matches a known value when, case-insensitively, the field (or its URL-decoded or base64-decoded
text) contains the value, or the field contains the lowercase hex MD5, SHA-1 or SHA-256 of the
value or of its normalised form (trimmed and lowercased; for phone-like values also digits only,
with and without a leading ``+``). Values shorter than :data:`MIN_LENGTH` are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from inspector.privacy.request import Field

__all__ = ["MIN_LENGTH", "KnownValue", "match_known", "parse_known_values"]

MIN_LENGTH = 4
_HASHES = ("md5", "sha1", "sha256")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


@dataclass(frozen=True, slots=True)
class KnownValue:
    label: str
    value: str
    needles: tuple[tuple[str, str], ...]  #: (encoding, lowercase text to look for)


def _forms(value: str) -> list[str]:
    norm = value.strip().lower()
    forms = [value.strip(), norm]
    digits = re.sub(r"[^\d]", "", value)
    if len(digits) >= 7 and re.fullmatch(r"[+\d ()./-]+", value.strip()):
        forms += [digits, "+" + digits]
    return list(dict.fromkeys(forms))


def _known(label: str, value: str) -> KnownValue:
    needles: list[tuple[str, str]] = [("plain", value.strip().lower())]
    for form in _forms(value):
        for name in _HASHES:
            needles.append((name, hashlib.new(name, form.encode()).hexdigest()))
    return KnownValue(label, value.strip(), tuple(dict.fromkeys(needles)))


def parse_known_values(text: str) -> list[KnownValue]:
    """The known values listed in ``text`` (the file's content)."""
    out: list[KnownValue] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, value = line.partition(":")
        if not sep or " " in label.strip() or "@" in label or not label.strip().isidentifier():
            label, value = "", line
        if len(value.strip()) >= MIN_LENGTH:
            out.append(_known(label.strip(), value))
    return out


def _decodings(value: str) -> list[tuple[str, str]]:
    out = [("plain", value.lower())]
    unq = unquote_plus(value)
    if unq != value:
        out.append(("url", unq.lower()))
    text = value.strip()
    if _B64.fullmatch(text):
        padded = text + "=" * (-len(text) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(padded)
            except (binascii.Error, ValueError):
                continue
            try:
                out.append(("base64", raw.decode("utf-8").lower()))
            except UnicodeDecodeError:
                continue
            break
    return out


def match_known(f: Field, known: list[KnownValue]) -> list[tuple[KnownValue, str]]:
    """``(known value, encoding)`` for each known value field ``f`` carries."""
    hits: list[tuple[KnownValue, str]] = []
    decoded = _decodings(f.value)
    for kv in known:
        for enc, needle in kv.needles:
            if enc == "plain":
                found = next((d for d, text in decoded if needle in text), None)
                if found:
                    hits.append((kv, found))
                    break
            elif needle in decoded[0][1]:
                hits.append((kv, enc))
                break
    return hits
