"""One capture read by several workers: each keeps the flows of its shard; merged exactly.

A capture is one file, or (``--merge``) several files read one after the other in time order as
one packet stream (a ring buffer). Worker ``k`` of ``n`` reads every packet of the capture, decodes
it and counts it, but keeps only the flows whose key hashes to ``k``
(:func:`inspector.flows.table.shard_of`, set through ``Config.shard``). Every worker thus sees the
same packets, runs the flow-table sweeps at the same packets and ends each of its flows exactly
where one process would; a worker only skips the per-flow work of other shards' flows.

:func:`merge_shards` puts the shards' rows back into the order one process writes them: rows are
appended when their flow ends, so each flow gets the key ``(frame at which it ended, phase,
first frame)``, where phase orders the ends that one packet causes as :class:`FlowTable` does
(sweep, then TCP port reuse, then eviction; the end of input last). Packet accounting (decoded,
skipped, malformed, decode ``weird`` rows, tunnels, fragments) is the same in every shard and is
taken once, from shard 0 (and checked equal in the others); per-flow counters are summed.

The later stages (attribution with its DNS-based naming, assessment, findings) then run once on
the merged rows, so every flow is named from every DNS answer of the capture, as in one process.
Under flow-table memory pressure (more than ``FlowLimits.max_flows`` flows open at once) each
shard would evict from its own smaller table, unlike one process: when any shard evicted,
:mod:`inspector.batch` reads that capture again in one piece.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.config import Config
from inspector.dissect.keylog import KeyLog
from inspector.dissect.registry import load_dissectors
from inspector.dissect.tlsdecrypt import make_dissector, make_key_check
from inspector.errors import InputError
from inspector.flows.fastloop import feed_spans
from inspector.pipeline import Collected, Ingest, read_keylogs
from inspector.schema.base import Row
from inspector.source import open_capture

__all__ = ["ShardPart", "first_ts", "merge_shards", "read_capture"]

#: FlowTable end reason -> order of the ends one packet causes (sweep, reuse, evict; then input end)
_PHASE = {
    "idle_timeout": 0,
    "active_timeout": 0,
    "tcp_closed": 0,
    "tcp_reuse": 1,
    "evicted": 2,
    "end_of_input": 3,
}


@dataclass
class ShardPart:
    """What one worker read: the packet stages' rows and counters, and each flow's end key."""

    collected: Collected
    order: dict[str, tuple[float, int, int]] = field(default_factory=dict)
    shard: tuple[int, int] | None = None


class _OrderedIngest(Ingest):
    """:class:`Ingest` that notes, for each flow, where one process would have written it."""

    order: dict[str, tuple[float, int, int]]
    closing: bool

    def _ended(self) -> None:
        at = math.inf if self.closing else float(self.frame)
        for flow in self.table.ended:
            self.order[flow.uid] = (at, _PHASE.get(flow.end_reason, 2), flow.first_frame)
        super()._ended()


def first_ts(path: str) -> float:
    """Timestamp of a capture's first packet (inf when it has none); for ``--merge`` order."""
    cap = open_capture(path)
    try:
        for span in cap.spans():
            return float(span[0])
        return math.inf
    finally:
        cap.close()


def _dissectors(config: Config) -> tuple[list[Any], KeyLog]:
    keylog = KeyLog(read_keylogs(config.keylogs))
    dissectors = load_dissectors() if config.dissect else []
    if dissectors:
        dissectors.append(("tls_decrypt", make_dissector(keylog)))
    return dissectors, keylog


def live_dissectors(
    config: Config, follow: list[str] | None = None
) -> tuple[list[Any], Callable[[Callable[[], Any]], bool] | None]:
    """The dissectors of a live capture, as for a file, with the user's key logs; and the flow
    table's key check on the same key log (flows whose secrets are in it are kept past the
    budgets, as for files).

    ``follow``: key-log text the live run keeps appending to (lines written to the key log
    files after the capture started), read at each lookup."""
    dissectors, keylog = _dissectors(config)
    if follow is not None:
        keylog.follow(follow)
    return dissectors, (make_key_check(keylog) if dissectors else None)


def read_capture(paths: Sequence[str], config: Config, label: str = "") -> ShardPart:
    """Source + decode + flows + dissect for one capture (files in the given order)."""
    dissectors, keylog = _dissectors(config)
    out = Collected()
    out.rows.setdefault("flows", [])
    keyed = make_key_check(keylog) if dissectors else None
    ingest = _OrderedIngest(config, out, label or os.path.basename(paths[0]), dissectors, keyed)
    ingest.order = {}
    ingest.closing = False
    for path in paths:
        start = ingest.frame
        cap = open_capture(path)
        try:
            keylog.follow(cap.secrets)
            feed_spans(ingest, cap.spans())
        finally:
            cap.close()
        bad = cap.skipped_blocks.get("bad_packet_block", 0)
        if bad:
            out.malformed["bad_packet_block"] = out.malformed.get("bad_packet_block", 0) + bad
        out.inputs.append(
            {
                "path": path,
                "format": cap.format,
                "compressed": cap.compressed,
                "linktypes": sorted(cap.linktypes),
                "packets": ingest.frame - start,
                "truncated": cap.truncated,
                "pcapng_blocks_without_packets": dict(sorted(cap.skipped_blocks.items())),
            }
        )
        out.warnings.extend(cap.warnings)
    ingest.closing = True
    ingest.finish()
    return ShardPart(out, ingest.order, config.shard)


def _packet_counts(c: Collected) -> tuple[Any, ...]:
    return (
        c.decoded,
        c.skipped,
        c.malformed,
        c.fragments_evicted,
        c.tunnels,
        [i["packets"] for i in c.inputs],
    )


def _row_key(row: Row, order: dict[str, tuple[float, int, int]]) -> tuple[float, int, int]:
    uid = getattr(row, "uid", "")
    key = order.get(uid) if uid else None
    if key is not None:
        return key
    # a row of no flow (a malformed packet): written at its frame, before any flow end there
    return (float(getattr(row, "frame", 0) or 0), -1, 0)


def merge_shards(parts: Sequence[ShardPart]) -> Collected:
    """The shards' rows in one process's order, each packet counted once."""
    parts = sorted(parts, key=lambda p: p.shard[0] if p.shard else 0)
    base = parts[0].collected
    for p in parts[1:]:
        if _packet_counts(p.collected) != _packet_counts(base):
            raise InputError("shards of one capture disagree on packet accounting (file changed?)")
    out = Collected(
        decoded=base.decoded,
        skipped=dict(base.skipped),
        malformed=dict(base.malformed),
        inputs=list(base.inputs),
        warnings=list(base.warnings),
        flows_evicted=sum(p.collected.flows_evicted for p in parts),
        fragments_evicted=base.fragments_evicted,
        overlap_conflicts=sum(p.collected.overlap_conflicts for p in parts),
        tunnels=dict(base.tunnels),
    )
    names = sorted({name for p in parts for name in p.collected.rows})
    for name in names:
        keyed: list[tuple[tuple[float, int, int], int, int, Row]] = []
        for i, p in enumerate(parts):
            for j, row in enumerate(p.collected.rows.get(name, [])):
                if i and not getattr(row, "uid", "x"):
                    continue  # rows of no flow (malformed packets) are the same in every shard
                keyed.append((_row_key(row, p.order), i, j, row))
        keyed.sort(key=lambda t: t[:3])
        out.rows[name] = [t[3] for t in keyed]
    return out
