"""The ``rtp`` table: one row per RTP or RTCP stream (flow, direction, SSRC, kind)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["RtpRow"]


@table(
    "rtp",
    "One row per RTP or RTCP stream, keyed by (uid, direction, SSRC, kind), found in UDP "
    "datagrams either plain (RFC 7983 demultiplexed), inside TURN ChannelData, MS-TURN or a STUN "
    "Send/Data indication, or inside Zoom's framing. A plain RTP stream needs >= 3 packets with "
    "the same SSRC and mostly increasing sequence numbers (random UDP passes the header checks "
    "often enough to need this); Zoom-framed packets need one packet once the flow is confirmed "
    "as Zoom (a Zoom hello, or a Zoom stream of >= 3 packets). An RTCP stream is kept on a flow "
    "with an RTP stream, on a Zoom flow, with >= 2 exactly-parsed compounds, one SR/RR+SDES "
    "compound, or an SRTCP index found. Only the flow's retained datagrams are seen. Lists are "
    "`;`-joined.",
)
@dataclass(frozen=True, slots=True)
class RtpRow(Row):
    ts: float = col("Capture time of the stream's first packet, epoch seconds.", "float64")
    uid: str = col("Flow the stream belongs to.")
    frame: int = col("Frame number of the stream's first packet.", "Int64")
    from_orig: bool = col("True when the flow's originator sends this stream.", "boolean")
    framing: str = col(
        "Encapsulation: `plain`, `zoom_server` (8-byte SFU header), `zoom_server_2020` (2019/2020 "
        "one-byte outer header), `zoom_p2p`, `turn_channel`, `ms_turn`, `stun_data`, `rfc4571` "
        "(RTP/RTCP over TCP with a 2-byte length prefix, RFC 4571)."
    )
    zoom_media: str = col(
        "Zoom inner media type: `audio`, `video`, `screen_share`, `rtcp`; empty when not "
        "Zoom-framed or the type has no known meaning."
    )
    kind: str = col("`rtp` or `rtcp`.")
    ssrc: str = col("SSRC (RTCP: the sender SSRC) as 8 hex digits.")
    payload_types: str = col("`;`-joined RTP payload types (RTCP: packet types) seen.")
    packets: int = col("Packets of the stream among the flow's retained datagrams.", "Int64")
    seq_gaps: int | None = col(
        "RTP sequence numbers missing between the lowest and highest seen (RFC 3550 "
        "expected - received); NA for RTCP.",
        "Int64",
    )
    seq_reorders: int | None = col(
        "Packets arriving with a sequence number below the highest seen so far; NA for RTCP.",
        "Int64",
    )
    marker_count: int | None = col("Packets with the RTP marker bit set; NA for RTCP.", "Int64")
    ts_step: int | None = col(
        "Most common positive RTP timestamp step between consecutive packets; NA when unknown.",
        "Int64",
    )
    clock_guess: str = col(
        "RTP clock rate guessed from timestamps vs capture time (or the step): `8000`, `16000`, "
        "`48000`, `90000`; empty when unknown."
    )
    header_ext_profiles: str = col(
        "`;`-joined header-extension profiles in hex: 0xbede (one-byte), 0x100X (two-byte), "
        "0xc0de/0xc2de (Cryptex, encrypted extensions); empty when none."
    )
    header_ext_ids: str = col(
        "`;`-joined extension element IDs seen (one- and two-byte forms; not Cryptex)."
    )
    csrc_count_max: int | None = col("Largest CSRC count seen; NA for RTCP.", "Int64")
    payload_bytes: int = col(
        "Bytes after the RTP header, CSRCs and extension (RTCP: whole packets), summed.", "Int64"
    )
    payload_len_residue16: int | None = col(
        "Dominant (payload length mod 16) after the parsed headers; NA when unknown.", "Int64"
    )
    residue16_fraction: float | None = col(
        "Fraction of packets in that residue class (near 1.0: block cipher with padding, or a "
        "constant-size trailer); NA when unknown.",
        "float64",
    )
    codec_guess: str = col(
        "Cleartext codec whose structure test most packets pass (>= 90 % of >= 10 packets, or a "
        "near-proof such as a VP8 key-frame start code): `opus`, `h264`, `vp8`, `g711`, "
        "`g722`, `g729`, `h263`; empty when none (expected for encrypted payloads)."
    )
    codec_match_fraction: float | None = col(
        "Fraction of packets passing the best codec test (that of `codec_guess` when set); NA "
        "for RTCP.",
        "float64",
    )
    codec_evidence: str = col(
        "What the codec test found, with frame numbers; empty when `codec_guess` is empty."
    )
    srtp_tag_guess: str = col(
        "SRTP auth-tag length in bytes: `10`/`4`/`16` (`0` = no tag) from constant-size audio "
        "(G.711/G.722) or from the SRTCP index position on the same flow; empty when not "
        "inferable."
    )
    srtcp_e_flag: str = col(
        "RTCP only: `1` (SRTCP encrypted) or `0` (SRTCP not encrypted) from the E|index word at "
        "-4/-8/-14 whose index increments per packet; empty when none found (e.g. plain RTCP)."
    )
    srtcp_index_offset: int | None = col(
        "RTCP only: where that E|index word sits from the end (-4 AEAD, -8 HMAC-32, -14 "
        "HMAC-80); NA when none found.",
        "Int64",
    )
    ecb_packets: int | None = col(
        "Packets analysed for repeated blocks after de-duplication; NA for RTCP.", "Int64"
    )
    ecb_repeated_blocks: int | None = col(
        "Distinct 16-byte ciphertext blocks repeating across packets (after excluding "
        "shared-prefix and long-run copies); NA for RTCP.",
        "Int64",
    )
    ecb_block_indices: int | None = col(
        "Distinct block positions at which those repeats occur; NA for RTCP.", "Int64"
    )
    ecb_prefix_only: bool | None = col(
        "True when every repeat is explained by shared prefixes (CBC with fixed IV or duplicated "
        "data), not ECB; NA for RTCP.",
        "boolean",
    )
    ecb_example_block: str = col("Hex of the most widespread repeating block; empty when none.")
    ecb_frames: str = col(
        "`;`-joined `frame:offset` pairs (offset in the UDP payload, for Wireshark "
        "`udp.payload[offset:16]`) where repeats occur; at most 10."
    )
    ecb_suspected: bool | None = col(
        "ECB (deterministic, nonce-less encryption) suspected: >= 3 repeating blocks (or one "
        "block in >= 8 packets at >= 3 positions) at >= 2 positions, not prefix-only, dominant "
        "length residue >= 95 %; blocks with < 8 distinct byte values never count; NA for RTCP.",
        "boolean",
    )
    frames: str = col("`;`-joined frame numbers of the stream's first 20 packets.")
    codec_variant: str = col(
        "Codec variant when the test tells: `alaw` (PCMA) or `ulaw` (PCMU) for `g711` (the PT "
        "names it, else the law under which the samples decode quieter); empty otherwise.",
        "string",
        "",
    )
    srtp_tag_plausible: bool | None = col(
        "Whether an SRTP authentication tag is plausibly present (RFC 3711 section 3.1): True "
        "when `srtp_tag_guess` is 4, 10 or 16, False when it is 0 (payload length exactly the "
        "codec's size, no room for a tag); NA when the codec's size is not fixed (Opus, video) "
        "or unknown. NA for RTCP (see `srtcp_e_flag`).",
        "boolean",
        None,
    )
    rtcp_readable_fraction: float | None = col(
        "RTCP only: fraction of packets whose compound walks exactly and opens with an SR or RR "
        "whose length fits its report count (RFC 3550 sections 6.1, 6.4.1, 6.4.2): readable "
        "reports (SRTCP adds a trailer, so its compounds never walk exactly); NA for RTP.",
        "float64",
        None,
    )
