"""``--format parquet``: each table as a Parquet dataset partitioned by capture file (pyarrow).

``OUTDIR/parquet/<table>/file=<name>/part-0.parquet`` (Hive partitioning, the file name
URI-encoded), plus ``_common_metadata`` holding the schema, so empty tables keep their columns.
Read back with ``pandas.read_parquet("OUTDIR/parquet/flows")`` or
``pyarrow.dataset.dataset("OUTDIR/parquet/flows", partitioning="hive")``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from inspector.api import Result
from inspector.errors import InputError

__all__ = ["FOLDER", "write_parquet"]

FOLDER = "parquet"


def _pyarrow() -> tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            "--format parquet needs pyarrow: pip install 'conference-inspector[parquet]'"
        ) from exc
    return pa, ds, pq


def require_pyarrow() -> None:
    """:class:`InputError` (exit 2) when pyarrow is missing; called before any packet is read."""
    _pyarrow()


def _with_file(frame: pd.DataFrame, result: Result) -> pd.DataFrame:
    if "file" in frame.columns:
        return frame
    names = [Path(str(i.get("path", ""))).name for i in result.summary.get("inputs", [])]
    frame = frame.copy()
    frame["file"] = pd.array([names[0] if len(names) == 1 else ""] * len(frame), dtype="string")
    return frame


def write_parquet(result: Result, outdir: str | Path) -> list[Path]:
    """Write every table of ``result``; return the dataset folders."""
    pa, ds, pq = _pyarrow()
    root = Path(outdir) / FOLDER
    written = []
    for name, frame in result.tables.items():
        frame = _with_file(frame, result)
        frame = frame.assign(file=frame["file"].fillna(""))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        folder = root / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if table.num_rows:
            ds.write_dataset(
                table,
                folder,
                format="parquet",
                partitioning=ds.partitioning(pa.schema([("file", pa.string())]), flavor="hive"),
                basename_template="part-{i}.parquet",
                existing_data_behavior="overwrite_or_ignore",
            )
        pq.write_metadata(table.schema, folder / "_common_metadata")
        written.append(folder)
    return written
