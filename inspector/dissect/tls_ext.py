"""ClientHello and ServerHello parsing, shared by TLS, DTLS and QUIC (RFC 8446 section 4.1).

Pure functions on the handshake message *body* (after the 4-byte TLS or 12-byte DTLS handshake
header). They return a frozen record or raise :class:`ParseError`; nothing else escapes.

Lists of code points (cipher suites, groups, versions, ...) are kept as sent, GREASE values
(RFC 8701) included, so fingerprints and reports can decide how to treat them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.buffer import Buffer
from inspector.dissect.tls_names import PQ_GROUPS, is_grease
from inspector.errors import ParseError

__all__ = [
    "ECH_EXTENSIONS",
    "HELLO_RETRY_REQUEST_RANDOM",
    "KNOWN_ECH_PUBLIC_NAMES",
    "ClientHello",
    "ExtensionType",
    "HandshakeType",
    "ServerHello",
    "classify_ech",
    "parse_client_hello",
    "parse_client_hello_prefix",
    "parse_server_hello",
    "parse_sslv2_client_hello",
]


class HandshakeType(IntEnum):
    """Handshake message types (RFC 8446 section 4, RFC 6347 section 4.3.2)."""

    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    HELLO_VERIFY_REQUEST = 3
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    HELLO_RETRY_REQUEST = 6
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20
    CERTIFICATE_STATUS = 22
    KEY_UPDATE = 24
    MESSAGE_HASH = 254


class ExtensionType(IntEnum):
    """The extension code points this module interprets (IANA TLS ExtensionType Values)."""

    SERVER_NAME = 0x0000
    SUPPORTED_GROUPS = 0x000A
    EC_POINT_FORMATS = 0x000B
    SIGNATURE_ALGORITHMS = 0x000D
    USE_SRTP = 0x000E
    ALPN = 0x0010
    SUPPORTED_VERSIONS = 0x002B
    KEY_SHARE = 0x0033
    QUIC_TRANSPORT_PARAMETERS = 0x0039
    ENCRYPTED_CLIENT_HELLO = 0xFE0D
    ENCRYPTED_SERVER_NAME = 0xFFCE


#: ECH extension code points: the RFC one (0xFE0D) and those of drafts 08-12.
ECH_EXTENSIONS = frozenset({0xFE08, 0xFE09, 0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D})

#: SHA-256("HelloRetryRequest"): the ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3).
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)

#: Client-facing ("public") names of known ECH deployments: an outer SNI equal to one of these
#: means the real destination is hidden in the encrypted inner ClientHello.
KNOWN_ECH_PUBLIC_NAMES = frozenset({"cloudflare-ech.com", "cover.defo.ie", "public.example.com"})

_Extensions = tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class ClientHello:
    """A parsed ClientHello. Lists are in wire order with GREASE values kept.

    ``complete`` is False when the message was cut (capture gap, cap, end of data): then only
    the fields fully present were filled and extensions stop at the last complete one, so a
    name is never guessed from a partial extension.
    """

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes
    extensions: _Extensions
    cookie: bytes = b""  #: DTLS only (RFC 6347 section 4.2.1)
    sni: str = ""  #: first host_name of server_name; "" when absent
    alpn: tuple[str, ...] = ()
    alpn_raw: tuple[bytes, ...] = ()  #: ALPN protocol names as bytes (JA4 needs the raw bytes)
    supported_versions: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    ec_point_formats: tuple[int, ...] = ()
    use_srtp_profiles: tuple[int, ...] = ()
    ech: str = "none"  #: "none", "real", "grease" or "esni"; see :func:`classify_ech`
    post_quantum: bool = False  #: a post-quantum hybrid/KEM group is offered or key-shared
    complete: bool = True
    dtls: bool = False

    @property
    def extension_types(self) -> tuple[int, ...]:
        return tuple(t for t, _ in self.extensions)

    def has_extension(self, ext_type: int) -> bool:
        return any(t == ext_type for t, _ in self.extensions)

    def versions_offered(self) -> tuple[int, ...]:
        """Non-GREASE supported_versions; else the legacy version (when the hello is complete,
        since a cut hello may have lost its supported_versions extension)."""
        offered = tuple(v for v in self.supported_versions if not is_grease(v))
        if offered or not self.complete:
            return offered
        return (self.legacy_version,)

    @property
    def max_version(self) -> int:
        """Highest non-GREASE supported_versions entry, else the legacy version."""
        offered = [v for v in self.supported_versions if not is_grease(v)]
        return max(offered) if offered else self.legacy_version


@dataclass(frozen=True, slots=True)
class ServerHello:
    """A parsed ServerHello (or HelloRetryRequest, which shares its layout)."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: _Extensions
    version: int  #: negotiated: supported_versions when present, else legacy_version
    selected_group: int | None = None  #: key_share group (or HRR selected_group)
    alpn: str = ""
    use_srtp_profile: int | None = None
    hello_retry_request: bool = False
    dtls: bool = False

    @property
    def extension_types(self) -> tuple[int, ...]:
        return tuple(t for t, _ in self.extensions)


# ---------------------------------------------------------------------------------------------
# extension bodies


def _u16_list(data: bytes, length_size: int, what: str) -> tuple[int, ...]:
    buf = Buffer(data)
    raw = buf.pull_vector(length_size)
    if len(raw) % 2:
        raise ParseError(f"{what}: odd list length {len(raw)}", "bad_extension")
    return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


def _server_name(data: bytes) -> str:
    outer = Buffer(data)
    buf = outer.pull_block(2)
    while not buf.eof():
        name_type = buf.pull_uint8()
        name = buf.pull_vector(2)
        if name_type == 0:
            return name.decode("utf-8", "backslashreplace")
    return ""


def _alpn(data: bytes) -> tuple[bytes, ...]:
    buf = Buffer(data).pull_block(2)
    out: list[bytes] = []
    while not buf.eof():
        out.append(buf.pull_vector(1))
    return tuple(out)


def _key_share_client(data: bytes) -> tuple[int, ...]:
    buf = Buffer(data).pull_block(2)
    groups: list[int] = []
    while not buf.eof():
        groups.append(buf.pull_uint16())
        buf.pull_vector(2)
    return tuple(groups)


def _use_srtp(data: bytes) -> tuple[int, ...]:
    profiles = _u16_list(data, 2, "use_srtp")
    buf = Buffer(data)
    buf.skip(2 + 2 * len(profiles))
    buf.pull_vector(1)  # srtp_mki
    return profiles


def classify_ech(extensions: _Extensions, sni: str) -> str:
    """``"none"``, ``"esni"``, ``"real"`` or ``"grease"`` for a ClientHello's extensions.

    ESNI (draft-ietf-tls-esni up to -04) is its own extension 0xFFCE. For ECH (0xFE0D and the
    draft code points 0xFE08-0xFE0C), **real and GREASE ECH are indistinguishable by design**
    (draft-ietf-tls-esni section 6.2: GREASE uses a random config_id, a valid-looking ``enc`` of
    the KEM's size and a payload of plausible length, so lengths and cipher suites carry no
    signal). This is therefore a heuristic:

    * ``real`` when the outer SNI is the public name of a known ECH deployment
      (:data:`KNOWN_ECH_PUBLIC_NAMES`, e.g. Cloudflare's ``cloudflare-ech.com``), or when an
      *inner* ECH extension (type 1) appears in cleartext;
    * ``grease`` otherwise: the outer SNI then most likely is the real destination (browsers
      send GREASE ECH to every server without an ECH config), but a real ECH connection to an
      unknown provider would also land here.
    """
    types = {t for t, _ in extensions}
    if ExtensionType.ENCRYPTED_SERVER_NAME in types:
        return "esni"
    ech = next((d for t, d in extensions if t in ECH_EXTENSIONS), None)
    if ech is None:
        return "none"
    if ech[:1] == b"\x01":
        return "real"
    if sni.lower().rstrip(".") in KNOWN_ECH_PUBLIC_NAMES:
        return "real"
    return "grease"


def _pull_extensions(buf: Buffer, partial: bool) -> tuple[_Extensions, bool]:
    """The extensions block and whether it was complete.

    No bytes left means no extensions (an SSL 3.0 style hello). In ``partial`` mode the block
    stops at the last extension fully present.
    """
    if buf.eof():
        return (), True
    if partial and buf.remaining < 2:
        return (), False
    declared = buf.pull_uint16()
    end = buf.position + declared
    out: list[tuple[int, bytes]] = []
    while buf.position < end:
        if partial and (buf.remaining < 4 or buf.remaining < 4 + _peek_len(buf)):
            return tuple(out), False
        ext_type = buf.pull_uint16()
        out.append((ext_type, buf.pull_vector(2)))
    if buf.position > end:
        raise ParseError("extension overruns the extensions block", "bad_extensions")
    return tuple(out), True


def _peek_len(buf: Buffer) -> int:
    pos = buf.position
    buf.skip(2)
    length = buf.pull_uint16()
    buf.seek(pos)
    return length


# ---------------------------------------------------------------------------------------------
# ClientHello


@dataclass(slots=True)
class _ClientFields:
    """What the interpreted ClientHello extensions yield (mutable scratch record)."""

    sni: str = ""
    alpn_raw: tuple[bytes, ...] = ()
    supported_versions: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    ec_point_formats: tuple[int, ...] = ()
    use_srtp_profiles: tuple[int, ...] = ()


def _interpret_client(extensions: _Extensions, lenient: bool) -> _ClientFields:
    out = _ClientFields()
    seen: set[int] = set()
    for ext_type, data in extensions:
        if ext_type in seen:
            continue
        seen.add(ext_type)
        try:
            if ext_type == ExtensionType.SERVER_NAME:
                out.sni = _server_name(data)
            elif ext_type == ExtensionType.ALPN:
                out.alpn_raw = _alpn(data)
            elif ext_type == ExtensionType.SUPPORTED_VERSIONS:
                out.supported_versions = _u16_list(data, 1, "supported_versions")
            elif ext_type == ExtensionType.SUPPORTED_GROUPS:
                out.supported_groups = _u16_list(data, 2, "supported_groups")
            elif ext_type == ExtensionType.KEY_SHARE:
                out.key_share_groups = _key_share_client(data)
            elif ext_type == ExtensionType.SIGNATURE_ALGORITHMS:
                out.signature_algorithms = _u16_list(data, 2, "signature_algorithms")
            elif ext_type == ExtensionType.EC_POINT_FORMATS:
                out.ec_point_formats = tuple(Buffer(data).pull_vector(1))
            elif ext_type == ExtensionType.USE_SRTP:
                out.use_srtp_profiles = _use_srtp(data)
        except ParseError as err:
            if not lenient:
                raise ParseError(
                    f"ClientHello extension 0x{ext_type:04x}: {err.detail}", "bad_extension"
                ) from None
    return out


def _client_hello(body: bytes, dtls: bool, partial: bool) -> ClientHello:
    buf = Buffer(body)
    legacy_version = 0
    random = session_id = cookie = compression = b""
    suites: tuple[int, ...] = ()
    extensions: _Extensions = ()
    complete = False
    try:
        legacy_version = buf.pull_uint16()
        random = buf.pull_bytes(32)
        session_id = buf.pull_vector(1)
        if dtls:
            cookie = buf.pull_vector(1)
        raw = buf.pull_vector(2)
        if len(raw) % 2:
            raise ParseError(f"odd cipher_suites length {len(raw)}", "bad_client_hello")
        suites = tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
        compression = buf.pull_vector(1)
        extensions, complete = _pull_extensions(buf, partial)
    except ParseError as err:
        if not partial or err.name != "truncated":
            raise
    fields = _interpret_client(extensions, lenient=partial)
    groups = (*fields.key_share_groups, *fields.supported_groups)
    return ClientHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cookie=cookie,
        cipher_suites=suites,
        compression_methods=compression,
        extensions=extensions,
        sni=fields.sni,
        alpn=tuple(p.decode("utf-8", "backslashreplace") for p in fields.alpn_raw),
        alpn_raw=fields.alpn_raw,
        supported_versions=fields.supported_versions,
        supported_groups=fields.supported_groups,
        key_share_groups=fields.key_share_groups,
        signature_algorithms=fields.signature_algorithms,
        ec_point_formats=fields.ec_point_formats,
        use_srtp_profiles=fields.use_srtp_profiles,
        ech=classify_ech(extensions, fields.sni),
        post_quantum=any(g in PQ_GROUPS for g in groups),
        complete=complete,
        dtls=dtls,
    )


def parse_client_hello(body: bytes, dtls: bool = False) -> ClientHello:
    """Parse a complete ClientHello body (after the handshake header).

    ``dtls=True`` expects the DTLS cookie after the session id. QUIC ClientHellos (CRYPTO
    stream data, with quic_transport_parameters) parse with the default ``dtls=False``.
    Raises :class:`ParseError` when the body is truncated or malformed.
    """
    return _client_hello(body, dtls, partial=False)


def parse_client_hello_prefix(body: bytes, dtls: bool = False) -> ClientHello:
    """Parse what is there of a ClientHello that may be cut short.

    Returns a :class:`ClientHello` with ``complete=False`` when the body ends early; only
    fields and extensions fully present are filled, malformed extension contents are skipped.
    Raises :class:`ParseError` only for structural errors in the bytes that are present.
    """
    return _client_hello(body, dtls, partial=True)


def parse_sslv2_client_hello(record: bytes) -> ClientHello:
    """Parse an SSL 2.0-format CLIENT-HELLO record (2-byte header with the top bit set).

    Old clients send it to offer SSL 3.0/TLS 1.0 to SSLv2-era servers (RFC 6101 appendix E.1,
    RFC 5246 appendix E.2). Only the 3-byte cipher specs with a zero first byte map to TLS
    cipher suites and are kept. There are no extensions, so no SNI.
    """
    buf = Buffer(record)
    head = buf.pull_uint16()
    if not head & 0x8000:
        raise ParseError("not a 2-byte SSLv2 record header", "bad_sslv2_hello")
    body = Buffer(buf.pull_bytes(head & 0x7FFF))
    if body.pull_uint8() != 1:
        raise ParseError("SSLv2 record is not a CLIENT-HELLO", "bad_sslv2_hello")
    version = body.pull_uint16()
    spec_len = body.pull_uint16()
    session_len = body.pull_uint16()
    challenge_len = body.pull_uint16()
    if spec_len % 3:
        raise ParseError(f"SSLv2 cipher spec length {spec_len}", "bad_sslv2_hello")
    specs = body.pull_bytes(spec_len)
    session_id = body.pull_bytes(session_len)
    challenge = body.pull_bytes(challenge_len)
    suites = tuple(
        int.from_bytes(specs[i + 1 : i + 3], "big") for i in range(0, spec_len, 3) if specs[i] == 0
    )
    return ClientHello(
        legacy_version=version,
        random=challenge,
        session_id=session_id,
        cipher_suites=suites,
        compression_methods=b"",
        extensions=(),
    )


# ---------------------------------------------------------------------------------------------
# ServerHello


def parse_server_hello(body: bytes, dtls: bool = False) -> ServerHello:
    """Parse a ServerHello / HelloRetryRequest body (after the handshake header).

    The negotiated version comes from supported_versions when present (TLS 1.3, DTLS 1.3),
    else from legacy_version. A HelloRetryRequest is recognised by its special random.
    """
    buf = Buffer(body)
    legacy_version = buf.pull_uint16()
    random = buf.pull_bytes(32)
    if 0x7F00 <= legacy_version <= 0x7F15:
        # TLS 1.3 drafts up to -21: no legacy_session_id_echo, no compression method
        session_id, cipher, compression = b"", buf.pull_uint16(), 0
    else:
        session_id = buf.pull_vector(1)
        cipher = buf.pull_uint16()
        compression = buf.pull_uint8()
    extensions, _complete = _pull_extensions(buf, partial=False)
    hrr = random == HELLO_RETRY_REQUEST_RANDOM
    version = legacy_version
    group: int | None = None
    alpn = ""
    srtp: int | None = None
    seen: set[int] = set()
    for ext_type, data in extensions:
        if ext_type in seen:
            continue
        seen.add(ext_type)
        ext = Buffer(data)
        try:
            if ext_type == ExtensionType.SUPPORTED_VERSIONS:
                version = ext.pull_uint16()
            elif ext_type == ExtensionType.KEY_SHARE:
                group = ext.pull_uint16()
            elif ext_type == ExtensionType.ALPN:
                names = _alpn(data)
                alpn = names[0].decode("utf-8", "backslashreplace") if names else ""
            elif ext_type == ExtensionType.USE_SRTP:
                profiles = _use_srtp(data)
                srtp = profiles[0] if profiles else None
        except ParseError as err:
            raise ParseError(
                f"ServerHello extension 0x{ext_type:04x}: {err.detail}", "bad_extension"
            ) from None
    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher,
        compression_method=compression,
        extensions=extensions,
        version=version,
        selected_group=group,
        alpn=alpn,
        use_srtp_profile=srtp,
        hello_retry_request=hrr,
        dtls=dtls,
    )
