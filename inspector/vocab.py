"""The words every stage after dissect shares: verdicts, roles, severities, finding kinds.

Each is a :class:`~enum.StrEnum`, so a member is written to CSV as its plain value and compares
equal to it, while code that misspells one fails at import, not silently at run time. Members
carry their behaviour (rank, display text) so no module keeps a parallel table of them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "OUTSIDE",
    "Confidence",
    "FindingKind",
    "Modifier",
    "Party",
    "Role",
    "Severity",
    "Verdict",
]

#: Session id of flows that belong to no conferencing session.
OUTSIDE = "outside"


class Verdict(StrEnum):
    """How a flow's content is protected (docs/verdicts.md)."""

    PLAINTEXT = "PLAINTEXT"
    TRANSPORT_TLS = "TRANSPORT_TLS"
    HOP_BY_HOP_SRTP = "HOP_BY_HOP_SRTP"
    PROPRIETARY_ENCRYPTED = "PROPRIETARY_ENCRYPTED"
    LIKELY_E2E = "LIKELY_E2E"
    E2E_INDICATED = "E2E_INDICATED"
    UNKNOWN = "UNKNOWN"

    @property
    def rank(self) -> int:
        """Weakest first: a session is as private as its lowest-ranked flow."""
        return _VERDICT_RANK[self]

    @property
    def text(self) -> str:
        """What the verdict means, as a sentence fragment ("Media is ...")."""
        return _VERDICT_TEXT[self]

    @property
    def encrypted(self) -> bool:
        """True for verdicts that claim some encryption on the wire."""
        return self not in (Verdict.PLAINTEXT, Verdict.UNKNOWN)


_VERDICT_RANK = {
    Verdict.PLAINTEXT: 0,
    Verdict.UNKNOWN: 1,
    Verdict.PROPRIETARY_ENCRYPTED: 2,
    Verdict.TRANSPORT_TLS: 3,
    Verdict.HOP_BY_HOP_SRTP: 3,
    Verdict.LIKELY_E2E: 4,
    Verdict.E2E_INDICATED: 5,
}
_VERDICT_TEXT = {
    Verdict.PLAINTEXT: "not encrypted",
    Verdict.TRANSPORT_TLS: "encrypted with TLS up to the server, whose operator can read it",
    Verdict.HOP_BY_HOP_SRTP: "encrypted (SRTP) only up to the vendor's media server, which can "
    "decrypt it",
    Verdict.PROPRIETARY_ENCRYPTED: "encrypted with the vendor's own scheme; nothing on the wire "
    "shows that it is end-to-end",
    Verdict.LIKELY_E2E: "likely end-to-end encrypted: keys are set up between the participants",
    Verdict.E2E_INDICATED: "marked end-to-end by a visible protocol choice",
    Verdict.UNKNOWN: "of undetermined protection",
}


class Modifier(StrEnum):
    """Qualifiers added to a verdict."""

    WEAK_TLS = "WEAK_TLS"
    ECB_SUSPECTED = "ECB_SUSPECTED"
    CLEARTEXT_DNS = "CLEARTEXT_DNS"
    CLEARTEXT_SIGNALLING = "CLEARTEXT_SIGNALLING"
    CONTROL_ONLY = "CONTROL_ONLY"
    MIXED_CONTENT = "MIXED_CONTENT"
    METADATA_LEAK = "METADATA_LEAK"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Role(StrEnum):
    """What a flow does for the app."""

    SIGNALLING = "signalling"
    MEDIA = "media"
    RELAY = "relay"
    FIRST_PARTY_TELEMETRY = "first-party telemetry"
    THIRD_PARTY_TELEMETRY = "third-party telemetry"
    WEB_API = "web/API"
    DNS = "dns"
    OTHER = "other"

    @property
    def carries_media(self) -> bool:
        return self in (Role.MEDIA, Role.RELAY)


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Most severe first (0)."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}


class FindingKind(StrEnum):
    THIRD_PARTY_TELEMETRY = "third_party_telemetry"
    FIRST_PARTY_TELEMETRY = "first_party_telemetry"
    ECB_SUSPECTED = "ecb_suspected"
    WEAK_TLS = "weak_tls"
    CLEARTEXT_DNS = "cleartext_dns"
    PLAINTEXT_MEDIA = "plaintext_media"
    PLAINTEXT_HTTP = "plaintext_http"
    CLEARTEXT_SIGNALLING = "cleartext_signalling"
    MEDIA_ENCRYPTION = "media_encryption"
    SIGNALLING_ENCRYPTION = "signalling_encryption"
    LOCAL_HELPER = "local_helper"
    PERSONAL_DATA = "personal_data"

    @property
    def is_telemetry(self) -> bool:
        return self in (FindingKind.THIRD_PARTY_TELEMETRY, FindingKind.FIRST_PARTY_TELEMETRY)


class Party(StrEnum):
    """Whose party a destination is, for the app of the flow that reached it."""

    FIRST = "first"
    THIRD = "third"
    UNKNOWN = "unknown"
