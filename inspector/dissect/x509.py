"""X.509 certificates from cleartext (TLS <= 1.2, DTLS 1.0/1.2) Certificate messages.

Parsing uses ``cryptography``; every exception it can raise on hostile DER is converted to
:class:`ParseError` (name ``bad_certificate``), so only ``ParseError`` escapes.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning

from inspector.dissect.buffer import Buffer
from inspector.errors import ParseError

__all__ = ["CertInfo", "parse_certificate", "parse_certificate_chain", "split_certificate_list"]

#: what cryptography raises on malformed or unsupported certificates.
_CRYPTO_ERRORS = (
    ValueError,
    TypeError,
    KeyError,  # an unknown ASN.1 string tag in a Name
    OverflowError,
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    x509.InvalidVersion,
    x509.ExtensionNotFound,
    x509.AttributeNotFound,
)

#: signature algorithm OIDs -> readable names (RFC 4055, RFC 5758, RFC 8410, RFC 3279).
_SIG_NAMES = {
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.2.840.10040.4.3": "dsa-with-sha1",
    "2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    "1.2.156.10197.1.501": "SM2-with-SM3",
}


@dataclass(frozen=True, slots=True)
class CertInfo:
    """The facts the inspector reports about one certificate."""

    subject: str  #: RFC 4514 string, e.g. ``CN=WebRTC``
    issuer: str
    sans: tuple[str, ...]  #: DNS names, IP addresses, URIs and e-mail addresses, in order
    not_before: str  #: ISO 8601, UTC
    not_after: str
    self_signed: bool  #: issuer == subject and the signature verifies with its own key
    key: str  #: e.g. ``RSA 2048``, ``EC secp256r1``, ``Ed25519``
    sig_alg: str  #: e.g. ``sha256WithRSAEncryption``
    sha256: str  #: lowercase hex SHA-256 of the DER bytes
    serial: str  #: lowercase hex serial number
    der_len: int


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _key_name(cert: x509.Certificate) -> str:
    try:
        key = cert.public_key()
    except _CRYPTO_ERRORS:
        return f"unsupported ({cert.public_key_algorithm_oid.dotted_string})"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    out: list[str] = []
    for name in ext.value:
        if isinstance(name, x509.IPAddress | x509.DNSName | x509.RFC822Name):
            out.append(str(name.value))
        elif isinstance(name, x509.UniformResourceIdentifier):
            out.append(name.value)
    return tuple(out)


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except InvalidSignature:
        return False
    except _CRYPTO_ERRORS:
        return True  # key or algorithm we cannot check: fall back to issuer == subject
    return True


def parse_certificate(der: bytes) -> CertInfo:
    """Parse one DER certificate; raises :class:`ParseError` for anything unreadable.

    cryptography's deprecation warnings about tolerated defects (e.g. a negative serial
    number) are silenced: the certificate is data to report, not one we rely on.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _parse_certificate(der)


def _parse_certificate(der: bytes) -> CertInfo:
    try:
        cert = x509.load_der_x509_certificate(der)
        oid = cert.signature_algorithm_oid.dotted_string
        return CertInfo(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            sans=_sans(cert),
            not_before=_iso(cert.not_valid_before_utc),
            not_after=_iso(cert.not_valid_after_utc),
            self_signed=_self_signed(cert),
            key=_key_name(cert),
            sig_alg=_SIG_NAMES.get(oid, oid),
            sha256=hashlib.sha256(der).hexdigest(),
            serial=format(cert.serial_number, "x"),
            der_len=len(der),
        )
    except _CRYPTO_ERRORS as err:
        raise ParseError(
            f"certificate: {type(err).__name__}: {err}"[:300], "bad_certificate"
        ) from None


def split_certificate_list(body: bytes) -> tuple[bytes, ...]:
    """The DER certificates of a TLS <= 1.2 Certificate message body, sender's own first.

    ``body`` follows the handshake header: a 3-byte list length, then certificates each with a
    3-byte length (RFC 5246 section 7.4.2).
    """
    buf = Buffer(body)
    certs = buf.pull_block(3)
    if not buf.eof():
        raise ParseError(f"{buf.remaining} bytes after the certificate list", "bad_certificate")
    out: list[bytes] = []
    while not certs.eof():
        out.append(certs.pull_vector(3))
    return tuple(out)


def parse_certificate_chain(body: bytes) -> tuple[CertInfo, ...]:
    """Parse every certificate of a TLS <= 1.2 Certificate message body (leaf first)."""
    return tuple(parse_certificate(der) for der in split_certificate_list(body))
