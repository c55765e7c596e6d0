"""The ``http`` table: cleartext HTTP/1.x requests (and SSDP-style HTTP over UDP)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["HttpRow"]


@table(
    "http",
    "One row per HTTP request: cleartext HTTP/1.x (TCP, and HTTP-like requests over UDP such as "
    "SSDP), HTTP/1.1 and HTTP/2 read from TLS decrypted with the user's keys, HTTP/3 read from "
    "QUIC 1-RTT packets decrypted with them, and requests imported from HAR or mitmproxy files. "
    "Each is paired with its response when seen. Header values are the text on the wire "
    "(UTF-8; undecodable bytes as `\\xNN`); an empty string means the header was absent.",
)
@dataclass(frozen=True, slots=True)
class HttpRow(Row):
    ts: float = col(
        "Capture time of the first byte of the request, seconds since the Unix epoch.", "float64"
    )
    uid: str = col("Flow the request belongs to (joins `conn`).")
    frame: int = col("Frame that carried the first byte of the request (1-based).", "Int64", 0)
    client_is_orig: bool = col(
        "True when the flow's originator sent the request (false when the capture started "
        "mid-flow and the server's packet came first).",
        "boolean",
        True,
    )
    method: str = col("Request method (`GET`, `POST`, `M-SEARCH`, ...).", "string", "")
    host: str = col(
        "Host the request names: the `:authority` pseudo-header (HTTP/2, /3), the authority "
        "of an absolute-form target (userinfo removed), "
        "else the first `Host` header, else a CONNECT target; port kept as written; empty when "
        "none.",
        "string",
        "",
    )
    uri: str = col(
        "Request target without scheme and authority (path and query; the `:path` "
        "pseudo-header for HTTP/2 and /3), `*` for asterisk-form, "
        "the authority for CONNECT; longer than 2048 characters it is cut and ends with "
        "`...(+N)` (N characters dropped).",
        "string",
        "",
    )
    version: str = col(
        "Protocol version: `HTTP/1.0` or `HTTP/1.1` as on the request line, `HTTP/2` or `HTTP/3`.",
        "string",
        "",
    )
    user_agent: str = col("`User-Agent` header of the request.", "string", "")
    origin: str = col(
        "`Origin` header of the request: the web page's origin when a browser calls this server "
        "(a site calling a local helper server shows here).",
        "string",
        "",
    )
    referer: str = col("`Referer` header of the request.", "string", "")
    content_type: str = col("`Content-Type` header of the request.", "string", "")
    request_body_len: int | None = col(
        "Request body length in octets (Content-Length, or the sum of chunk sizes); 0 without a "
        "body; empty when it could not be determined.",
        "Int64",
        None,
    )
    status: int | None = col(
        "Status code of the paired response; empty when none was seen.", "Int64", None
    )
    reason: str = col("Reason phrase of the paired response.", "string", "")
    response_content_type: str = col("`Content-Type` header of the response.", "string", "")
    response_body_len: int | None = col(
        "Response body length in octets (Content-Length, the sum of chunk sizes, or the bytes up "
        "to the end of the captured stream for a body delimited by connection close); empty when "
        "no response was seen or its length could not be determined.",
        "Int64",
        None,
    )
    server: str = col("`Server` header of the response.", "string", "")
    x_forwarded_for: str = col("`X-Forwarded-For` header of the request.", "string", "")
    frames: str = col("Frames that carried the request head, ';'-joined.", "string", "")
    inside_tls: bool = col(
        "True when the request was read from TLS application data decrypted with a key log "
        "(--keylog, or secrets embedded in the pcapng); False for cleartext HTTP.",
        "boolean",
        False,
    )
    stream_id: int | None = col(
        "HTTP/2 or HTTP/3 stream the exchange used; empty for HTTP/1.x.", "Int64", None
    )
    request_content_encoding: str = col(
        "`Content-Encoding` header of the request (`gzip`, `br`, ...).", "string", ""
    )
    request_body_decoded_len: int | None = col(
        "Request body length in octets after undoing its content codings (gzip, deflate, br, "
        "zstd), at most 1 MiB is decoded; empty when the body was not available or did not "
        "decode.",
        "Int64",
        None,
    )
    response_content_encoding: str = col("`Content-Encoding` header of the response.", "string", "")
    source: str = col(
        "Where the request was read: `capture` (packets), `har:FILE` (a HAR file) or "
        "`mitmproxy:FILE` (a mitmproxy flow file).",
        "string",
        "capture",
    )
