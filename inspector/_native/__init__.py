"""The compiled hot path and the choice between it and its pure-Python twin.

As in the aio-libs projects (yarl, multidict, frozenlist): :mod:`inspector._native._core` is a
Cython module built by ``pip install .`` (setup.py). It mirrors, name for name, the pure-Python
reference that stays in place:

==========================  ================================================
compiled (``_core.pyx``)    reference
==========================  ================================================
``PcapWalker``              :func:`inspector.source.pcap._walk`
``PcapngWalker``            :func:`inspector.source.pcapng._blocks`
``feed_spans``              :func:`inspector.flows.fastloop.feed_spans_py`
``Side``                    :class:`inspector.flows.table.Side`
``sweep_due``               the loop of :meth:`inspector.flows.table.FlowTable.sweep`
==========================  ================================================

Packets that are not plain packets of known flows (first packets, SYN/FIN/RST, fragments,
tunnels, anything odd) still go through the reference decoder and ``FlowTable.add`` on both
paths, so both give identical tables (tests/native/test_differential.py).

``INSPECTOR_PURE_PYTHON=1`` selects the pure-Python path. Without it, the compiled core is used
when it was built; when it was not, the pure-Python path is used and one warning line says so.
The choice is read at call time from :data:`core`, so tests can run both paths in one process
(:func:`use_pure`).
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

__all__ = ["ENV_PURE", "available", "build_error", "core", "use_pure"]

ENV_PURE = "INSPECTOR_PURE_PYTHON"

#: why the compiled core could not be imported (None when it was, or was not asked for)
build_error: str | None = None


def _load() -> ModuleType | None:
    global build_error
    try:
        return importlib.import_module("inspector._native._core")
    except ImportError as exc:
        build_error = str(exc)
        return None


def _pure_requested() -> bool:
    return os.environ.get(ENV_PURE, "") not in ("", "0")


_built = _load()
if _built is None and not _pure_requested():
    sys.stderr.write(
        "inspector: warning: compiled core not built; using the pure-Python path "
        f"(slower, same results); reinstall with a C compiler and Python headers ({build_error})\n"
    )
#: the compiled module, or None when the pure-Python path is in use
core: ModuleType | None = None if _pure_requested() else _built


def use_pure(pure: bool) -> None:
    """Switch between the paths for what runs next (tests); the compiled one must be built."""
    global core
    if not pure and _built is None:
        raise RuntimeError(f"compiled core not built ({build_error})")
    core = None if pure else _built


def available() -> bool:
    """True when the compiled core was built and imported."""
    return _built is not None
