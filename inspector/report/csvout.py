"""CSV output that is safe to open in a spreadsheet.

A cell of a text column that starts with ``= + - @``, a tab or a carriage return would be taken
as a formula by Excel and LibreOffice; such cells get a leading apostrophe, which spreadsheets
show as text and which keeps the capture's string readable and whole.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise", "write_csv"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: object) -> object:
    """The cell value with formula triggers disarmed (non-strings unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as UTF-8 CSV with text cells neutralised; NA is an empty cell."""
    out = frame.copy()
    for name, dtype in out.dtypes.items():
        if isinstance(dtype, pd.StringDtype) or dtype == object:
            out[name] = out[name].map(neutralise, na_action="ignore")
    out.to_csv(path, index=False, encoding="utf-8", float_format="%.6f", lineterminator="\n")
