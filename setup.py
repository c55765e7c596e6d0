"""Build of the compiled hot path (inspector/_native/_core.pyx); metadata is in pyproject.toml.

As in yarl/multidict/frozenlist: the extension is built when a C compiler and the Python headers
are there. If the build fails, the install goes on with the pure-Python path (the package warns
once at run time), unless ``INSPECTOR_REQUIRE_EXTENSION=1`` asks for the build to fail loudly.
"""

from __future__ import annotations

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DIRECTIVES = {
    "language_level": 3,
    # captures are hostile input: Cython's index checks stay on
    "boundscheck": True,
    "wraparound": True,
    "initializedcheck": True,
}

EXTENSIONS = [
    Extension(
        "inspector._native._core",
        ["inspector/_native/_core.pyx"],
        # no fused multiply-add: timestamps must round exactly as the pure-Python path's
        extra_compile_args=["-O2", "-ffp-contract=off"],
    )
]


class OptionalBuildExt(build_ext):
    """Build the extension; on failure fall back to the pure-Python path unless required."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing or failing: report, go on
            self._failed(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # as above
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if os.environ.get("INSPECTOR_REQUIRE_EXTENSION", "") not in ("", "0"):
            raise exc
        sys.stderr.write(
            f"warning: the compiled core was not built ({exc}); inspector will use its "
            "pure-Python path (install gcc and python3-dev to build it)\n"
        )


setup(
    ext_modules=cythonize(EXTENSIONS, compiler_directives=DIRECTIVES),
    cmdclass={"build_ext": OptionalBuildExt},
)
