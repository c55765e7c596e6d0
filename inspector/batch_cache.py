"""The resume cache of :mod:`inspector.batch`: per-capture results as data, never as code.

An output folder is shared between people, so ``OUTDIR/.inspector-cache`` is untrusted input:
nothing in it is ever unpickled or executed. One entry per capture, ``<key>.arrows``::

    b"INSPCACHE1\\n"  magic and format version
    4 bytes          length of the header, big-endian
    header           JSON: format, tool version, key, each input's size, mtime and sha256,
                     the summary, the warnings, and (name, offset, length) of each table
    tables           one Arrow IPC stream per table (plain columns: string, int64, bool, double)

:meth:`Cache.get` accepts an entry only when everything checks: magic, format, tool version,
key, every input's size, modification time and content hash equal to the file's now, the set
of tables and each table's columns and Arrow types exactly those the schema declares (the
frames are rebuilt with the schema's dtypes, never with types named in the file). Anything
else, including a file that does not parse at all, is a miss: the capture is analysed again
and the entry rewritten. A well-formed entry forged by someone who can write the folder can
only claim wrong results (as they could by editing the CSV outputs), never run code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from inspector import __version__
from inspector.api import Result, result_from
from inspector.config import Config
from inspector.pipeline import Collected
from inspector.report.jsonout import dumps

__all__ = ["Cache", "file_digest", "input_stamp"]

MAGIC = b"INSPCACHE1\n"
FORMAT = 1
SUFFIX = ".arrows"
#: a header larger than this is not one we wrote
MAX_HEADER = 64 << 20
_LEN = struct.Struct(">I")
#: what a damaged or forged entry can raise while it is read and checked: ours (ValueError),
#: the JSON and UTF-8 decoders' (ValueError), a short read (struct.error), malformed entries
#: (TypeError, KeyError, IndexError) and Arrow's (:func:`_damaged`); anything else is a bug
#: and is not hidden
_DAMAGED = (OSError, ValueError, TypeError, KeyError, IndexError, struct.error)


@functools.cache
def _damaged() -> tuple[type[BaseException], ...]:
    """:data:`_DAMAGED` and Arrow's errors (pyarrow imported only when an entry fails)."""
    import pyarrow as pa

    return (*_DAMAGED, NotImplementedError, pa.ArrowException)


def file_digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def input_stamp(path: str, digest: str) -> dict[str, Any]:
    """What identifies an input's content: size, modification time (ns) and sha256."""
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}


def _config_key(config: Config) -> str:
    return repr(dataclasses.replace(config, shard=None))


@functools.cache
def _expected() -> dict[str, dict[str, Any]]:
    """Each table of a one-capture result with its column dtypes, in the order written."""
    tables = result_from(Collected()).tables
    return {name: dict(frame.dtypes) for name, frame in tables.items()}


@functools.cache
def _arrow_schemas() -> dict[str, Any]:
    """The Arrow schema each table is stored with (as :func:`_encode_table` writes it)."""
    import pyarrow as pa

    return {
        name: pa.Table.from_pandas(frame, preserve_index=False).schema.remove_metadata()
        for name, frame in result_from(Collected()).tables.items()
    }


def _encode_table(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _decode_table(name: str, blob: memoryview) -> pd.DataFrame:
    """The table ``name`` from one IPC stream; ValueError unless its schema is the declared one."""
    import pyarrow as pa

    table = pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
    if not table.schema.remove_metadata().equals(_arrow_schemas()[name]):
        raise ValueError(f"cached table {name}: columns differ from the schema")
    mapper = {
        pa.large_string(): pd.StringDtype(),
        pa.string(): pd.StringDtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }.get
    frame = table.to_pandas(types_mapper=mapper, ignore_metadata=True)
    return frame.astype(_expected()[name])


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _LEN.size:
        raise ValueError("not a cache entry")
    (size,) = _LEN.unpack_from(data, len(MAGIC))
    start = len(MAGIC) + _LEN.size
    if size > MAX_HEADER or start + size > len(data):
        raise ValueError("bad header length")
    header = json.loads(data[start : start + size].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("bad header")
    return header, start + size


def _tables(header: dict[str, Any], data: bytes, body: int) -> dict[str, pd.DataFrame]:
    entries = header.get("tables")
    # the tables as this process orders them: a worker process that wrote the entry may have
    # imported the schema modules (which register the tables) in another order
    expected = list(_expected())
    if not isinstance(entries, list) or sorted(str(e[0]) for e in entries) != sorted(expected):
        raise ValueError("cached tables differ from the schema")
    view = memoryview(data)
    tables = {}
    for name, offset, length in sorted(entries, key=lambda e: expected.index(e[0])):
        if not (isinstance(offset, int) and isinstance(length, int)) or offset < 0 or length < 0:
            raise ValueError("bad table offsets")
        if body + offset + length > len(data):
            raise ValueError("table beyond the end of the file")
        tables[name] = _decode_table(name, view[body + offset : body + offset + length])
    return tables


class Cache:
    """Per-capture results under ``folder``, keyed by content hash, version and configuration."""

    def __init__(self, folder: str | os.PathLike[str], config: Config) -> None:
        self.folder = Path(folder)
        self.config = _config_key(config)

    def key(self, digests: Sequence[str], label: str) -> str:
        material = "|".join([__version__, self.config, label, *digests])
        return hashlib.sha256(material.encode("utf-8", "backslashreplace")).hexdigest()[:32]

    def get(self, key: str, stamps: list[dict[str, Any]]) -> Result | None:
        """The cached result, or None when there is none or it fails any check."""
        try:
            data = (self.folder / f"{key}{SUFFIX}").read_bytes()
            header, body = _header(data)
            if (header.get("format"), header.get("version"), header.get("key")) != (
                FORMAT,
                __version__,
                key,
            ) or header.get("inputs") != stamps:
                return None
            summary, warnings = header.get("summary"), header.get("warnings")
            if not isinstance(summary, dict) or not isinstance(warnings, list):
                return None
            if not all(isinstance(w, str) for w in warnings):
                return None
            return Result(_tables(header, data, body), summary, warnings)
        except _damaged():  # a damaged or forged entry of a shared folder: analyse again
            return None

    def put(self, key: str, stamps: list[dict[str, Any]], result: Result) -> None:
        """Keep ``result`` for a later run; a write error (full disk) only skips the caching."""
        blobs = [(name, _encode_table(frame)) for name, frame in result.tables.items()]
        entries, offset = [], 0
        for name, blob in blobs:
            entries.append([name, offset, len(blob)])
            offset += len(blob)
        header = {
            "format": FORMAT,
            "version": __version__,
            "key": key,
            "inputs": stamps,
            "summary": result.summary,
            "warnings": list(result.warnings),
            "tables": entries,
        }
        head = dumps(header, indent=None).encode("utf-8", "backslashreplace")
        # a name of this process's own: two workers may keep the same key (two copies of a file)
        tmp = self.folder / f"{key}{SUFFIX}.{os.getpid()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(MAGIC + _LEN.pack(len(head)) + head)
                for _name, blob in blobs:
                    fh.write(blob)
            os.replace(tmp, self.folder / f"{key}{SUFFIX}")
        except OSError:
            tmp.unlink(missing_ok=True)
