"""Folders and files only this user can write: where gridprox keeps what it loads later (its
compiled kernels; the benchmarks' downloads, the cvxpy tests they run), so nobody else can plant
or swap them.  The root is ``$GRIDPROX_CACHE``, else ``$XDG_CACHE_HOME/gridprox``, else
``~/.cache/gridprox``."""
from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("GRIDPROX_CACHE"):
        return Path(os.environ["GRIDPROX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gridprox"


def _mode(st) -> str:
    return oct(stat.S_IMODE(st.st_mode))


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold files we load (None when it can): it must be a folder
    owned by us and not writable by group/others, and each ancestor (as written and as
    resolved) owned by us or root and not writable by group/others unless sticky, so that
    nobody else can put files into it or swap it for another folder."""
    uid = os.geteuid()
    try:
        st = os.stat(folder)
        if not stat.S_ISDIR(st.st_mode):
            return "not a folder"
        if st.st_uid != uid:
            return f"owned by uid {st.st_uid}, not by this user (uid {uid})"
        if st.st_mode & 0o022:
            return f"writable by group or others (mode {_mode(st)})"
        resolved = Path(os.path.realpath(folder))
        for path in dict.fromkeys([*folder.parents, *([folder] if resolved != folder else []), *resolved.parents]):
            st = os.lstat(path)
            if st.st_uid not in (uid, 0):
                return f"its parent {path} is owned by uid {st.st_uid}, neither this user nor root"
            if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
                return f"its parent {path} is writable by group or others (mode {_mode(st)})"
    except OSError as exc:
        return f"cannot inspect it: {exc.strerror or exc}"
    return None


def make_folder(folder: Path) -> str | None:
    """Create ``folder`` (and missing parents) 0700 where absent; why not, or None."""
    missing = [p for p in [folder, *folder.parents] if not os.path.lexists(p)]
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:          # a concurrent builder made it: its mode is checked next
            pass
        except OSError as exc:
            return f"cannot create it: {exc.strerror or exc}"
    return None


def file_problem(path: Path) -> str | None:
    """Why the file at ``path`` is not ours alone (None when it is)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        return f"writable by group or others (mode {_mode(st)})"
    return None


def private_folder(folder: Path | None = None, name: str = "") -> Path:
    """``folder`` (default ``cache_root() / name``) as an absolute path, created 0700 where absent;
    PermissionError naming the folder and why when another user could write into it."""
    folder = Path(os.path.abspath(folder if folder is not None else cache_root() / name))
    problem = make_folder(folder) or folder_problem(folder)
    if problem:
        raise PermissionError(f"{folder}: {problem}; files loaded from it must be this user's alone")
    return folder


def unpack_sdist(package: str, version: str, folder: Path, wanted, pip_options: tuple = ()) -> Path:
    """Unpack the members of ``package==version``'s source distribution whose names ``wanted``
    accepts into ``folder`` (a private one: ``private_folder``), downloading the sdist there with
    pip first where absent; returns the archive.  LookupError, with pip's last line, where pip
    cannot fetch it (offline, no such version)."""
    import subprocess
    import sys

    archive = Path(folder) / f"{package}-{version}.tar.gz"
    if not archive.is_file():
        cmd = [sys.executable, "-m", "pip", "download", f"{package}=={version}", "--no-deps",
               "--no-binary", ":all:", *pip_options, "-q", "-d", str(folder)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            why = (out.stderr.strip().splitlines() or ["no output"])[-1] if out.returncode else "no archive"
        except subprocess.TimeoutExpired:
            why = "pip timed out"
        if not archive.is_file():
            raise LookupError(f"{package} {version} sdist not reachable ({why[:120]})")
    unpack(archive, folder, wanted)
    return archive


def unpack(archive: Path, folder: Path, wanted) -> None:
    """The members of the tar ``archive`` whose names ``wanted`` accepts, unpacked into ``folder``
    (tarfile's "data" filter: nothing lands outside it, no device files)."""
    import tarfile

    with tarfile.open(archive) as tar:
        tar.extractall(folder, members=[m for m in tar.getmembers() if wanted(m.name)], filter="data")
