"""Compiling plain_kernel.c once per machine into a per-user cache, and loading it.

The source is compiled with the system C compiler (``$CC``, else ``cc``) into
``$GRIDPROX_CACHE``, else ``$XDG_CACHE_HOME/gridprox``, else ``~/.cache/gridprox``, keyed by the
source, compiler, flags and CPU, one library per precision built side by side."""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("plain_kernel.c")
FLAGS = ["-O3", "-march=native", "-fopenmp", "-fPIC", "-shared"]


def _cache_dir() -> Path:
    if os.environ.get("GRIDPROX_CACHE"):
        return Path(os.environ["GRIDPROX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gridprox"


def _cpu_signature() -> str:
    """What -march=native depends on: the CPU's model and flags (Linux), else the machine."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith(("model name", "flags"))][:2]
        return "\n".join(lines)
    except OSError:
        return platform.machine() + platform.processor()


VARIANTS = {"plain_f64": "-DONLY_FLOAT64", "plain_f32": "-DONLY_FLOAT32"}   # one library per precision


def build(compiler: str) -> dict[str, Path]:
    """The library of each precision (``VARIANTS``), compiled side by side where not cached."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30).stdout
    common = [SOURCE.read_text(), compiler, version, " ".join(FLAGS), _cpu_signature()]
    targets, jobs = {}, []
    try:              # the clean-up below also covers a launch that fails after another started
        for name, define in VARIANTS.items():
            key = hashlib.sha256("\0".join([*common, define]).encode()).hexdigest()[:16]
            targets[name] = target = _cache_dir() / f"plain_kernel-{key}.so"
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
            os.close(fd)
            jobs.append((subprocess.Popen([compiler, *FLAGS, define, str(SOURCE), "-o", tmp],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True),
                         tmp, target, define))
        for proc, tmp, target, define in jobs:
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"{compiler} {define} failed: {err.strip()[:500]}")
            os.replace(tmp, target)        # atomic: concurrent builders leave one complete file
    finally:
        for proc, tmp, _, _ in jobs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if os.path.exists(tmp):
                os.unlink(tmp)
    return targets
