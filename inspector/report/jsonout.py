"""JSON output for machines: each table as an array of records, missing values as ``null``.

Strings are written as decoded from the capture (control characters become JSON ``\\u00XX``
escapes, which every JSON reader turns back into the original text). Numbers keep their full
precision; NaN, pandas NA and None all become ``null``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dumps", "json_lines", "records", "write_json"]


def _value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if hasattr(v, "item"):  # numpy scalar
        return _value(v.item())
    return v


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as plain dicts (JSON-ready: no NaN, no numpy types)."""
    cols = list(frame.columns)
    out: list[dict[str, Any]] = []
    for row in frame.itertuples(index=False, name=None):
        out.append({c: _value(v) for c, v in zip(cols, row, strict=True)})
    return out


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return _value(obj)


def _encode(obj: Any, indent: int | None) -> str:
    return json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_value)


def dumps(obj: Any, indent: int | None = 2) -> str:
    """``obj`` as JSON text: UTF-8 characters kept, NaN/inf/NA as null, numpy scalars as numbers."""
    return _encode(_clean(obj), indent)


_STRING = json.encoder.encode_basestring  # ensure_ascii=False
#: a text column this long is encoded per distinct value (factorize costs ~40 us a column, more
#: than it saves on a short one; measured on the shared captures' tables)
_FACTORIZE_ROWS = 1000


def _float_text(v: Any) -> str:
    return "null" if v is None or v is pd.NA or not math.isfinite(v) else float.__repr__(v)


def _column_texts(column: pd.Series) -> list[str]:
    """Each value of ``column`` as the JSON text ``json.dumps`` gives it in a record.

    Declared dtypes take a fast path per column; anything else is encoded value by value
    exactly as :func:`records` + :func:`_encode` would."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) and len(column) >= _FACTORIZE_ROWS:
        # a long column: each distinct string encoded once (code -1: NA)
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        encoded = np.array([*map(_STRING, uniques.tolist()), "null"], dtype=object)
        return list(encoded[codes])
    values = column.tolist()
    if isinstance(dtype, pd.BooleanDtype):
        return ["null" if v is pd.NA else ("true" if v else "false") for v in values]
    if isinstance(dtype, pd.Int64Dtype):
        return ["null" if v is pd.NA else int.__repr__(v) for v in values]
    if dtype == "float64":
        return [_float_text(v) for v in values]
    return [_STRING(v) if v.__class__ is str else _encode(_value(v), None) for v in values]


def json_lines(frame: pd.DataFrame) -> list[str]:
    """The records of ``frame``, each as one compact JSON object (what :func:`write_json` writes
    one per line), built column by column rather than row by row."""
    if not len(frame):
        return []
    keys = [_STRING(str(c)) for c in frame.columns]
    texts = [_column_texts(frame.iloc[:, i]) for i in range(len(keys))]
    # one format string per table ({"a": {}, "b": {}}): each record is one C-level format call
    braced = [k.replace("{", "{{").replace("}", "}}") + ": {}" for k in keys]
    record = "{{" + ", ".join(braced) + "}}"
    return [record.format(*row) for row in zip(*texts, strict=True)]


def write_json(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` as a JSON array of records, one record per line (compact
    records let ``json`` use its C encoder; an indented dump is several times slower)."""
    rows = json_lines(frame)
    text = ("[\n" + ",\n".join(rows) + "\n]" if rows else "[]") + "\n"
    # A lone surrogate (never expected) becomes the JSON escape \udcXX, still valid JSON.
    Path(path).write_bytes(text.encode("utf-8", "backslashreplace"))
