"""Owners named by the server's own certificate, when the database names nobody.

An organisation-validated (OV) or extended-validation (EV) certificate carries the subject's
organisation (``O=``), which the issuing CA verified before issuing it (CA/Browser Forum Baseline
Requirements, section 3.2.2.1 "Identity"). When the bundled database knows neither the name nor
the address, that verified organisation is the owner, with the certificate as its source. Only a
certificate that travelled in cleartext (TLS <= 1.2), is not self-signed and covers the flow's
server name (its CN or a SAN, wildcards included) counts; a flow with no name takes the
organisation of the certificates its server address presented, when they all name one; a
domain-validated certificate has no
``O=`` and names nobody. The index spans one capture file: a resumed session to the same name
does not repeat the certificate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from inspector.evidence import FlowEvidence
from inspector.schema.tls import TlsRow

__all__ = ["CertIndex", "CertOwner", "subject_field"]

_ESCAPED = re.compile(r"\\(.)")


def subject_field(dn: str, key: str) -> str:
    """The first ``key=`` value of an RFC 4514 distinguished name ("" when absent)."""
    m = re.search(rf"(?:^|,){re.escape(key)}=((?:\\.|[^,\\])*)", dn)
    return _ESCAPED.sub(r"\1", m.group(1)).strip() if m else ""


@dataclass(frozen=True, slots=True)
class CertOwner:
    organisation: str
    source: str


def _owner(r: TlsRow) -> CertOwner | None:
    """The organisation a CA-verified certificate's subject names, with where it was seen."""
    if not r.cert_subject or r.cert_self_signed is not False:
        return None
    org = subject_field(r.cert_subject, "O")
    if not org:
        return None
    issuer = subject_field(r.cert_issuer, "O") or subject_field(r.cert_issuer, "CN")
    return CertOwner(
        org,
        f"certificate subject O={org} (CA-verified organisation; issuer "
        f"{issuer or 'unnamed'}; frame {r.frame})",
    )


class CertIndex:
    """(capture file, server name) -> the organisation its certificate names."""

    __slots__ = ("_by_addr", "_by_name")

    def __init__(self, evidence: Iterable[FlowEvidence]) -> None:
        # (frame, owner) candidates; the earliest frame wins, so the choice does not depend on
        # the order flows ended in (one process and a merge of flow shards agree)
        by_name: dict[tuple[str, str], tuple[int, CertOwner]] = {}
        by_addr: dict[tuple[str, str], list[tuple[int, CertOwner]]] = {}
        for ev in evidence:
            for r in ev.tls:
                owner = _owner(r)
                if owner is None:
                    continue
                frame = int(r.frame or 0)
                server = ev.conn.resp_h if r.client_is_orig is not False else ev.conn.orig_h
                by_addr.setdefault((ev.conn.file, server), []).append((frame, owner))
                cn = subject_field(r.cert_subject, "CN")
                for name in (cn, *r.cert_sans.split(";")):
                    name = name.strip().lower().rstrip(".")
                    key = (ev.conn.file, name)
                    if name and (key not in by_name or frame < by_name[key][0]):
                        by_name[key] = (frame, owner)
        self._by_name = {k: v[1] for k, v in by_name.items()}
        #: an address whose certificates all name one organisation (a flow with no name)
        self._by_addr = {
            k: min(v, key=lambda fo: fo[0])[1]
            for k, v in by_addr.items()
            if len({o.organisation for _f, o in v}) == 1
        }

    def __len__(self) -> int:
        return len(self._by_name)

    def owner_of_address(self, file: str, addr: str) -> CertOwner | None:
        """The organisation every certificate the address presented in ``file`` names."""
        return self._by_addr.get((file, addr))

    def owner(self, file: str, name: str) -> CertOwner | None:
        """The organisation a certificate seen in ``file`` names for ``name`` (exact or ``*.``)."""
        if not self._by_name or not name:
            return None
        n = name.lower().rstrip(".").removeprefix("*.")
        found = self._by_name.get((file, n))
        if found is None and "." in n:
            found = self._by_name.get((file, "*." + n.split(".", 1)[1]))
        return found
