"""How a table is declared: a frozen dataclass whose fields carry a doc string and a pandas dtype.

Every output table (CSV, JSON, DataFrame) is declared once with :func:`table` and :func:`col`;
``python -m inspector.schema`` prints the column reference generated from these declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

__all__ = ["DTYPES", "TABLES", "Row", "TableSpec", "col", "columns", "table"]

#: pandas dtypes a column may declare.
DTYPES = frozenset({"string", "Int64", "float64", "boolean"})

_MISSING: Any = dataclasses.MISSING


def col(doc: str, dtype: str = "string", default: Any = _MISSING) -> Any:
    """Declare one column: its documentation and pandas dtype (and optionally a default)."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}")
    meta = {"doc": doc, "dtype": dtype}
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Row:
    """Marker base for table records; ``TABLE`` names the table a record belongs to."""

    TABLE: ClassVar[str] = ""


@dataclasses.dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    doc: str
    row: type
    key: str


#: table name -> spec, in declaration order.
TABLES: dict[str, TableSpec] = {}

R = TypeVar("R", bound=type)


def table(name: str, doc: str, key: str = "uid") -> Callable[[R], R]:
    """Class decorator registering a row dataclass as table ``name``."""

    def wrap(cls: R) -> R:
        cls.TABLE = name  # type: ignore[attr-defined]
        for f in dataclasses.fields(cls):
            if "doc" not in f.metadata:
                raise TypeError(f"{cls.__name__}.{f.name} has no doc; declare it with col()")
        TABLES[name] = TableSpec(name, doc, cls, key)
        return cls

    return wrap


def columns(row: type) -> list[tuple[str, str, str]]:
    """``(name, dtype, doc)`` for each column of a row class."""
    return [(f.name, f.metadata["dtype"], f.metadata["doc"]) for f in dataclasses.fields(row)]
