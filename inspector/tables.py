"""Rows -> pandas DataFrames with the dtypes the schema declares (no CSV round-trip)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import pandas as pd

from inspector.schema import columns, load_all
from inspector.schema.base import Row

__all__ = ["empty_frame", "to_frame"]


def to_frame(name: str, rows: Sequence[Row]) -> pd.DataFrame:
    """A DataFrame of table ``name`` with one column per declared field, typed as declared."""
    if not rows:  # most tables of a small capture: a copy of the one empty frame per table
        return _empty(name).copy()
    return _build(name, rows)


@functools.cache
def _empty(name: str) -> pd.DataFrame:
    return _build(name, [])


def _build(name: str, rows: Sequence[Row]) -> pd.DataFrame:
    spec = load_all()[name]
    cols = columns(spec.row)
    data = {}
    for (col_name, dtype, _doc), values in zip(cols, _transposed(rows, cols), strict=True):
        if dtype == "string":
            data[col_name] = pd.array(values, dtype="string")
        elif dtype == "Int64":
            data[col_name] = pd.array(values, dtype="Int64")
        elif dtype == "boolean":
            data[col_name] = pd.array(values, dtype="boolean")
        else:
            data[col_name] = pd.array(
                [float("nan") if v is None else v for v in values], dtype="float64"
            )
    return pd.DataFrame(data)


def _transposed(rows: Sequence[Row], cols: list[tuple[str, str, str]]) -> list[list[object]]:
    """One list of values per column, read by a C-level ``map`` of ``attrgetter`` (no bytecode
    per cell, and no container per row that would wake the garbage collector)."""
    return [list(map(operator.attrgetter(c), rows)) for c, _dtype, _doc in cols]


def empty_frame(name: str) -> pd.DataFrame:
    return to_frame(name, [])
