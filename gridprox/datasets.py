"""Bundled energy systems: ``list_systems()`` and ``load_system(name_or_path)``.

Systems live in the repository's ``datasets/`` folder, found relative to this file (so an
editable install works from anywhere); ``GRIDPROX_DATASETS`` (os.pathsep-separated folders)
adds or overrides search locations.  A system is any sub-folder holding a ``system.yaml``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from .energy.system import System, read_system
from .errors import GridproxError

__all__ = ["list_systems", "load_system", "dataset_dirs", "UnknownSystemError"]


class UnknownSystemError(GridproxError, KeyError):
    """No bundled system has this name; the message lists the available ones."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def dataset_dirs() -> list[Path]:
    """Folders searched for systems, in priority order."""
    extra = [Path(p) for p in os.environ.get("GRIDPROX_DATASETS", "").split(os.pathsep) if p]
    return [*extra, Path(__file__).resolve().parent.parent / "datasets"]


def _systems() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in dataset_dirs():
        try:
            subs = sorted(root.iterdir()) if root.is_dir() else []
        except OSError:     # an unreadable folder on GRIDPROX_DATASETS holds no systems we can use
            continue
        for sub in subs:
            try:
                if (sub / "system.yaml").is_file():
                    found.setdefault(sub.name, sub)
            except OSError:
                continue
    return found


def list_systems() -> list[str]:
    """Names of the bundled systems (sorted)."""
    return sorted(_systems())


def load_system(name_or_path: Union[str, os.PathLike]) -> System:
    """Load and validate a bundled system by name, or any system folder by path.

    A path ending in .nc / .h5 is read as a PyPSA network (``System.from_pypsa``).

    Raises ``UnknownSystemError`` (a KeyError) listing the available names, ``FileNotFoundError``
    for a missing folder, and ``SystemDataError`` (a ValueError) naming file, column and row for
    malformed data."""
    systems = _systems()
    key = str(name_or_path)
    if key in systems:
        return read_system(systems[key])
    path = Path(name_or_path)
    if path.suffix.lower() in (".nc", ".h5", ".hdf5"):
        return System.from_pypsa(path)
    if path.is_dir() or os.sep in key or (os.altsep and os.altsep in key):
        return read_system(path)
    raise UnknownSystemError(f"unknown system {key!r}; available: {', '.join(sorted(systems)) or '(none found)'}"
                             f" (searched {', '.join(map(str, dataset_dirs()))})")
