"""Plain-language vocabulary shared by every report, and safe display of capture strings.

Capture strings (server names, Hosts, DNS names, User-Agents) are hostile input: they can hold
terminal escape codes, bidi overrides that reverse what a reader sees, or line breaks that forge
table rows. :func:`safe_text` shows every such character as a visible escape (``\\x1b``,
``\\u202e``) so that what is displayed is what was on the wire, and nothing is interpreted.
Escaping for HTML or spreadsheets is done on top of it by each output.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, datetime

from inspector.vocab import Severity

__all__ = [
    "CONFIDENCE_TEXT",
    "FINDING_TITLES",
    "SEVERITY_ORDER",
    "SEVERITY_TEXT",
    "VERDICT_MEANING",
    "VERDICT_SHORT",
    "count",
    "human_bytes",
    "iso_time",
    "named_by",
    "plain",
    "safe_text",
    "verdict_phrase",
]

#: C0/C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and BOM, line/paragraph
#: separators, interlinear annotation and lone surrogates: all shown as escapes.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: object) -> str:
    """``value`` as display text with control and invisible formatting characters made visible.

    >>> safe_text("\\x1b[31mred")
    '\\\\x1b[31mred'
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape_char, text)


@functools.lru_cache(maxsize=1 << 16)
def _safe_str(value: str) -> str:
    return safe_text(value)


def plain(value: object) -> str:
    """Missing values (None, NaN, pandas NA) as ""; anything else through :func:`safe_text`.

    A report shows the same names and addresses many times over: a ``str`` is made safe once
    and remembered (bounded)."""
    if type(value) is str:
        return _safe_str(value)
    if value is None:
        return ""
    try:
        if value != value:  # NaN
            return ""
    except (TypeError, ValueError):  # pandas NA raises on bool()
        return ""
    if type(value).__name__ == "NAType":
        return ""
    return safe_text(value)


def human_bytes(n: float | int) -> str:
    """``1536`` -> ``'1.5 kB'`` (decimal units, as network tools count)."""
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - loop always returns


def iso_time(ts: float | None) -> str:
    """Epoch seconds as ``2023-11-14 22:13:20.123 UTC``; "" when unknown."""
    if ts is None or ts != ts:
        return ""
    try:
        dt = datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError, OSError):  # a corrupt record's time, beyond year 9999
        return f"{float(ts):.3f} s after 1970 (outside the calendar)"
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d} UTC"


SEVERITY_ORDER = {str(s): s.rank for s in Severity}

SEVERITY_TEXT = {
    "high": "High: content or identity exposed to a third party or to anyone on the path.",
    "medium": "Medium: data sent somewhere a user would not expect, or protection below "
    "current standards.",
    "low": "Low: metadata visible on the network path (for example which names were looked up).",
    "info": "Information: how the call's own traffic is protected; not a problem by itself.",
}

CONFIDENCE_TEXT = {
    "high": "High: a protocol fact read from the packets (a TLS server name, an HTTP request).",
    "medium": "Medium: a packet fact combined with the vendor's own documentation or a "
    "published list.",
    "low": "Low: an inference from traffic patterns; treat it as a lead to verify.",
}

FINDING_TITLES = {
    "third_party_telemetry": "Third-party tracker or telemetry contacted",
    "first_party_telemetry": "Vendor's own telemetry",
    "media_encryption": "How audio and video are protected",
    "signalling_encryption": "How call set-up (signalling) is protected",
    "plaintext_media": "Unencrypted audio or video",
    "plaintext_http": "Unencrypted web request",
    "cleartext_signalling": "Unencrypted call signalling (SIP, H.323, XMPP...)",
    "cleartext_dns": "Unencrypted name lookups (DNS)",
    "weak_tls": "Weak or outdated TLS",
    "ecb_suspected": "Pattern-leaking (ECB-like) media encryption",
    "local_helper": "Local helper server",
    "personal_data": "Personal data sent to a destination",
}

#: One-line meaning of each encryption verdict, for readers who do not know the protocols.
VERDICT_MEANING = {
    "PLAINTEXT": "Not encrypted: anyone on the network path (Wi-Fi, internet provider) can read "
    "or change it.",
    "TRANSPORT_TLS": "Encrypted with TLS between the device and the server. The network path "
    "cannot read it; the server's operator can.",
    "HOP_BY_HOP_SRTP": "Media encrypted with SRTP only up to the vendor's media server, which "
    "holds the keys and can decrypt it.",
    "PROPRIETARY_ENCRYPTED": "Encrypted with the vendor's own scheme. Nothing on the wire shows "
    "whether the vendor holds the keys; it must not be called end-to-end on this evidence.",
    "LIKELY_E2E": "Likely end-to-end: the keys appear to be set up between the participants' "
    "devices, so servers in between should not be able to read it.",
    "E2E_INDICATED": "A visible protocol choice marks it as end-to-end encrypted; whether the "
    "keys are authentic cannot be seen on the network.",
    "UNKNOWN": "Undetermined: the capture does not show how this traffic is protected.",
}

VERDICT_SHORT = {
    "PLAINTEXT": "not encrypted",
    "TRANSPORT_TLS": "TLS to the server",
    "HOP_BY_HOP_SRTP": "SRTP to the server",
    "PROPRIETARY_ENCRYPTED": "vendor's own encryption",
    "LIKELY_E2E": "likely end-to-end",
    "E2E_INDICATED": "end-to-end indicated",
    "UNKNOWN": "undetermined",
}


def verdict_phrase(verdict: str, app: str = "") -> str:
    """A headline phrase for a verdict, e.g. "encrypted with Zoom's own scheme; ..."."""
    owner = f"{app}'s" if app else "the vendor's"
    phrases = {
        "PLAINTEXT": "not encrypted; anyone on the network path could read it",
        "TRANSPORT_TLS": "encrypted with TLS up to the server, whose operator can read it",
        "HOP_BY_HOP_SRTP": f"encrypted only up to {owner} media servers, which can decrypt it",
        "PROPRIETARY_ENCRYPTED": f"encrypted with {owner} own scheme; nothing shows it is "
        "end-to-end",
        "LIKELY_E2E": "likely end-to-end encrypted (keys set up between the participants)",
        "E2E_INDICATED": "marked end-to-end encrypted by a visible protocol choice",
        "UNKNOWN": "protection could not be determined from the capture",
    }
    return phrases.get(verdict, verdict.lower() or "not assessed")


def count(n: int, word: str, plural: str = "") -> str:
    """``1 flow``, ``2 flows`` (``plural`` when adding an ``s`` is wrong)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def named_by(source: str) -> str:
    """An attribution's provenance with each source named once.

    ``source`` is ``what: list ; list | what: list``: a list that names the same thing twice
    (the same repository file quoted with two version labels) is kept once, first label wins.
    """
    parts = []
    for part in source.split(" | "):
        what, sep, lists = part.partition(": ")
        if not sep:
            parts.append(part)
            continue
        seen: set[str] = set()
        kept = []
        for item in lists.split(" ; "):
            key = item.split(" (", 1)[0].strip()
            if key not in seen:
                seen.add(key)
                kept.append(item.strip())
        parts.append(f"{what}: {' ; '.join(kept)}")
    return " | ".join(dict.fromkeys(parts))
