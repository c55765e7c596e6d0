"""HTTP inside TLS 1.2, for flows whose master secret is in a key log.

Given ``--keylog`` (an ``SSLKEYLOGFILE``) or a pcapng's own Decryption Secrets Block, the
application data of TLS 1.2 AEAD connections is decrypted and read by the HTTP/1.x dissector;
its rows are marked ``inside_tls``. This is how a researcher sees what their own client sent
to a tracker. Nothing is decrypted without a key the user (or the capture) supplies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from inspector.dissect import http
from inspector.dissect.base import FlowView, ParseError, Stream, weird
from inspector.dissect.keylog import KeyLog
from inspector.dissect.tls import walk_records
from inspector.dissect.tls12_decrypt import decrypt_stream, key_block
from inspector.dissect.tls_ext import HandshakeType, parse_client_hello, parse_server_hello
from inspector.schema.base import Row

__all__ = ["make_dissector"]


def _hello(stream: Stream, msg_type: int) -> bytes | None:
    for msg in walk_records(stream.data).messages:
        if msg.msg_type == msg_type and msg.complete:
            return msg.body
    return None


def _plain_stream(source: Stream, records: list, content_type: int = 23) -> Stream:
    data = bytearray()
    segments: list[tuple[int, int, float]] = []
    for rec in records:
        if rec.content_type != content_type or not rec.plaintext:
            continue
        segments.append((len(data), source.frame_at(rec.offset), source.ts_at(rec.offset)))
        data += rec.plaintext
    return Stream(bytes(data), tuple(segments))


def _decrypt(view: FlowView, keylog: KeyLog) -> list[Row]:
    sides = ((view.orig, view.resp), (view.resp, view.orig))
    for client, server in sides:
        ch_body = _hello(client, HandshakeType.CLIENT_HELLO)
        sh_body = _hello(server, HandshakeType.SERVER_HELLO)
        if ch_body is None or sh_body is None:
            continue
        ch, sh = parse_client_hello(ch_body), parse_server_hello(sh_body)
        if sh.version != 0x0303 or sh.hello_retry_request:
            return []  # TLS 1.3 (or older) is not decrypted here
        master = keylog.master_secret(ch.random)
        if master is None:
            return []
        keys = key_block(master, ch.random, sh.random, sh.cipher_suite)
        client_plain = _plain_stream(
            client, decrypt_stream(client.data, keys.client_key, keys.client_iv, keys.algorithm)
        )
        server_plain = _plain_stream(
            server, decrypt_stream(server.data, keys.server_key, keys.server_iv, keys.algorithm)
        )
        client_is_orig = client is view.orig
        inner = dataclasses.replace(
            view,
            orig=client_plain if client_is_orig else server_plain,
            resp=server_plain if client_is_orig else client_plain,
        )
        out: list[Row] = []
        for row in http.dissect(inner):
            if row.TABLE == "http":
                row = dataclasses.replace(row, inside_tls=True)  # type: ignore[type-var]
            out.append(row)
        return out
    return []


def make_dissector(keylog: KeyLog) -> Callable[[FlowView], list[Row]]:
    """A dissector closed over ``keylog``; returns [] fast when the log is empty."""

    def dissect(view: FlowView) -> list[Row]:
        tls = b"\x16" in (view.orig.data[:1], view.resp.data[:1])
        if view.proto != "tcp" or not tls or not len(keylog):
            return []
        try:
            return _decrypt(view, keylog)
        except ParseError as err:
            return [weird(view, err, "tls_decrypt")]

    return dissect
