"""The ``data_shared`` table: personal data found in HTTP requests the client sent."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["DataSharedRow"]


@table(
    "data_shared",
    "One row per item of personal or device data found in an HTTP request the client sent "
    "(decrypted with the user's keys, cleartext, or imported from HAR / mitmproxy files): which "
    "category, in which field, found by which detector. Values are masked unless the run was "
    "asked to show them (--show-values).",
)
@dataclass(frozen=True, slots=True)
class DataSharedRow(Row):
    uid: str = col("Flow that carried the request (joins `flows` and `http`).")
    ts: float = col("Capture time of the request, seconds since the Unix epoch.", "float64")
    destination: str = col(
        "Server name the request went to (filled after attribution; the request's host when "
        "the flow has no name).",
        "string",
        "",
    )
    organisation: str = col(
        "Organisation operating the destination (after attribution).", "string", ""
    )
    party: str = col(
        "`first` or `third` party relative to the app under study (after attribution); empty "
        "when unknown.",
        "string",
        "",
    )
    category: str = col(
        "Kind of data: `advertising_id`, `vendor_id`, `android_id`, `imei`, `mac_address`, "
        "`device_model`, `os_version`, `time_zone`, `locale`, `carrier`, `screen_size`, "
        "`cpu_cores`, `disk_size`, `memory_size`, `location`, `email`, `phone_number`, or "
        "`known_value` (a value the user listed with --known-values).",
        "string",
        "",
    )
    field: str = col(
        "Where in the request: `query:NAME`, `form:NAME`, `json:PATH`, `header:NAME`, "
        "`cookie:NAME` or `path`.",
        "string",
        "",
    )
    detector: str = col(
        "Rule that matched (see `inspector.privacy.detectors.RULES`), with the encoding a known "
        "value was found in, e.g. `known_value:sha256`.",
        "string",
        "",
    )
    value: str = col(
        "The value sent; masked (first and last characters kept, the rest as `*`) unless "
        "--show-values was given.",
        "string",
        "",
    )
    frames: str = col("Frames that carried the request, ';'-joined.", "string", "")
    http_version: str = col("HTTP version of the request (as in the `http` table).", "string", "")
    stream_id: int | None = col("HTTP/2 or HTTP/3 stream of the request.", "Int64", None)
    source: str = col(
        "Where the request was read (`capture`, `har:FILE`, `mitmproxy:FILE`).", "string", "capture"
    )
