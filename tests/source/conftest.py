"""Every test here runs against the compiled core and the pure-Python reference."""

from tests.native.paths import both_paths

__all__ = ["both_paths"]
