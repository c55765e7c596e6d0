"""Import the fuzz scripts (``scripts/`` is not a package) for the tests in this folder."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import fuzz_captures  # noqa: E402
import fuzz_entry  # noqa: E402
import fuzz_mutate  # noqa: E402
import fuzz_parsers  # noqa: E402

__all__ = ["fuzz_captures", "fuzz_entry", "fuzz_mutate", "fuzz_parsers"]
