"""Tests for inspector.dissect.http: HTTP/1.x heads (RFC 9112) and the http dissector."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.http import (
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    dissect,
    parse_request_head,
    parse_response_head,
)
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.privacy.request import RequestSeen
from inspector.schema.http import HttpRow
from inspector.schema.weird import WeirdRow


def stream(*chunks: tuple[int, float, bytes]) -> Stream:
    segments, data = [], b""
    for frame, ts, chunk in chunks:
        segments.append((len(data), frame, ts))
        data += chunk
    return Stream(data, tuple(segments))


def tcp_view(orig: Stream, resp: Stream, resp_p: int = 80) -> FlowView:
    return FlowView("Chttp", "tcp", "10.0.0.2", 50000, "10.0.0.80", resp_p, 1.0, (), orig, resp)


def http_rows(rows: list) -> list[HttpRow]:
    return [r for r in rows if isinstance(r, HttpRow)]


# -- heads -----------------------------------------------------------------------------------------


def test_request_head_keeps_order_and_case() -> None:
    data = b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  v1 \r\nx-thing: v2\r\n\r\nBODY"
    req = parse_request_head(data)
    assert (req.method, req.target, req.version) == ("GET", "/a?b=1", "HTTP/1.1")
    assert req.headers == (("Host", "example.com"), ("X-Thing", "v1"), ("x-thing", "v2"))
    assert req.head_len == len(data) - 4
    assert req.header("X-THING") == "v1" and req.header_all("x-thing") == ["v1", "v2"]
    assert req.header("Missing") is None


def test_bare_lf_obs_fold_and_lenient_spacing() -> None:
    req = parse_request_head(b"GET    /x   HTTP/1.0\nUser-Agent: a\n  b\n\n")
    assert req.target == "/x" and req.headers == (("User-Agent", "a b"),)


def test_response_head() -> None:
    resp = parse_response_head(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n")
    assert (resp.version, resp.status, resp.reason, resp.header("server")) == (
        "HTTP/1.1",
        404,
        "Not Found",
        "x",
    )
    assert parse_response_head(b"HTTP/1.0 200\r\n\r\n").reason == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x16\x03\x01\x02\x00\x01", "bad_method"),  # TLS
        (b"get / HTTP/1.1\r\n\r\n", "bad_method"),  # methods are case-sensitive
        (b"FOO / HTTP/1.1\r\n\r\n", "bad_method"),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", "incomplete"),
        (b"GET /\r\n\r\n", "bad_request_line"),  # HTTP/0.9 has no head to speak of
        (b"GET / HTTP/x.y\r\n\r\n", "bad_request_line"),
        (b"OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 1\r\n\r\n", "not_http"),
        (b"NOTIFY sip:a@b SIP/2.0\r\n\r\n", "not_http"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "bad_header"),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "bad_header"),
        (b"GET / HTTP/1.1\r\n: x\r\n\r\n", "bad_header"),
    ],
)
def test_request_head_errors(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_request_head(data)
    assert err.value.name == reason


def test_header_limits() -> None:
    many = b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * (MAX_HEADERS + 1) + b"\r\n"
    with pytest.raises(ParseError) as err:
        parse_request_head(many)
    assert err.value.name == "too_many_headers"
    huge = b"GET / HTTP/1.1\r\nA: " + b"x" * MAX_HEAD_BYTES
    with pytest.raises(ParseError) as err:
        parse_request_head(huge)
    assert err.value.name == "head_too_long"


@pytest.mark.parametrize(
    "data", [b"HTTP/1.1 20 OK\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTPS/1.1 200\r\n\r\n"]
)
def test_response_head_errors(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_response_head(data)


def test_host_with_odd_bytes_is_kept_verbatim() -> None:
    req = parse_request_head(b"GET / HTTP/1.1\r\nHost: ex\x01am\xffple.b\xc3\xbccher.de\r\n\r\n")
    # control bytes stay as they are, valid UTF-8 is decoded, only undecodable bytes are escaped
    assert req.header("Host") == "ex\x01am\\xffple.bücher.de"
    rows = http_rows(
        dissect(tcp_view(stream((1, 1.0, b"GET / HTTP/1.1\r\nHost: a\xfe\r\n\r\n")), stream()))
    )
    assert rows[0].host == "a\\xfe"


# -- the dissector ---------------------------------------------------------------------------------


def test_pipelined_requests_with_bodies_pair_in_order() -> None:
    client = (
        b"POST /upload HTTP/1.1\r\nHost: api.example\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 5\r\n\r\nhello"
        b"PUT /chunks HTTP/1.1\r\nHost: api.example\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
        b"\r\n"  # a stray empty line between requests (RFC 9112 section 2.2)
        b"GET /last HTTP/1.1\r\nHost: api.example\r\nOrigin: https://site.example\r\n"
        b"Referer: https://site.example/page\r\nX-Forwarded-For: 192.0.2.9\r\n\r\n"
    )
    server = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nServer: srv/1\r\nContent-Length: 2\r\n\r\nok"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
    )
    cuts = [0, 30, 90, 150, len(client)]
    orig = stream(
        *[(i + 1, 1.0 + i / 10, client[a:b]) for i, (a, b) in enumerate(itertools.pairwise(cuts))]
    )
    resp = stream((10, 2.0, server))
    rows = http_rows(dissect(tcp_view(orig, resp)))
    summary = [(r.method, r.uri, r.request_body_len, r.status, r.response_body_len) for r in rows]
    assert summary == [
        ("POST", "/upload", 5, 201, 2),
        ("PUT", "/chunks", 11, 200, 3),
        ("GET", "/last", 0, 204, 0),
    ]
    first, second, third = rows
    assert (
        first.content_type == "text/plain" and first.server == "srv/1" and first.reason == "Created"
    )
    assert first.frames == "1;2" and first.frame == 1 and first.ts == 1.0
    assert second.response_content_type == "text/html"
    assert third.origin == "https://site.example" and third.referer == "https://site.example/page"
    assert third.x_forwarded_for == "192.0.2.9" and third.host == "api.example"
    assert all(r.client_is_orig for r in rows)


def test_same_rows_whole_or_byte_by_byte() -> None:
    client = (
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
    )
    server = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    whole = http_rows(dissect(tcp_view(stream((1, 1.0, client)), stream((2, 2.0, server)))))
    split = http_rows(
        dissect(
            tcp_view(
                stream(*[(1, 1.0, client[i : i + 1]) for i in range(len(client))]),
                stream(*[(2, 2.0, server[i : i + 1]) for i in range(len(server))]),
            )
        )
    )
    assert whole == split and len(whole) == 2


def test_absolute_form_target() -> None:
    data = b"GET http://user:pw@Example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other.example\r\n\r\n"
    (row,) = http_rows(dissect(tcp_view(stream((1, 1.0, data)), stream(), resp_p=3128)))
    assert row.host == "Example.com:8080" and row.uri == "/p/q?x=1"
    bare = b"GET http://example.net HTTP/1.1\r\n\r\n"
    (row,) = http_rows(dissect(tcp_view(stream((1, 1.0, bare)), stream())))
    assert row.host == "example.net" and row.uri == "/"


def test_connect_stops_at_the_tunnel() -> None:
    client = b"CONNECT zoom.us:443 HTTP/1.1\r\nHost: zoom.us:443\r\n\r\n\x16\x03\x01\x00\x05hello"
    server = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02hi"
    rows = dissect(tcp_view(stream((1, 1.0, client)), stream((2, 2.0, server)), resp_p=3128))
    assert [(r.method, r.host, r.uri, r.status) for r in http_rows(rows)] == [
        ("CONNECT", "zoom.us:443", "zoom.us:443", 200)
    ]
    assert not [r for r in rows if isinstance(r, WeirdRow)]


def test_head_response_has_no_body_and_close_delimited_body() -> None:
    client = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.0\r\nHost: h\r\n\r\n"
    server = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.0 200 OK\r\n\r\n<html>body"
    rows = http_rows(dissect(tcp_view(stream((1, 1.0, client)), stream((2, 2.0, server)))))
    assert [(r.status, r.response_body_len) for r in rows] == [(200, 0), (200, 10)]


def test_capture_started_mid_flow() -> None:
    # The server's packet came first, so the flow's originator is the server; its stream also
    # starts with the end of a response to a request sent before the capture started.
    server = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxx"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    )
    client = b"ody-of-an-earlier-post\r\nGET /favicon.ico HTTP/1.1\r\nHost: h.local\r\n\r\n"
    orig = stream((1, 1.0, server[:40]), (3, 3.0, server[40:]))
    view = FlowView(
        "Cmid", "tcp", "10.0.0.80", 80, "10.0.0.2", 50000, 1.0, (), orig, stream((2, 2.0, client))
    )
    (row,) = http_rows(dissect(view))
    assert not row.client_is_orig and row.host == "h.local" and row.uri == "/favicon.ico"
    assert row.status == 404 and row.frame == 2


def test_long_uri_is_cut_with_a_marker() -> None:
    data = b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: h\r\n\r\n"
    (row,) = http_rows(dissect(tcp_view(stream((1, 1.0, data)), stream())))
    assert row.uri == "/" + "a" * 2047 + "...(+953)"


def test_local_helper_server_called_by_a_website() -> None:
    # The 2019 Zoom macOS case: a web page makes the browser call a web server the app runs on
    # localhost; the Origin/Referer headers name the site.
    data = (
        b"GET /launch?action=join&confno=123 HTTP/1.1\r\nHost: localhost:19421\r\n"
        b"Origin: https://evil.example\r\nReferer: https://evil.example/x\r\n\r\n"
    )
    (row,) = http_rows(dissect(tcp_view(stream((1, 1.0, data)), stream(), resp_p=19421)))
    assert (row.host, row.origin, row.referer) == (
        "localhost:19421",
        "https://evil.example",
        "https://evil.example/x",
    )


@pytest.mark.parametrize("value", [b"3\r\nContent-Length: 4", b"-1", b"0x10", b"9" * 16])
def test_bad_content_length_is_weird(value: bytes) -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + value + b"\r\n\r\nabc"
    rows = dissect(tcp_view(stream((1, 1.0, data)), stream()))
    assert [r.name for r in rows if isinstance(r, WeirdRow)] == ["http_bad_content_length"]


def test_broken_chunk_framing_stops_the_walk() -> None:
    data = (
        b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"
        b"GET /never HTTP/1.1\r\n\r\n"
    )
    (row,) = http_rows(dissect(tcp_view(stream((1, 1.0, data)), stream())))
    assert row.uri == "/a" and row.request_body_len is None


def test_not_http_flows() -> None:
    tls = stream((1, 1.0, b"\x16\x03\x01\x02\x00" + bytes(300)))
    assert (
        dissect(tcp_view(tls, stream((2, 2.0, b"\x16\x03\x03\x00\x10" + bytes(16))), resp_p=443))
        == []
    )
    rtsp = stream((1, 1.0, b"OPTIONS rtsp://10.2.2.2:8554/ RTSP/1.0\r\nCSeq: 2\r\n\r\n"))
    assert dissect(tcp_view(rtsp, stream(), resp_p=8554)) == []


def test_ssdp_over_udp() -> None:
    search = (
        b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
        b"MX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Chrome\r\n\r\n"
    )
    reply = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nSERVER: Linux UPnP/1.0\r\n\r\n"
    dgrams = (
        Datagram(7, 5.0, True, search),
        Datagram(8, 5.1, False, reply),
        Datagram(9, 5.2, True, b"junk"),
    )
    view = FlowView("Cssdp", "udp", "10.0.0.2", 57025, "239.255.255.250", 1900, 5.0, dgrams)
    (row,) = http_rows(dissect(view))
    assert (row.method, row.host, row.uri, row.frame, row.frames) == (
        "M-SEARCH",
        "239.255.255.250:1900",
        "*",
        7,
        "7",
    )
    assert row.user_agent == "Chrome" and row.status == 200 and row.server == "Linux UPnP/1.0"


# -- properties ------------------------------------------------------------------------------------

SAMPLES = [
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)) * draw(st.integers(1, 2)))
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.sampled_from(b"\r\n :0-9aF\x00\xff"))
    return bytes(data[: draw(st.integers(0, len(data)))])


any_bytes = st.one_of(st.binary(max_size=200), mutated())


@settings(max_examples=300, deadline=None)
@given(any_bytes)
def test_parsers_any_bytes(data: bytes) -> None:
    for parse in (parse_request_head, parse_response_head):
        try:
            head = parse(data)
        except ParseError:
            continue
        assert 0 < head.head_len <= len(data)


@settings(max_examples=200, deadline=None)
@given(any_bytes, any_bytes, st.booleans())
def test_dissect_never_raises(client: bytes, server: bytes, as_udp: bool) -> None:
    if as_udp:
        dgrams = (Datagram(1, 1.0, True, client), Datagram(2, 2.0, False, server))
        view = FlowView("C", "udp", "a", 1, "b", 1900, 1.0, dgrams)
    else:
        view = tcp_view(
            stream((1, 1.0, client[:7]), (2, 1.5, client[7:])), stream((3, 2.0, server))
        )
    for row in dissect(view):
        assert isinstance(row, HttpRow | WeirdRow | RequestSeen)
