"""Compiling a C kernel (a ``KernelSource``: lp/plain_kernel.c, core/tv_kernel.c) once per
machine into a per-user cache, and loading it safely.

The source is compiled with the system C compiler (``$CC``, else ``cc``) into
``$GRIDPROX_CACHE``, else ``$XDG_CACHE_HOME/gridprox``, else ``~/.cache/gridprox``, keyed by the
source, compiler, flags and CPU, one library per precision built side by side.

A library is code that runs inside the solving process as soon as it is loaded, so nothing
found in the cache is trusted on sight:

* the cache folder is created 0700; a folder (or an ancestor) owned by another user, or writable
  by group/others (ancestors: unless sticky, as /tmp), is refused, and the kernel is built in a
  fresh private folder instead (``tempfile.mkdtemp``), with one ``KernelCacheWarning``;
* a cached library must be a regular file owned by us, not writable by group/others, whose
  sha256 equals the one recorded beside it (``.sha256``) when it was built;
* a library is loaded only after ``gridprox_selftest`` (end of each source) gave the expected
  value in a subprocess (python + ctypes, no torch), at build time and once per process for a
  cached file, so a damaged file can crash only that subprocess;
* a cached library failing a check is rebuilt once; if the rebuilt one fails too, ``build``
  raises and the solver stays on torch;
* files are written to a temporary name, fsynced and renamed into place (then the folder is
  fsynced), under a lock on the folder, so concurrent builders leave one complete file.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from .. import logs
from ..errors import KernelCacheWarning
from .private_files import cache_root, file_problem, folder_problem, make_folder

try:
    import fcntl
except ImportError:                      # not POSIX: no lock (os.replace still keeps files whole)
    fcntl = None

FLAGS = ["-O3", "-march=native", "-fopenmp", "-fPIC", "-shared"]
_TESTED: dict = {}                       # path -> sha256 self-tested in this process


@dataclass(frozen=True)
class KernelSource:
    """A C source built by ``build``: its libraries (name: define, one per precision), the
    symbols each must export, what its ``gridprox_selftest()`` returns, the prefix of its
    file names and lock, what the log calls it, and the compiler's flags."""
    source: Path
    variants: dict
    symbols: dict
    selftest_value: int
    stem: str
    what: str
    flags: tuple = tuple(FLAGS)


# run by the self-test subprocess: argv = [path, symbol, ...]; prints gridprox_selftest()
_SELFTEST_SCRIPT = """\
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
for name in sys.argv[2:]:
    getattr(lib, name)
print(lib.gridprox_selftest())
"""


def _cpu_signature() -> str:
    """What -march=native depends on: the CPU's model and flags (Linux), else the machine."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith(("model name", "flags"))][:2]
        return "\n".join(lines)
    except OSError:
        return platform.machine() + platform.processor()


def library_names(compiler: str, spec: KernelSource) -> dict[str, str]:
    """The file name of each precision's library for ``compiler`` (the cache key: source,
    compiler and its version, flags, CPU, precision)."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30).stdout
    common = [spec.source.read_text(), compiler, version, " ".join(spec.flags), _cpu_signature()]
    return {name: f"{spec.stem}-{hashlib.sha256(chr(0).join([*common, define]).encode()).hexdigest()[:16]}.so"
            for name, define in spec.variants.items()}


def _sha256(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def selftest(path: Path, name: str, spec: KernelSource) -> str | None:
    """Load ``path`` in a subprocess and run its self-test; why it failed, or None."""
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _SELFTEST_SCRIPT, str(path), *spec.symbols[name]],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"self-test could not run: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1][:200]
        return f"self-test failed (exit {done.returncode}{': ' + last if last else ''})"
    if done.stdout.strip() != str(spec.selftest_value):
        return f"self-test returned {done.stdout.strip()[:40]!r}, not {spec.selftest_value}"
    return None


def _cached_problem(target: Path, name: str, spec: KernelSource, check) -> str | None:
    """Why the cached library ``target`` may not be loaded (None when it may)."""
    sidecar = target.with_name(target.name + ".sha256")
    try:
        problem = file_problem(target)
        if problem:
            return problem
        if os.path.getsize(target) == 0:
            return "empty"
        if not os.path.lexists(sidecar):
            return "no recorded sha256"
        problem = file_problem(sidecar)
        if problem:
            return f"its sha256 file is {problem}"
        with open(sidecar, "rb") as fh:
            recorded = fh.read(100).decode("ascii", "replace").strip()
        digest = _sha256(target)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if digest != recorded:
        return "content differs from the sha256 recorded when it was built"
    if _TESTED.get(str(target)) != digest:
        problem = check(target, name, spec)
        if problem:
            return problem
        _TESTED[str(target)] = digest
    return None


# ------------------------------------------------------------------------- writing files
def _fsync_folder(folder: Path):
    with contextlib.suppress(OSError):       # some file systems cannot fsync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _seal(path: str):
    """Make a fresh file ours alone (the linker creates its output with the umask's mode) and
    flush it to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fchmod(fd, 0o700)
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path, stem: str):
    """An exclusive lock on ``folder``'s builds: a second builder waits, then finds the file."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder / f"{stem}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _compile(compiler: str, jobs: dict[str, tuple[Path, str]], notes: list, spec: KernelSource, check) -> None:
    """Compile each ``name: (target, define)`` side by side; check, seal and rename each into place."""
    started, sidecars = [], []
    try:              # the clean-up below also covers a launch that fails after another started
        for name, (target, define) in jobs.items():
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
            os.close(fd)
            started.append((name, subprocess.Popen([compiler, *spec.flags, define, str(spec.source), "-o", tmp],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True),
                            tmp, target, define))
        for name, proc, tmp, target, define in started:
            _, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"{compiler} {define} failed: {err.strip()[:500]}")
            _seal(tmp)
            digest = _sha256(Path(tmp))
            problem = check(Path(tmp), name, spec)
            if problem:
                notes.append(f"the library just built for {target} failed its check ({problem}); "
                             "the solver stays on torch")
                raise RuntimeError(f"the library just built ({define}) failed its check: {problem}")
            fd, side = tempfile.mkstemp(suffix=".sha256", dir=target.parent)
            sidecars.append(side)
            with os.fdopen(fd, "w") as fh:
                fh.write(digest + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            # the library first: a reader seeing the new library with the old sha256 rebuilds
            os.replace(tmp, target)
            os.replace(side, target.with_name(target.name + ".sha256"))
            _fsync_folder(target.parent)
            _TESTED[str(target)] = digest
    finally:
        for _, proc, tmp, _, _ in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        for tmp in [s[2] for s in started] + sidecars:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _private_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gridprox-kernel-"))          # 0700, ours
    atexit.register(shutil.rmtree, folder, True)                       # loaded libraries stay mapped
    return folder


def load_once(state: dict, load):
    """``load()``'s functions, loaded once per process into ``state``: "lib", or "error" saying
    why not (any failure leaves the caller on torch)."""
    if "lib" not in state and "error" not in state:
        try:
            state["lib"] = load()
        except Exception as exc:           # noqa: BLE001 - a missing compiler, a refused cache, ...
            state["error"] = f"{type(exc).__name__}: {exc}"
    return state.get("lib")


def build(compiler: str, spec: KernelSource, check=selftest, stacklevel: int = 3) -> dict[str, Path]:
    """The library of each precision (``spec.variants``), checked (``check``: ``selftest``),
    compiled side by side where not cached (or where the cached one fails its checks).  Raises
    where none can be had; says in one ``KernelCacheWarning`` what was refused, where, and why."""
    notes: list[str] = []
    try:
        return _build(compiler, notes, spec, check)
    finally:
        if notes:
            warnings.warn("gridprox C kernel: " + "; ".join(notes), KernelCacheWarning, stacklevel=stacklevel)


def _build(compiler: str, notes: list, spec: KernelSource, check) -> dict[str, Path]:
    names = library_names(compiler, spec)
    folder = Path(os.path.abspath(cache_root()))
    problem = make_folder(folder) or folder_problem(folder)
    if problem:
        private = _private_folder()
        notes.append(f"cache folder {folder} refused ({problem}); building in the private folder {private}")
        folder = private
    with _locked(folder, spec.stem):
        targets = {name: folder / file for name, file in names.items()}
        jobs = {}
        for name, target in targets.items():
            if os.path.lexists(target):
                problem = _cached_problem(target, name, spec, check)
                if problem is None:
                    continue
                notes.append(f"cached library {target} refused ({problem}); rebuilding it")
            jobs[name] = (target, spec.variants[name])
        if jobs:
            log = logs.get("kernel")
            log.info("compiling %s with %s (first use on this machine; cached in %s)", spec.what, compiler, folder)
            t0 = time.perf_counter()
            try:
                _compile(compiler, jobs, notes, spec, check)
                log.info("C kernel built in %.1f s", time.perf_counter() - t0)
            except Exception as exc:
                if notes and "stays on torch" not in notes[-1]:     # something was refused: say the fallback
                    notes.append(f"building failed ({exc}); the solver stays on torch")
                raise
    return targets
