"""Adversarial tests of the compiled-kernel cache (gridprox/lp/kernel_cache.py, issue 26 part 3).

Generated cases put a damaged library, a planted library (a different .so whose constructor
writes a marker file, with every symbol the solver wants, a self-test returning the right value
and a matching sha256 file) or an unsafe folder where the cache looks, then solve a tiny LP in a
subprocess (a crash there fails the case, not the test run) and check: the process survives,
the LP is solved, the planted library never ran (no marker), the kernel was used or not as
expected, and exactly one KernelCacheWarning named the path and the reason.

No case compiles plain_kernel.c: a fake ``cc`` first on PATH prints the real compiler's version
(so the cache names are the real ones) and "compiles" by copying a library built once
(``golden``), by failing, or by writing a library that crashes or lies in its self-test.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from gridprox.errors import KernelCacheWarning
from gridprox.lp import kernel_cache

ROOT = Path(__file__).resolve().parents[1]
REAL_CC = shutil.which("cc")
OTHER_UID = 12345                       # a user that is not us (we chown to it where we are root)
pytestmark = pytest.mark.skipif(REAL_CC is None or not hasattr(os, "geteuid"), reason="needs cc and POSIX")

PLANTED_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
    const char *m = getenv("GRIDPROX_PLANT_MARKER");
    FILE *f = fopen(m ? m : "/tmp/gridprox-planted-marker", "a");
    if (f) { fprintf(f, "%d\n", (int)getpid()); fclose(f); }
}
int gridprox_selftest(void) { return SELFTEST; }
int plain_f64(void) { return 0; }
int plain_f64_check(void) { return 0; }
int plain_f32(void) { return 0; }
int plain_f32_check(void) { return 0; }
"""

# the fake compiler: --version from the real one; otherwise per $FAKECC: "golden" copies the
# library built once, "fail" fails, "crash"/"liar"/"bare" write a library whose self-test
# segfaults / returns 42 / that lacks the kernel's symbols
FAKE_CC = """\
#!{python}
import os, shutil, sys, time
args = sys.argv[1:]
if args == ["--version"]:
    os.execv({real!r}, [{real!r}, "--version"])
mode, out = os.environ.get("FAKECC", "fail"), args[args.index("-o") + 1]
time.sleep(float(os.environ.get("FAKECC_SLEEP", "0")))
if mode == "fail":
    sys.exit("fake cc: no compiling here")
which = "f64" if "-DONLY_FLOAT64" in args else "f32"
shutil.copyfile(os.path.join({fixtures!r}, mode + "_" + which + ".so"), out)
"""

# one process solving every case in turn: prints one JSON line per case, so a crash names
# the case it happened in
RUNNER = """\
import json, os, sys, time, warnings
import numpy as np, scipy.sparse as sp
from gridprox import LinearProgram
from gridprox.errors import KernelCacheWarning
from gridprox.lp import native
from gridprox.solvers.pdhg import solve_pdhg
lp = LinearProgram(c=np.array([1.0, 1.0]), A=sp.csr_matrix([[1.0, 2.0], [3.0, 1.0]]), lc=np.array([2.0, 3.0]),
                   uc=np.array([np.inf, np.inf]), lx=np.zeros(2), ux=np.full(2, np.inf))
for case in json.load(open(sys.argv[1])):
    print(json.dumps({"start": case["id"]}), flush=True)
    os.environ.update(case["env"])
    native._STATE.clear()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reason = native.unavailable()          # builds, checks and loads the kernel (or not)
        t1 = time.perf_counter()
        r = solve_pdhg(lp, native=None, tol=1e-6)
    said = [str(w.message) for w in caught if issubclass(w.category, KernelCacheWarning)]
    print(json.dumps({"id": case["id"], "pid": os.getpid(), "status": r.status, "objective": r.objective, "native": reason is None,
                      "reason": reason, "warnings": said,
                      "seconds": [t1 - t0, time.perf_counter() - t1]}), flush=True)
"""
OPTIMUM = 1.4                           # min x + y, x + 2y >= 2, 3x + y >= 3, x, y >= 0


def _compile_c(source: str, out: Path, *defines: str):
    c = out.with_suffix(".c")
    c.write_text(source)
    subprocess.run([REAL_CC, "-shared", "-fPIC", *defines, str(c), "-o", str(out)], check=True, timeout=120)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """The real libraries (built once, in the user's cache as the solver would), the planted
    and broken libraries, the fake compiler, and the cache names for ``cc``."""
    base = tmp_path_factory.mktemp("kit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KernelCacheWarning)
        try:
            built = kernel_cache.build("cc")
        except Exception as exc:               # noqa: BLE001 - no compiler or OpenMP here
            pytest.skip(f"the C kernel does not build here: {exc}")
    fixtures = base / "fixtures"
    fixtures.mkdir()
    for name, path in built.items():
        shutil.copyfile(path, fixtures / f"golden_{name[-3:]}.so")
    for which in ("f64", "f32"):
        _compile_c(PLANTED_C, fixtures / f"planted_{which}.so", "-DSELFTEST=51823")
        _compile_c(PLANTED_C.replace("return SELFTEST;", "*(volatile int *)0 = 1; return 0;"),
                   fixtures / f"crash_{which}.so", "-DSELFTEST=0")
        _compile_c(PLANTED_C, fixtures / f"liar_{which}.so", "-DSELFTEST=42")
        _compile_c("int gridprox_selftest(void) { return 51823; }\n", fixtures / f"bare_{which}.so")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    cc = bin_dir / "cc"
    cc.write_text(FAKE_CC.format(python=sys.executable, real=REAL_CC, fixtures=str(fixtures)))
    cc.chmod(0o755)
    names = kernel_cache.library_names("cc")
    return {"base": base, "fixtures": fixtures, "bin": bin_dir, "names": names,
            "files": {name: names[name] for name in kernel_cache.VARIANTS}}


def _fill(folder: Path, kit, lib: str = "golden", sidecar: bool = True):
    """Put library ``lib`` (golden or planted) at both cache names in ``folder``, with its sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, file in kit["files"].items():
        src = kit["fixtures"] / f"{lib}_{name[-3:]}.so"
        shutil.copyfile(src, folder / file)
        os.chmod(folder / file, 0o700)
        if sidecar:
            (folder / (file + ".sha256")).write_text(_sha(src) + "\n")
            os.chmod(folder / (file + ".sha256"), 0o600)


def _damage(path: Path, how: str, rng: np.random.Generator, kit):
    data = path.read_bytes()
    if how.startswith("truncate"):
        cut = {"truncate-0": 0, "truncate-1": 1, "truncate-64": 64, "truncate-half": len(data) // 2,
               "truncate-last": len(data) - 1}.get(how) or int(rng.integers(1, len(data)))
        path.write_bytes(data[:cut])
    elif how == "random-same-size":
        path.write_bytes(rng.bytes(len(data)))
    elif how == "random-small":
        path.write_bytes(rng.bytes(int(rng.integers(1, 4096))))
    elif how == "zeros":
        path.write_bytes(bytes(len(data)))
    elif how.startswith("flip"):
        b = bytearray(data)
        b[int(rng.integers(0, len(b)))] ^= 0xFF
        path.write_bytes(bytes(b))
    elif how == "planted-content":           # another library, the old sha256 file
        shutil.copyfile(kit["fixtures"] / "planted_f64.so", path)
    elif how == "symlink-to-planted":
        path.unlink()
        path.symlink_to(kit["fixtures"] / "planted_f64.so")
    elif how == "symlink-to-golden":
        path.unlink()
        path.symlink_to(kit["fixtures"] / "golden_f64.so")
    elif how == "folder":
        path.unlink()
        path.mkdir()
    elif how == "sidecar-missing":
        Path(str(path) + ".sha256").unlink()
    elif how == "sidecar-garbage":
        Path(str(path) + ".sha256").write_bytes(rng.bytes(70))
    elif how == "sidecar-empty":
        Path(str(path) + ".sha256").write_text("")
    else:
        raise AssertionError(how)


DAMAGES = (["truncate-0", "truncate-1", "truncate-64", "truncate-half", "truncate-last"]
           + [f"truncate-random-{i}" for i in range(4)]
           + ["random-same-size", "random-small", "zeros", "flip-0", "flip-1", "flip-2", "planted-content",
              "symlink-to-planted", "symlink-to-golden", "folder", "sidecar-missing", "sidecar-garbage",
              "sidecar-empty"])
# folder modes with a group/other write bit: all refused
UNSAFE_MODES = [0o777, 0o775, 0o770, 0o757, 0o722, 0o702, 0o720, 0o1777, 0o2770, 0o730, 0o703, 0o766]
FOLDER_CASES = ([f"mode-{m:o}" for m in UNSAFE_MODES]
                + ["owner-other", "owner-other-0755", "parent-owner-other", "parent-0777", "parent-0757",
                   "symlink-to-0777-folder", "grandparent-0777"])
FILE_CASES = ["file-owner-other", "file-0666", "file-0646", "file-0620", "sidecar-owner-other", "sidecar-0666",
              "both-owner-other"]
BUILD_CASES = ["crash", "liar", "bare"]


def _cases():
    out = []
    for how in DAMAGES:
        for mode in ("golden", "fail"):
            out.append(("damaged", how, mode))
    for how in FOLDER_CASES:
        for mode in ("golden", "fail"):
            out.append(("folder", how, mode))
    for how in FILE_CASES:
        for mode in ("golden", "fail"):
            out.append(("file", how, mode))
    for how in BUILD_CASES:
        out.append(("build", how, how))
    out.append(("sticky-parent", "planted-other-owner", "golden"))
    out.append(("clean", "golden-cache", "fail"))
    return out


CASES = _cases()


def _case_id(case) -> str:
    return "-".join(case)


def _setup(case, root: Path, kit, rng):
    """Files for one case; returns (env, cache folder, what a warning must name, native expected)."""
    group, how, mode = case
    cache = root / "cache"
    expect_native = mode == "golden"
    named = None
    if group == "damaged":
        _fill(cache, kit)
        target = cache / kit["files"]["plain_f64"]
        _damage(target, how, rng, kit)
        named = str(target)
        if how == "folder":
            expect_native = None             # os.replace cannot put a file over a folder: either is fine
    elif group == "folder":
        holder = cache
        if how.startswith("mode-"):
            _fill(cache, kit, "planted")
            os.chmod(cache, int(how[5:], 8))
            named = str(cache)
        elif how.startswith("owner-other"):
            _fill(cache, kit, "planted")
            os.chmod(cache, 0o755 if how.endswith("0755") else 0o700)
            os.chown(cache, OTHER_UID, OTHER_UID)
            named = str(cache)
        elif how.startswith("parent-") or how == "grandparent-0777":
            holder = root / "parent" / "sub" / "cache" if how.startswith("grand") else root / "parent" / "cache"
            _fill(holder, kit, "planted")
            parent = root / "parent"
            if how == "parent-owner-other":
                os.chown(parent, OTHER_UID, OTHER_UID)
            else:
                os.chmod(parent, 0o777 if how.endswith("0777") else 0o757)
            cache, named = holder, str(parent)
        elif how == "symlink-to-0777-folder":
            real = root / "real"
            _fill(real, kit, "planted")
            os.chmod(real, 0o777)
            cache.symlink_to(real)
            named = str(cache)
    elif group == "file":
        _fill(cache, kit, "planted")
        f = cache / kit["files"]["plain_f64"]
        side = Path(str(f) + ".sha256")
        if how in ("file-owner-other", "both-owner-other"):
            os.chown(f, OTHER_UID, OTHER_UID)
        if how in ("sidecar-owner-other", "both-owner-other"):
            os.chown(side, OTHER_UID, OTHER_UID)
        if how.startswith("file-0"):
            os.chmod(f, int(how[5:], 8))
        if how == "sidecar-0666":
            os.chmod(side, 0o666)
        for other in (kit["files"]["plain_f32"],):          # the other precision: planted, owned by another
            os.chown(cache / other, OTHER_UID, OTHER_UID)
        named = str(f)
    elif group == "build":                   # an empty cache; the compiler writes a broken library
        named = "failed its check"
        expect_native = False
    elif group == "sticky-parent":           # a /tmp-like parent is fine; another user's file in our folder is not
        shared = root / "shared"
        shared.mkdir()
        os.chmod(shared, 0o1777)
        cache = shared / "cache"
        _fill(cache, kit, "planted")
        for file in kit["files"].values():
            os.chown(cache / file, OTHER_UID, OTHER_UID)
        named = str(cache / kit["files"]["plain_f64"])
    elif group == "clean":                   # a sound cache: used at once, no compiler, no warning
        _fill(cache, kit)
        expect_native = True
    env = {"GRIDPROX_CACHE": str(cache), "FAKECC": mode, "GRIDPROX_PLANT_MARKER": str(root / "MARKER")}
    return env, cache, named, expect_native


@pytest.fixture(scope="module")
def outcomes(kit, tmp_path_factory):
    """Every case set up, then solved in one subprocess; {case id: (setup, result or None)}."""
    rng = np.random.default_rng(26)
    base = tmp_path_factory.mktemp("cases")
    setups, payload = {}, []
    for case in CASES:
        cid = _case_id(case)
        root = base / cid
        root.mkdir()
        setups[cid] = (root, *_setup(case, root, kit, rng))
        payload.append({"id": cid, "env": setups[cid][1]})
    (base / "cases.json").write_text(json.dumps(payload))
    (base / "runner.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "GRIDPROX_NATIVE", "GRIDPROX_CACHE")}
    env.update(PATH=f"{kit['bin']}{os.pathsep}{env.get('PATH', '')}", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(base / "runner.py"), str(base / "cases.json")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    (base / "out.jsonl").write_text(done.stdout)
    results, started = {}, None
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            if "start" in rec:
                started = rec["start"]
            else:
                results[rec["id"]] = rec
    died = None if done.returncode == 0 else (f"the solving process died (exit {done.returncode}) in case "
                                              f"{started}: {done.stderr[-1500:]}")
    return {cid: (setups[cid], results.get(cid), died) for cid in setups}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_cache_case(case, outcomes, kit):
    (root, env, cache, named, expect_native), res, died = outcomes[_case_id(case)]
    assert res is not None, died or "case not run"
    marker = root / "MARKER"
    if case[0] == "build":                   # the broken library ran, but only in the check's subprocess
        assert marker.exists() == (case[1] != "bare"), "the library just built was not checked"
        assert not marker.exists() or str(res["pid"]) not in marker.read_text().split(), "not checked apart"
    else:
        assert not marker.exists(), "a planted library ran its constructor"
    assert res["status"] == "optimal" and res["objective"] == pytest.approx(OPTIMUM, abs=1e-4), res
    if expect_native is not None:
        assert res["native"] == expect_native, res
    if case[0] == "clean":
        assert res["warnings"] == [], res
        return
    assert len(res["warnings"]) == 1, res["warnings"]
    assert named in res["warnings"][0], (named, res["warnings"][0])
    if case[2] == "golden" and case[0] in ("damaged", "file", "sticky-parent") and res["native"]:
        # rebuilt in place: a sound file with its sha256, ours alone
        for name, file in kit["files"].items():
            f = cache / file
            st = os.lstat(f)
            assert stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022
            assert Path(str(f) + ".sha256").read_text().strip() == _sha(f)
            assert _sha(f) == _sha(kit["fixtures"] / f"golden_{name[-3:]}.so")
    if case[0] in ("damaged", "file", "clean"):
        assert not [p for p in cache.iterdir() if p.name.startswith("tmp")], "temporary files left behind"


def test_unsafe_cache_reasons_are_named(outcomes):
    """The warning says why: group/others can write, or another user owns it."""
    said = {cid: res["warnings"][0] for cid, (_, res, _) in outcomes.items() if res and res["warnings"]}
    assert "writable by group or others (mode 0o777)" in said["folder-mode-777-fail"]
    assert f"owned by uid {OTHER_UID}" in said["folder-owner-other-fail"]
    assert "private folder" in said["folder-mode-777-golden"]
    assert "stays on torch" in said["folder-mode-777-fail"]
    assert "differs from the sha256" in said["damaged-truncate-half-golden"]
    assert "a symbolic link" in said["damaged-symlink-to-planted-fail"]
    assert "self-test" in said["build-crash-crash"]


def test_new_folders_and_files_are_private(kit, tmp_path, monkeypatch):
    """Created with umask 0 the folder (and parents made for it) are 0700, files not writable by others."""
    monkeypatch.setenv("PATH", f"{kit['bin']}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKECC", "golden")
    monkeypatch.setenv("GRIDPROX_CACHE", str(tmp_path / "a" / "b" / "cache"))
    old = os.umask(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", KernelCacheWarning)
            paths = kernel_cache.build("cc")
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "cache"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    for path in paths.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(str(path) + ".sha256").st_mode) == 0o600


def test_self_test_once_per_process(kit, tmp_path, monkeypatch):
    """A cached library is self-tested (in a subprocess) once per process, not at every build()."""
    _fill(tmp_path / "cache", kit)
    monkeypatch.setenv("GRIDPROX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{kit['bin']}{os.pathsep}{os.environ['PATH']}")
    calls = []
    real = kernel_cache._selftest
    monkeypatch.setattr(kernel_cache, "_selftest", lambda *a: calls.append(a) or real(*a))
    for _ in range(3):
        kernel_cache.build("cc")
    assert len(calls) == 2                  # one per precision


def _build_in_child(args):
    cache, path, barrier = args
    os.environ.update(GRIDPROX_CACHE=cache, PATH=path, FAKECC="golden", FAKECC_SLEEP="0.5")
    barrier.wait()
    return {k: str(v) for k, v in kernel_cache.build("cc").items()}


@pytest.mark.parametrize("builders", [2, 5])
def test_concurrent_builders_leave_one_complete_file(kit, tmp_path, builders):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Manager().Barrier(builders)
    path = f"{kit['bin']}{os.pathsep}{os.environ['PATH']}"
    with ctx.Pool(builders) as pool:
        got = pool.map(_build_in_child, [(str(tmp_path / "cache"), path, barrier)] * builders)
    assert all(g == got[0] for g in got)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    want = sorted([*kit["files"].values(), *(f + ".sha256" for f in kit["files"].values()), "plain_kernel.lock"])
    assert files == want
    for name, file in kit["files"].items():
        f = tmp_path / "cache" / file
        assert _sha(f) == _sha(kit["fixtures"] / f"golden_{name[-3:]}.so") == Path(str(f) + ".sha256").read_text().strip()


def test_planted_library_is_never_self_tested_either(kit, tmp_path, monkeypatch):
    """The check itself never loads a library from an unsafe folder, even in its subprocess."""
    _fill(tmp_path / "cache", kit, "planted")
    os.chmod(tmp_path / "cache", 0o777)
    monkeypatch.setenv("GRIDPROX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRIDPROX_PLANT_MARKER", str(tmp_path / "MARKER"))
    monkeypatch.setenv("PATH", f"{kit['bin']}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKECC", "fail")
    with pytest.warns(KernelCacheWarning, match="refused") as record:
        with pytest.raises(RuntimeError, match="fake cc"):
            kernel_cache.build("cc")
    assert len([w for w in record if issubclass(w.category, KernelCacheWarning)]) == 1
    assert not (tmp_path / "MARKER").exists()
