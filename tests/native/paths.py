"""Run a test against both twins: the compiled core and the pure-Python reference.

Test packages whose modules have a compiled twin (flows, source) use :func:`both_paths` from
their ``conftest.py`` as an autouse fixture, as the aio-libs projects parametrise their suites.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inspector import _native

__all__ = ["PATHS", "both_paths", "selected"]

PATHS = ["native", "pure"]


def selected(path: str) -> None:
    """Select ``path`` ("native" or "pure") for what runs next; skip if it was not built."""
    if path == "native" and not _native.available():
        pytest.skip(f"compiled core not built ({_native.build_error})")
    _native.use_pure(path == "pure")


@pytest.fixture(params=PATHS, autouse=True)
def both_paths(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test of the package runs once per path."""
    before = _native.core
    selected(request.param)
    yield request.param
    _native.core = before
