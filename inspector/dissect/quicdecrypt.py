"""HTTP/3 inside QUIC 1-RTT packets of flows whose secrets are in a key log.

The QUIC dissector's Initial-level view (:func:`inspector.dissect.quic.client_crypto_stream`)
gives the ClientHello (its random finds the secrets) and the ServerHello (its cipher suite);
:mod:`inspector.dissect.quic_1rtt` decrypts the short-header packets and
:mod:`inspector.dissect.http3` reads the requests. Rows are marked ``inside_tls``.
"""

from __future__ import annotations

from inspector.dissect.base import FlowView, ParseError
from inspector.dissect.http3 import H3Exchange, parse_h3
from inspector.dissect.http_inner import Exchange, exchange_rows
from inspector.dissect.keylog import DecryptedMark, KeyLog
from inspector.dissect.quic import client_crypto_stream
from inspector.dissect.quic_1rtt import decrypt_connection
from inspector.dissect.quic_packet import handshake_message, split_datagram
from inspector.dissect.tls_ext import parse_client_hello, parse_server_hello
from inspector.schema.base import Row
from inspector.schema.weird import WeirdRow

__all__ = ["dissect_quic"]


def _server_cid_len(view: FlowView, client_is_orig: bool) -> int | None:
    for dg in view.datagrams:
        if dg.from_orig == client_is_orig or not dg.payload[:1] or not dg.payload[0] & 0x80:
            continue
        try:
            longs = split_datagram(dg.payload)
        except ParseError:
            continue
        if longs:
            return len(longs[0].scid)
    return None


def _exchange(ex: H3Exchange) -> Exchange:
    req, resp = ex.request, ex.response
    return Exchange(
        version="HTTP/3",
        stream_id=ex.stream_id,
        ts=req.ts,
        frame=req.frame,
        frames=tuple(req.frames),
        request_headers=tuple(req.headers),
        request_body=bytes(req.body),
        request_body_len=req.body_len,
        response_headers=tuple(resp.headers),
        response_body_len=resp.body_len if resp.headers else None,
    )


def dissect_quic(view: FlowView, keylog: KeyLog) -> list[Row]:
    """``http`` rows (and request records) of a QUIC flow whose 1-RTT secrets are logged."""
    res = client_crypto_stream(view.datagrams)
    if res is None or res.gquic:
        return []
    ch_msg = handshake_message(res.client_stream)
    sh_msg = handshake_message(res.server_stream)
    if ch_msg is None or ch_msg[0] != 1 or sh_msg is None or sh_msg[0] != 2:
        return []
    ch, sh = parse_client_hello(ch_msg[1]), parse_server_hello(sh_msg[1])
    server_cid = _server_cid_len(view, res.client_is_orig)
    if server_cid is None:
        return []
    dec = decrypt_connection(
        view.datagrams,
        res.client_is_orig,
        ch.random,
        sh.cipher_suite,
        res.version,
        len(res.scid),
        server_cid,
        keylog,
    )
    if dec is None:
        return []
    h3 = parse_h3(dec.client, dec.server)
    rows: list[Row] = [DecryptedMark(view.uid, view.ts, "quic")] if dec.client or dec.server else []
    for ex in h3.exchanges:
        rows.extend(exchange_rows(view, _exchange(ex), res.client_is_orig))
    problems = [(f"{e.name} on stream {sid}", e.detail) for sid, e in h3.errors[:5]]
    if dec.failed:
        problems.append(("packets", f"{dec.failed} 1-RTT packets authenticated under no key"))
    for what, detail in problems:
        rows.append(
            WeirdRow(
                view.ts,
                view.uid,
                "quic_decrypt_incomplete",
                f"{what}: {detail}"[:500],
                0,
                "tls_decrypt",
            )
        )
    return rows
