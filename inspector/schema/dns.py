"""The ``dns`` and ``dns_answers`` tables: cleartext DNS, mDNS and LLMNR transactions."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["DnsAnswerRow", "DnsRow"]


@table(
    "dns",
    "One row per DNS transaction (a query and its response when seen; a response whose query "
    "was not captured still gives a row) over UDP or TCP, including mDNS and LLMNR. Encrypted "
    "DNS (DoT, DoQ, DoH) never appears here. Lists are joined with ';' in wire order.",
)
@dataclass(frozen=True, slots=True)
class DnsRow(Row):
    ts: float = col(
        "Capture time of the query (of the response when no query was seen), seconds since the "
        "Unix epoch.",
        "float64",
    )
    uid: str = col("Flow the transaction belongs to (joins `conn`).")
    frame: int = col(
        "Frame of the query, or of the response when no query was seen (1-based).", "Int64"
    )
    response_frame: int | None = col(
        "Frame of the matching response; empty when no response was seen.", "Int64", None
    )
    proto: str = col(
        "Transport: `udp` or `tcp` (DNS over TCP with 2-byte length prefixes).", "string", ""
    )
    transport_label: str = col(
        "`dns` (port 53 or a parsed exchange on another port), `mdns` (5353) or `llmnr` (5355).",
        "string",
        "",
    )
    trans_id: int = col("DNS transaction ID (0-65535).", "Int64", 0)
    query: str = col(
        "Question name as on the wire (case kept), dig-style escapes (`\\DDD` decimal for bytes "
        "outside 0x21-0x7E, `\\.` `\\;` `\\\\` etc. for special bytes inside a label); `.` is the "
        "root; empty when the response carried no question (mDNS announcements).",
        "string",
        "",
    )
    qtype: str = col(
        "Question type name (`A`, `AAAA`, `HTTPS`, ...) or `TYPE<n>` when unknown; empty when "
        "there was no question.",
        "string",
        "",
    )
    rcode: str = col(
        "Response code name (`NOERROR`, `NXDOMAIN`, ..., `RCODE<n>`), including the EDNS "
        "extended bits; empty when no response was seen.",
        "string",
        "",
    )
    rtt_ms: float | None = col(
        "Response time minus query time in milliseconds; empty when either side is missing.",
        "float64",
        None,
    )
    answers: str = col(
        "Answer-section values joined with ';' in wire order: addresses for A/AAAA, target "
        "names for CNAME/PTR/NS/MX/SRV, quoted strings for TXT, `mname rname serial ...` for "
        "SOA, for HTTPS/SVCB a short presentation form `<priority> <target> alpn=.. "
        "ipv4hint=.. ipv6hint=.. ech` (`ech` marks an ECH config, its bytes are not copied), "
        "`\\# <len>` (RFC 3597 generic form, length only) for other types or for RDATA that "
        "did not decode. No value contains ';'.",
        "string",
        "",
    )
    answer_types: str = col(
        "Type name of each answer RR, ';'-joined, same order as `answers`.", "string", ""
    )
    ttls: str = col(
        "TTL (seconds) of each answer RR, ';'-joined, same order as `answers`.", "string", ""
    )
    cnames: str = col(
        "CNAME targets in the answer section, ';'-joined in wire order.", "string", ""
    )
    ech_config_present: bool = col(
        "True when an HTTPS/SVCB answer carries an `ech` SvcParam (key 5): the server publishes "
        "an Encrypted ClientHello config.",
        "boolean",
        False,
    )
    https_alpn: str = col(
        "ALPN ids offered by HTTPS/SVCB answers (`alpn` SvcParam), ';'-joined, first-seen order, "
        "no duplicates.",
        "string",
        "",
    )


@table(
    "dns_answers",
    "One row per answer-section resource record of every DNS response (long format), so an "
    "address can be mapped back to the name that resolved to it.",
)
@dataclass(frozen=True, slots=True)
class DnsAnswerRow(Row):
    ts: float = col("Capture time of the response, seconds since the Unix epoch.", "float64")
    uid: str = col("Flow the response belongs to (joins `conn` and `dns`).")
    frame: int = col("Frame of the response (1-based).", "Int64", 0)
    query: str = col(
        "Question name of the response (escaped as in `dns.query`); empty when it had none.",
        "string",
        "",
    )
    rr_name: str = col("Owner name of the record (escaped as in `dns.query`).", "string", "")
    rr_type: str = col("Record type name (`A`, `CNAME`, ...) or `TYPE<n>`.", "string", "")
    ttl: int = col("Record TTL in seconds.", "Int64", 0)
    value: str = col(
        "The record's value: an address for A/AAAA, a target name for CNAME/PTR/NS/MX/SRV, "
        "otherwise the same rendering as in `dns.answers`.",
        "string",
        "",
    )
