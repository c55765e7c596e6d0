"""Run configuration: one frozen object passed explicitly through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.flows.table import FlowLimits

__all__ = ["Config"]


@dataclass(frozen=True, slots=True)
class Config:
    limits: FlowLimits = field(default_factory=FlowLimits)
    dissect: bool = True  #: run the protocol dissectors on ended flows
    client: str = ""  #: address of the local client (default: guessed)
    tracker_lists: tuple[str, ...] = ()  #: user-given tracker list files
    keylogs: tuple[str, ...] = ()  #: user-given TLS key log files (SSLKEYLOGFILE format)
    #: files of the user's own values to look for in requests (--known-values)
    known_values: tuple[str, ...] = ()
    #: HAR files (--har) and mitmproxy flow files (--mitm) whose requests join ``http`` and
    #: ``data_shared`` with their provenance in ``source``
    har: tuple[str, ...] = ()
    mitm: tuple[str, ...] = ()
    show_values: bool = False  #: write personal-data values unmasked in data_shared (--show-values)
    #: ``(k, n)``: keep only the flows whose key hashes to shard ``k`` of ``n`` (see
    #: :func:`inspector.flows.table.shard_of`); every packet is still read, decoded and counted
    shard: tuple[int, int] | None = None
