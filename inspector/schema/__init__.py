"""Every table's columns, types and docs, declared once (one module per table).

Importing this package registers every table in :data:`TABLES`.
"""

from __future__ import annotations

import importlib
import pkgutil

from inspector.schema.base import TABLES, Row, TableSpec, col, columns, table

__all__ = ["TABLES", "Row", "TableSpec", "col", "columns", "load_all", "table"]


def load_all() -> dict[str, TableSpec]:
    """Import every table module of this package and return the registry."""
    for info in pkgutil.iter_modules(__path__):
        if info.name not in ("base", "__main__", "docs"):
            importlib.import_module(f"{__name__}.{info.name}")
    return TABLES
