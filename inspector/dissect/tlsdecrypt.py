"""HTTP inside TLS, for flows whose secrets are in a key log.

Given ``--keylog`` (an ``SSLKEYLOGFILE``) or a pcapng's own Decryption Secrets Block, the
application data of TLS 1.2 AEAD connections (master secret) and TLS 1.3 connections (traffic
secrets; all five suites, HelloRetryRequest, KeyUpdate, 0-RTT when its secret was logged) is
decrypted and read as HTTP/1.x or HTTP/2; rows are marked ``inside_tls``. This is how a
researcher sees what their own client sent to a tracker. Nothing is decrypted without a key the
user (or the capture) supplies, and decrypted bytes never change a flow's encryption verdict.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.dissect.base import FlowView, ParseError, Stream, weird
from inspector.dissect.http_inner import inner_rows
from inspector.dissect.keylog import DecryptedMark, KeyLog
from inspector.dissect.quic import client_crypto_stream
from inspector.dissect.quic_packet import handshake_message
from inspector.dissect.quicdecrypt import dissect_quic
from inspector.dissect.tls import walk_records
from inspector.dissect.tls12_decrypt import decrypt_stream, key_block
from inspector.dissect.tls13 import Epochs
from inspector.dissect.tls13 import decrypt_stream as decrypt13
from inspector.dissect.tls_ext import (
    ClientHello,
    HandshakeType,
    ServerHello,
    parse_client_hello,
    parse_server_hello,
)
from inspector.schema.base import Row
from inspector.schema.weird import WeirdRow

__all__ = ["decrypted_streams", "has_keys", "make_dissector", "make_key_check"]

TLS13 = 0x0304
#: draft versions with the final record layer and "tls13 " labels (drafts 20-28, 0x7f14-0x7f1c)
TLS13_DRAFTS = frozenset(range(0x7F14, 0x7F1D))


def _hellos(stream: Stream, msg_type: int) -> list[bytes]:
    return [
        m.body
        for m in walk_records(stream.data, through_ccs=True).messages
        if m.msg_type == msg_type and m.complete
    ]


def _plain_stream(source: Stream, records: list, content_type: int = 23) -> Stream:
    data = bytearray()
    segments: list[tuple[int, int, float]] = []
    for rec in records:
        if rec.content_type != content_type or not rec.plaintext:
            continue
        segments.append((len(data), source.frame_at(rec.offset), source.ts_at(rec.offset)))
        data += rec.plaintext
    return Stream(bytes(data), tuple(segments))


def _tls13(
    client: Stream, server: Stream, ch: ClientHello, sh: ServerHello, keylog: KeyLog
) -> tuple[Stream, Stream, int] | None:
    secrets = keylog.tls13_secrets(ch.random)
    if not secrets:
        return None
    client_epochs = Epochs(
        secrets.get("CLIENT_EARLY_TRAFFIC_SECRET"),
        secrets.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
        secrets.get("CLIENT_TRAFFIC_SECRET_0"),
    )
    server_epochs = Epochs(
        None,
        secrets.get("SERVER_HANDSHAKE_TRAFFIC_SECRET"),
        secrets.get("SERVER_TRAFFIC_SECRET_0"),
    )
    c_recs, c_failed = decrypt13(client.data, client_epochs, sh.cipher_suite, sh.version)
    s_recs, s_failed = decrypt13(server.data, server_epochs, sh.cipher_suite, sh.version)
    return _plain_stream(client, c_recs), _plain_stream(server, s_recs), c_failed + s_failed


def decrypted_streams(
    view: FlowView, keylog: KeyLog
) -> tuple[Stream, Stream, bool, str, int] | None:
    """``(client plaintext, server plaintext, client_is_orig, alpn, undecrypted records)`` of a
    TLS flow whose secrets are logged; None when it is not TLS or no secret is known.

    Raises :class:`ParseError` when a record does not authenticate (TLS 1.2) or the suite is
    not decrypted.
    """
    for client, server in ((view.orig, view.resp), (view.resp, view.orig)):
        ch_bodies = _hellos(client, HandshakeType.CLIENT_HELLO)
        sh_bodies = _hellos(server, HandshakeType.SERVER_HELLO)
        if not ch_bodies or not sh_bodies:
            continue
        ch = parse_client_hello(ch_bodies[0])
        shs = [parse_server_hello(b) for b in sh_bodies]
        sh = next((s for s in shs if not s.hello_retry_request), shs[-1])
        client_is_orig = client is view.orig
        if sh.version == TLS13 or sh.version in TLS13_DRAFTS:
            got = _tls13(client, server, ch, sh, keylog)
            if got is None:
                return None
            return got[0], got[1], client_is_orig, sh.alpn, got[2]
        if sh.version != 0x0303:
            return None
        master = keylog.master_secret(ch.random)
        if master is None:
            return None
        keys = key_block(master, ch.random, sh.random, sh.cipher_suite)
        c_plain = _plain_stream(
            client, decrypt_stream(client.data, keys.client_key, keys.client_iv, keys.algorithm)
        )
        s_plain = _plain_stream(
            server, decrypt_stream(server.data, keys.server_key, keys.server_iv, keys.algorithm)
        )
        return c_plain, s_plain, client_is_orig, sh.alpn, 0
    return None


def _decrypt(view: FlowView, keylog: KeyLog) -> list[Row]:
    got = decrypted_streams(view, keylog)
    if got is None:
        return []
    client, server, client_is_orig, alpn, failed = got
    rows = inner_rows(view, client, server, client_is_orig, alpn)
    if client.data or server.data:
        rows.append(DecryptedMark(view.uid, view.ts, "tls"))
    if failed:
        rows.append(
            WeirdRow(
                view.ts,
                view.uid,
                "tls_decrypt_records_undecrypted",
                f"{failed} TLS 1.3 records authenticated under none of the logged secrets",
                0,
                "tls_decrypt",
            )
        )
    return rows


def _client_random(view: FlowView) -> bytes | None:
    """The ClientHello random of a TLS (TCP) or QUIC (UDP) flow, from its first bytes."""
    if view.proto == "udp":
        res = client_crypto_stream(view.datagrams)
        if res is None or res.gquic:
            return None
        msg = handshake_message(res.client_stream)
        if msg is None or msg[0] != HandshakeType.CLIENT_HELLO:
            return None
        return parse_client_hello(msg[1]).random
    if view.proto != "tcp":
        return None
    for stream in (view.orig, view.resp):
        if stream.data[:1] == b"\x16":
            bodies = _hellos(stream, HandshakeType.CLIENT_HELLO)
            if bodies:
                return parse_client_hello(bodies[0]).random
    return None


def has_keys(view: FlowView, keylog: KeyLog) -> bool:
    """True when the key log holds a secret for this flow's ClientHello (pure; never raises)."""
    if not len(keylog):
        return False
    try:
        random = _client_random(view)
    except ParseError:
        return False
    if random is None:
        return False
    return keylog.master_secret(random) is not None or bool(keylog.tls13_secrets(random))


def make_key_check(keylog: KeyLog) -> Callable[[Callable[[], FlowView]], bool]:
    """:func:`has_keys` closed over ``keylog``, for the flow table: it asks, with a function
    that builds the flow's view, whether a flow that reached its retention budget may keep more
    (see ``FlowLimits.keyed_*``). No view is built while the key log is empty."""
    return lambda view: bool(len(keylog)) and has_keys(view(), keylog)


def make_dissector(keylog: KeyLog) -> Callable[[FlowView], list[Row]]:
    """A dissector closed over ``keylog`` (TLS over TCP, QUIC over UDP); returns [] fast when
    the log is empty."""

    def dissect(view: FlowView) -> list[Row]:
        if not len(keylog):
            return []
        try:
            if view.proto == "udp" and view.datagrams:
                return dissect_quic(view, keylog)
            tls = b"\x16" in (view.orig.data[:1], view.resp.data[:1])
            if view.proto != "tcp" or not tls:
                return []
            return _decrypt(view, keylog)
        except ParseError as err:
            return [weird(view, err, "tls_decrypt")]

    return dissect
