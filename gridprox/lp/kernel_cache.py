"""Building plain_kernel.c (native.py's kernel) with the shared, hardened cache of compiled
kernels, ``gridprox.core.native_cache`` (where the cache's rules of trust are written).

The names here are the LP kernel's: its source, libraries and self-test value; ``build`` and
``library_names`` bind them, and the self-test goes through this module's ``_selftest`` so that
it can be watched (tests/test_reliability_cache.py)."""
from __future__ import annotations

from pathlib import Path

from ..core import native_cache
from ..core.native_cache import FLAGS, KernelSource  # noqa: F401

SOURCE = Path(__file__).with_name("plain_kernel.c")
VARIANTS = {"plain_f64": "-DONLY_FLOAT64", "plain_f32": "-DONLY_FLOAT32"}   # one library per precision
SELFTEST_VALUE = 51823                   # gridprox_selftest() of a sound library (plain_kernel.c)
PLAIN = KernelSource(SOURCE, VARIANTS, {name: (name, name + "_check") for name in VARIANTS}, SELFTEST_VALUE,
                     "plain_kernel", "the PDHG C kernel")


def _selftest(path: Path, name: str, spec: KernelSource = PLAIN) -> str | None:
    """Load ``path`` in a subprocess and run its self-test; why it failed, or None."""
    return native_cache.selftest(path, name, spec)


def library_names(compiler: str) -> dict[str, str]:
    """The file name of each precision's library for ``compiler``."""
    return native_cache.library_names(compiler, PLAIN)


def build(compiler: str) -> dict[str, Path]:
    """The library of each precision, checked, compiled where not cached (native_cache.build)."""
    return native_cache.build(compiler, PLAIN, check=lambda *a: _selftest(*a), stacklevel=4)
