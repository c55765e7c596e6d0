"""Server naming with provenance: SNI first, then time-aware DNS, ambiguity kept."""

from __future__ import annotations

from inspector.attribute.names import (
    DNS_GRACE_S,
    DnsIndex,
    NameEvidence,
    arpa_address,
    choose_name,
)
from inspector.schema.dns import DnsAnswerRow
from inspector.schema.http import HttpRow
from inspector.schema.signalling import SignallingRow
from inspector.schema.stun import StunRow
from inspector.schema.tls import TlsRow
from tests.factories import evidence, flow, make


def answers(*items: tuple[float, str, str, int]) -> DnsIndex:
    return DnsIndex(
        [
            make(
                DnsAnswerRow,
                "Cdns",
                ts=ts,
                frame=7,
                query=q,
                rr_name=q,
                rr_type="A",
                ttl=ttl,
                value=a,
            )
            for ts, q, a, ttl in items
        ]
    )


def test_ip_only_flow_named_by_earlier_dns_answer() -> None:
    dns = answers((100.0, "graph.facebook.com", "157.240.1.1", 300))
    ev = choose_name(evidence(flow("C1", ts=150.0)), "157.240.1.1", dns)
    assert (ev.name, ev.source) == ("graph.facebook.com", "dns")
    assert "frame 7" in ev.detail and ev.dns_frame == 7


def test_dns_answer_after_the_flow_does_not_name_it() -> None:
    dns = answers((200.0, "graph.facebook.com", "157.240.1.1", 300))
    assert choose_name(evidence(flow("C1", ts=150.0)), "157.240.1.1", dns).source == "none"


def test_ttl_is_respected() -> None:
    dns = answers((100.0, "a.example", "192.0.2.7", 60))
    assert (
        choose_name(evidence(flow("C1", ts=100 + 60 + DNS_GRACE_S - 1)), "192.0.2.7", dns).name
        == "a.example"
    )
    assert (
        choose_name(evidence(flow("C1", ts=100 + 60 + DNS_GRACE_S + 1)), "192.0.2.7", dns).source
        == "none"
    )


def test_shared_address_is_ambiguous_with_candidates() -> None:
    dns = answers(
        (100.0, "tracker.example", "192.0.2.9", 300),
        (101.0, "cdn-images.example", "192.0.2.9", 300),
    )
    ev = choose_name(evidence(flow("C1", ts=120.0)), "192.0.2.9", dns)
    assert ev.source == "dns_ambiguous"
    assert set(ev.candidates) == {"tracker.example", "cdn-images.example"}
    assert ev.name == "cdn-images.example"  # the most recent answer


def test_cname_chain_gives_the_name_asked_for() -> None:
    dns = DnsIndex(
        [
            make(
                DnsAnswerRow,
                "Cdns",
                ts=100.0,
                frame=3,
                query="graph.facebook.com",
                rr_name="graph.facebook.com",
                rr_type="CNAME",
                ttl=300,
                value="star.c10r.facebook.com",
            ),
            make(
                DnsAnswerRow,
                "Cdns",
                ts=100.0,
                frame=3,
                query="graph.facebook.com",
                rr_name="star.c10r.facebook.com",
                rr_type="A",
                ttl=300,
                value="157.240.1.1",
            ),
        ]
    )
    assert (
        choose_name(evidence(flow("C1", ts=101.0)), "157.240.1.1", dns).name == "graph.facebook.com"
    )


def test_sni_wins_over_dns_and_http() -> None:
    dns = answers((100.0, "other.example", "192.0.2.1", 300))
    ev = choose_name(
        evidence(
            flow("C1", ts=120.0),
            tls=[make(TlsRow, "C1", sni="zoom.us", ech="none")],
            http=[make(HttpRow, "C1", host="ignored.example")],
        ),
        "192.0.2.1",
        dns,
    )
    assert (ev.name, ev.source) == ("zoom.us", "tls_sni")


def test_http_host_port_is_stripped() -> None:
    ev = choose_name(
        evidence(flow("C1"), http=[make(HttpRow, "C1", host="a.example:8080")]),
        "192.0.2.1",
        answers(),
    )
    assert (ev.name, ev.source) == ("a.example", "http_host")


def test_certificate_names_are_the_last_resort() -> None:
    tls = make(TlsRow, "C1", cert_sans="x.example;y.example", cert_subject="CN=x.example")
    ev = choose_name(evidence(flow("C1"), tls=[tls]), "192.0.2.1", answers())
    assert (ev.name, ev.source) == ("x.example", "cert_san")
    self_signed = make(TlsRow, "C1", cert_subject="CN=WebRTC", cert_self_signed=True)
    assert choose_name(evidence(flow("C1"), tls=[self_signed]), "192.0.2.1", answers()).source == (
        "none"
    )


def test_host_name_strips_only_a_real_port() -> None:
    from inspector.attribute.names import host_name

    assert host_name("a.example:8080") == "a.example"
    assert host_name("[2001:db8::1]:443") == "2001:db8::1"
    assert host_name('=HYPERLINK("http://evil","x")') == '=HYPERLINK("http://evil","x")'
    assert host_name("[bold red]markup[/]") == "[bold red]markup[/]"
    assert host_name("\tx.example") == "\tx.example"
    assert host_name("evil:notaport") == "evil:notaport"


# --- cleartext signalling names the server's domain (SIP REGISTER, XMPP stream 'to') ----------


def _sig(protocol: str, first_line: str) -> SignallingRow:
    return make(SignallingRow, "S1", protocol=protocol, first_line=first_line, frame=3)


def _named(*rows: SignallingRow, server: str = "212.242.33.35") -> NameEvidence:
    ev = evidence(flow("S1", proto="udp", resp_h="212.242.33.35", resp_p=5060), signalling=rows)
    return choose_name(ev, server, DnsIndex([]))


def test_sip_register_request_uri_names_the_registrar_domain() -> None:
    found = _named(_sig("sip", "REGISTER sip:sip.cybercity.dk SIP/2.0"))
    assert (found.name, found.source) == ("sip.cybercity.dk", "sip_register")
    assert "frame 3" in found.detail
    user = _named(_sig("sip", "REGISTER sips:alice@Example.COM:5061;transport=tls SIP/2.0"))
    assert (user.name, user.source) == ("example.com", "sip_register")


def test_sip_invite_and_address_literals_name_nobody() -> None:
    # an INVITE's Request-URI is the callee's domain, not necessarily the server's
    assert _named(_sig("sip", "INVITE sip:972392@voip.brujula.net SIP/2.0")).source == "none"
    assert _named(_sig("sip", "REGISTER sip:192.0.2.7 SIP/2.0")).source == "none"


def test_xmpp_stream_to_names_the_server_domain() -> None:
    line = "<stream:stream xmlns='jabber:client' to=\"jabber.example.org\" version='1.0'>"
    found = _named(_sig("xmpp", line))
    assert (found.name, found.source) == ("jabber.example.org", "xmpp_to")


def test_signalling_name_needs_the_client_to_have_sent_it() -> None:
    """When the first packet came from the server side, the message is not the client's."""
    row = _sig("sip", "REGISTER sip:sip.cybercity.dk SIP/2.0")
    assert _named(row, server="192.168.1.20").source == "none"  # server is the flow's orig


def test_dns_answer_beats_signalling_name() -> None:
    dns = answers((999.0, "proxy.example.net", "212.242.33.35", 300))
    ev = evidence(
        flow("S1", proto="udp", resp_h="212.242.33.35", resp_p=5060),
        signalling=[_sig("sip", "REGISTER sip:sip.cybercity.dk SIP/2.0")],
    )
    assert choose_name(ev, "212.242.33.35", dns).source == "dns"


def _stun(from_orig: bool, realm: str) -> StunRow:
    return make(StunRow, "T1", from_orig=from_orig, realm=realm, frame=455)


def _turn(*rows: StunRow, server: str = "18.195.4.121") -> NameEvidence:
    ev = evidence(flow("T1", proto="udp", resp_h="18.195.4.121", resp_p=443), stun=rows)
    return choose_name(ev, server, DnsIndex([]))


def test_stun_realm_sent_by_the_server_names_it() -> None:
    found = _turn(_stun(True, "viber.com"), _stun(False, "viber.com"))
    assert (found.name, found.source) == ("viber.com", "stun_realm")
    assert "frame 455" in found.detail


def test_stun_realm_from_the_client_only_or_not_a_domain_names_nobody() -> None:
    assert _turn(_stun(True, "viber.com")).source == "none"  # only the client's echo
    assert _turn(_stun(False, "rtcmedia")).source == "none"  # a word, not a domain
    assert _turn(_stun(False, "192.0.2.1")).source == "none"
    # the server is the flow's originator: its messages are the originator's
    assert _turn(_stun(True, "turn.example.net"), server="192.168.1.20").name == "turn.example.net"


# --- reverse DNS (PTR) answers: the address holder's name, last resort ------------------------


def _ptr(arpa: str, name: str, frame: int) -> DnsAnswerRow:
    return make(DnsAnswerRow, "Cdns", ts=1.0, frame=frame, query=arpa, rr_name=arpa,
                rr_type="PTR", ttl=60, value=name)  # fmt: skip


def test_arpa_address() -> None:
    assert arpa_address("2.2.2.4.in-addr.arpa.") == "4.2.2.2"
    v6 = ".".join(reversed("20014860486000000000000000008888")) + ".ip6.arpa"
    assert arpa_address(v6) == "2001:4860:4860::8888"
    for bad in ("2.2.4.in-addr.arpa", "x.2.2.4.in-addr.arpa", "1.ip6.arpa", "example.com"):
        assert arpa_address(bad) == "", bad


def test_ptr_answer_names_an_otherwise_unnamed_server() -> None:
    dns = DnsIndex(
        [
            _ptr("2.2.2.4.in-addr.arpa", "b.resolvers.Level3.net.", 17),
            _ptr("2.2.2.4.in-addr.arpa", "later.example.", 30),
        ]
    )
    ev = evidence(flow("P1", proto="icmp", resp_h="4.2.2.2", ts=500.0))
    found = choose_name(ev, "4.2.2.2", dns)
    assert (found.name, found.source) == ("b.resolvers.level3.net", "dns_ptr")
    assert "frame 17" in found.detail
    assert choose_name(ev, "4.2.2.3", dns).source == "none"


def test_forward_answer_beats_ptr() -> None:
    dns = DnsIndex(
        [
            _ptr("2.2.2.4.in-addr.arpa", "b.resolvers.level3.net", 17),
            make(
                DnsAnswerRow,
                "Cdns",
                ts=499.0,
                frame=20,
                query="dns.example",
                rr_name="dns.example",
                rr_type="A",
                ttl=300,
                value="4.2.2.2",
            ),
        ]
    )
    ev = evidence(flow("P1", proto="icmp", resp_h="4.2.2.2", ts=500.0))
    assert choose_name(ev, "4.2.2.2", dns).source == "dns"
