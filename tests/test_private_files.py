"""gridprox.core.private_files: the folders whose files gridprox or its comparison scripts read
or run later (compiled kernels, PyPSA's sdist and networks, cvxpy's test files) are this user's
alone; a folder another user can write into is refused, naming it and why."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gridprox.core.private_files import private_folder, unpack_sdist

ROOT = Path(__file__).resolve().parents[1]


def test_a_new_folder_and_its_new_parents_are_0700(tmp_path):
    folder = private_folder(tmp_path / "a" / "b")
    assert folder == tmp_path / "a" / "b"
    for path in (folder, tmp_path / "a"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_the_default_is_in_the_users_gridprox_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDPROX_CACHE", str(tmp_path / "cache"))
    assert private_folder(None, "real-models") == tmp_path / "cache" / "real-models"


def _archive(folder: Path, members: dict) -> Path:
    import io
    import tarfile

    path = folder / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_at_hand_is_unpacked_member_by_member_without_pip(tmp_path, monkeypatch):
    folder = private_folder(tmp_path / "cache")
    archive = _archive(folder, {"pkg-1.0/examples/a.nc": b"a", "pkg-1.0/setup.py": b"import os"})
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran with the sdist at hand"))
    assert unpack_sdist("pkg", "1.0", folder, lambda m: m.endswith(".nc")) == archive
    assert (folder / "pkg-1.0" / "examples" / "a.nc").read_bytes() == b"a"
    assert not (folder / "pkg-1.0" / "setup.py").exists()


def test_an_sdist_member_outside_the_folder_is_refused(tmp_path):
    import tarfile

    folder = private_folder(tmp_path / "cache")
    _archive(folder, {"../escaped.nc": b"x"})
    with pytest.raises(tarfile.OutsideDestinationError):
        unpack_sdist("pkg", "1.0", folder, lambda m: True)
    assert not (tmp_path / "escaped.nc").exists()


def test_an_sdist_pip_cannot_fetch_is_a_lookup_error_with_pips_reason(tmp_path, monkeypatch):
    folder = private_folder(tmp_path / "cache")
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found for pkg==1.0\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(LookupError, match=r"pkg 1.0 sdist not reachable \(ERROR: No matching distribution"):
        unpack_sdist("pkg", "1.0", folder, lambda m: True)


def test_a_folder_others_can_write_into_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(PermissionError, match=r"shared: writable by group or others \(mode 0o777\)"):
        private_folder(shared)
    inside = shared / "mine"          # ours and 0700, but under a folder anyone can swap it in
    inside.mkdir(mode=0o700)
    with pytest.raises(PermissionError, match="its parent .*shared is writable by group or others"):
        private_folder(inside)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_another_users_folder_is_refused(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 12345, 12345)
    with pytest.raises(PermissionError, match="owned by uid 12345"):
        private_folder(theirs)


def test_the_cvxpy_suite_refuses_a_shared_cache_in_one_line(tmp_path):
    """Its test files would run from there: exit 2, one line naming the folder, nothing fetched."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    out = subprocess.run([sys.executable, str(ROOT / "comparisons" / "cvxpy_suite.py"), "--cache", str(shared)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"--cache {shared}: writable by group or others (mode 0o777); files loaded from it must be this user's alone"]
    assert list(shared.iterdir()) == []
