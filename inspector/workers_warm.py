"""Imported last by the worker server (:data:`inspector.workers.PRELOAD`): loads once what
every worker would otherwise load at its first capture (the bundled attribution database, the
public suffix list, the schema's empty tables, the report template), so that the forked workers
start with it (about 0.5 s of CPU per worker on the 60-file benchmark folder)."""

from __future__ import annotations

import contextlib
import importlib

#: modules a worker imports at its first capture (inside functions)
_LATER_IMPORTS = (
    "inspector.batch_pages",
    "inspector.report.csvout",
    "inspector.report.findings_text",
    "inspector.report.personal_text",
    "inspector.source.known_values",
)


def warm() -> None:
    """Never raises: a failure here only leaves the loading to the workers."""
    with contextlib.suppress(Exception):
        for module in _LATER_IMPORTS:
            importlib.import_module(module)
        from inspector.attribute.database import bundled_database
        from inspector.attribute.psl import registrable_domain
        from inspector.report.html import warm_templates
        from inspector.schema import load_all
        from inspector.tables import empty_frame

        bundled_database()
        registrable_domain("example.com")
        for name in load_all():
            empty_frame(name)
        warm_templates()


warm()
