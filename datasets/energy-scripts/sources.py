"""Fetch the pinned source distributions the datasets are converted from.

Each source is downloaded with ``pip download --no-deps --no-binary :all: PKG==VER`` into a
cache folder (``$GRIDPROX_SOURCES`` or ``<tmp>/gridprox-sources``) and unpacked there; nothing
from it is committed except the converted data.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PINNED = {"pypsa": "1.4.0", "tsam": "4.1.1", "windpowerlib": "0.2.2"}


def cache_dir() -> Path:
    return Path(os.environ.get("GRIDPROX_SOURCES", Path(tempfile.gettempdir()) / "gridprox-sources"))


def source(package: str) -> Path:
    """Root folder of the unpacked sdist of a pinned package (downloads it once)."""
    version = PINNED[package]
    root = cache_dir() / f"{package}-{version}"
    if root.is_dir():
        return root
    cache_dir().mkdir(parents=True, exist_ok=True)
    archive = cache_dir() / f"{package}-{version}.tar.gz"
    if not archive.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"{package}=={version}", "-d", str(cache_dir())], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(cache_dir(), filter="data")
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
