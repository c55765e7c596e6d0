"""The schema is declared once and docs/schema.md is generated from it."""

from __future__ import annotations

from pathlib import Path

from inspector.schema import columns, load_all
from inspector.schema.docs import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_every_table_starts_with_ts_and_uid_or_uid_and_ts() -> None:
    for name, spec in load_all().items():
        first = [c[0] for c in columns(spec.row)[:2]]
        assert set(first) == {"ts", "uid"} or name in {"findings", "sessions", "destinations"}, name


def test_every_column_documented() -> None:
    for spec in load_all().values():
        for col_name, dtype, doc in columns(spec.row):
            assert doc.strip().endswith((".", ")")), f"{spec.name}.{col_name}: {doc!r}"
            assert dtype in {"string", "Int64", "float64", "boolean"}


def test_docs_schema_md_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run: inspector schema > docs/schema.md"
