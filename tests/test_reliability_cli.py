"""Adversarial command lines (issue 26, part 6), generated cases: every bad option value of
every subcommand gives exit 2, exactly one line on stderr and no traceback, before any
solving; --out is checked before a solve; a malformed folder on GRIDPROX_DATASETS is skipped
with one warning; a closed pipe is quiet; a full disk is one line; Ctrl-C talks about resuming
only in a sweep.  Run in-process (``gridprox.cli.main``) except where a real process is the
point (broken pipe, SIGINT, /dev/full)."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gridprox import cli, datasets
from gridprox.energy import CapacityExpansion
from gridprox.sweep import SweepStore
from cli_run import run

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = "de-stochastic"


def one_line(rc, out, err, *needles, code=2):
    assert rc == code, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("gridprox"), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_solving(monkeypatch):
    """Bad input must be refused before any solve: reaching one fails the test."""
    def reached(*a, **k):
        raise AssertionError("a bad command line reached the solver")
    monkeypatch.setattr(cli, "_run_solve", reached)
    monkeypatch.setattr(CapacityExpansion, "sweep", reached)
    monkeypatch.setattr(CapacityExpansion, "verify", reached)


# ------------------------------------------------------------------ bad option values
TOL = ["0", "-1", "-0", "nan", "NaN", "inf", "-inf", "1e400", "1", "2", "abc", "", "1e-4x", "0x1", "--"]
COUNT = ["0", "-3", "-1", "1.5", "abc", "", "nan", "1e3", "0x10", "inf", "99999999"]
NONNEG = ["-1", "-1e-9", "nan", "inf", "1e400", "abc", ""]
DEVICE = ["meta", "tpu", "xla", "cuda:x", "cuda:-1", "cuda:0:1", "CPU?", "", "cpu cpu", "vulkan"]
RESAMPLE = ["", " ", "0h", "7x", "abc", "1e9h", "0"]
SOLVER = ["glpk", "", "HIGHS", "pdlp", "cplex"]
PARAM = ["gas_price=nan", "gas_price=inf", "gas_price=-inf", "gas_price=1e400", "gas_price=-1", "gas_price=1,1",
         "gas_price=20,60,20", "gas_price=0:0:3", "gas_price=1:2", "gas_price", "=1", "gas_price=", "gas_price=x",
         "gas_price=0:1:0", "gas_price=0:1:-2", "gas_price=0:1:1.5", "gas_price=0:1:2000000000", "gas_price=1,,2",
         "gas_price=nan:1:3", "gas_price=-5:5:3", "gas_price=1e400:1:2", "unobtainium=1,2"]
DASK = ["notanaddress", "", "tcp://", "host:", ":8786", "host:0", "host:70000", "tcp://host:abc",
        "http://host:8786", "a b:1", "host:8786/x"]
SOLVERS = ["glpk", "pdhg,cplex", "", ",", "pdhg,pdhg", "highs,highs,pdhg"]

BASE = {"solve": ["solve", SYSTEM, "--solver", "highs"],
        "sweep": ["sweep", SYSTEM, "--solver", "highs", "--quiet", "--param", "gas_price=20,60"],
        "compare": ["compare", SYSTEM, "--solvers", "highs"],
        "verify": ["verify", SYSTEM]}
MODEL_OPTIONS = {"--tol": TOL, "--hours": COUNT, "--rep-days": COUNT, "--co2-cap": NONNEG, "--device": DEVICE,
                 "--resample": RESAMPLE}


def _cases():
    for cmd in BASE:
        for option, values in MODEL_OPTIONS.items():
            for v in values:
                yield cmd, option, v
    for v in SOLVER:
        yield "solve", "--solver", v
        yield "sweep", "--solver", v
    for option, values in (("--param", PARAM), ("--batch-size", COUNT[:-1]), ("--dask", DASK),
                           ("--dask-local", COUNT + ["100000"])):
        for v in values:
            yield "sweep", option, v
    for v in SOLVERS:
        yield "compare", "--solvers", v


CASES = list(_cases())


@pytest.mark.parametrize("cmd,option,value", CASES, ids=[f"{c}{o}={v!r}" for c, o, v in CASES])
def test_bad_option_value_is_one_line_exit_2(capsys, no_solving, tmp_path, cmd, option, value):
    args = list(BASE[cmd])
    if option == "--solvers":
        args = args[:2]
    if option == "--solver":
        args = args[:2] + args[4:]
    if option == "--param" and cmd == "sweep":
        args = args[:5]
    if cmd == "sweep":
        args += ["--out", tmp_path / "out"]
    if option not in ("--rep-days", "--resample", "--hours"):
        args += ["--hours", "24"]
    one_line(*run(capsys, *args, f"{option}={value}" if value.startswith("-") or not value else option,
                  *([] if value.startswith("-") or not value else [value])))


def test_a_repeated_param_name_and_a_huge_grid_are_refused(capsys, no_solving, tmp_path):
    base = ["sweep", SYSTEM, "--hours", 24, "--solver", "highs", "--out", tmp_path / "o"]
    one_line(*run(capsys, *base, "--param", "gas_price=1", "--param", "gas_price=2"), "gas_price", "twice")
    t0 = time.perf_counter()
    line = one_line(*run(capsys, *base, "--param", "gas_price=0:1:1000", "--param", "co2_cap=0:1:1000",
                         "--param", "demand_scale=0:1:1000"), "1,000,000,000", "limit")
    assert time.perf_counter() - t0 < 2 and "1,000,000" in line


def test_option_types_accept_good_values():
    for text in ("1e-12", "1e-4", "0.5", "0.999"):
        assert 0 < cli._tolerance(text) < 1
    for text in ("1", "24", "007", " 3"):
        assert cli._count(text) >= 1
    for text in ("0", "0.0", "1e6", "12.5"):
        assert cli._nonnegative(text) >= 0
    for text in ("auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"):
        assert cli._device_name(text) == text
    for text in ("tcp://127.0.0.1:8786", "localhost:8786", "tls://a.b-c:1", "[::1]:8786", "tcp://[fe80::1]:65535"):
        assert cli._address(text) == text
    for text in ("gas_price=0", "gas_price=0:100:5", "co2_cap=1e6,2e6", "x=1e-300,2e-300"):
        name, values = cli._param(text)
        assert len(set(values)) == len(values) and min(values) >= 0


# ------------------------------------------------------------------------- --out
def _out_cases(tmp_path):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    cases = [("a file", afile), ("under a file", afile / "sub"), ("deep under a file", afile / "a" / "b")]
    if Path("/proc/self").is_dir():
        cases += [("in /proc", "/proc/gridprox-out"), ("in /proc/self", "/proc/self/gridprox-out")]
    if Path("/dev/null").exists():
        cases += [("on /dev/null", "/dev/null"), ("under /dev/null", "/dev/null/x")]
    return cases


@pytest.mark.parametrize("cmd", ["solve", "sweep"])
def test_unwritable_out_is_refused_before_solving(capsys, no_solving, tmp_path, cmd):
    for label, out in _out_cases(tmp_path):
        one_line(*run(capsys, *BASE[cmd], "--hours", 24, "--out", out), "--out")


@pytest.mark.parametrize("cmd", ["solve", "sweep"])
@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC, errno.EDQUOT])
def test_read_only_or_full_out_is_refused_before_solving(capsys, no_solving, tmp_path, monkeypatch, cmd, code):
    def refuse(self, data):
        raise OSError(code, os.strerror(code), str(self))
    monkeypatch.setattr(Path, "write_bytes", refuse)     # as a read-only mount, or a full disk, answers
    one_line(*run(capsys, *BASE[cmd], "--hours", 24, "--out", tmp_path / "ro"), "--out", os.strerror(code))


def test_a_file_where_the_sweep_keeps_its_parts(capsys, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "parts").write_text("not a folder")
    one_line(*run(capsys, *BASE["sweep"], "--hours", 24, "--out", out), "sweep folder")


# --------------------------------------------------------------- sweeps: resume rules
def test_sweep_into_another_models_folder_needs_force_and_a_second_sweep_is_refused(capsys, tmp_path):
    out = tmp_path / "s"
    rc, stdout, err = run(capsys, *BASE["sweep"], "--hours", 24, "--out", out)
    assert rc == 0, err
    first = pd.read_csv(out / "sweep.csv")
    for other in (["--hours", 48], ["--hours", 24, "--co2-cap", 1e9], ["--hours", 24, "--tol", 1e-6]):
        line = one_line(*run(capsys, *BASE["sweep"], *other, "--out", out), "--force")
        assert "overwrite=True" not in line
    holder = SweepStore(out)
    holder.lock()
    try:
        one_line(*run(capsys, *BASE["sweep"], "--hours", 24, "--out", out), "another sweep")
        one_line(*run(capsys, *BASE["sweep"], "--hours", 48, "--force", "--out", out), "another sweep")
    finally:
        holder.unlock()
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), first)
    rc, stdout, err = run(capsys, *BASE["sweep"], "--hours", 48, "--force", "--out", out)
    assert rc == 0, err
    again = pd.read_csv(out / "sweep.csv")
    direct = CapacityExpansion(datasets.load_system(SYSTEM), hours=48).solve(solver="highs", inputs={"gas_price": 60})
    assert again.loc[again["gas_price"] == 60, "objective"].iloc[0] == pytest.approx(direct.objective, rel=1e-9)


# ------------------------------------------------------------------ valid inputs
def test_valid_inputs_still_work(capsys, tmp_path):
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", 24, "--solver", "highs", "--co2-cap", 0)
    assert rc == 0 and "status      optimal" in out, err
    rc, out, err = run(capsys, "solve", SYSTEM, "--resample", "24h", "--solver", "highs", "--tol", "0.5")
    assert rc == 0, err
    rc, out, err = run(capsys, "sweep", SYSTEM, "--hours", 24, "--solver", "highs", "--quiet", "--batch-size", 1,
                       "--param", "gas_price=0:100:3", "--param", "co2_cap=0,1e9", "--out", tmp_path / "sw")
    assert rc == 0 and "6 scenarios: 6 optimal" in out, err
    rc, out, err = run(capsys, "compare", SYSTEM, "--hours", 24, "--solvers", "highs,cvxpy")
    assert rc == 0 and err == "", err


# ------------------------------------------------------------------------- datasets
def _good(root, name="good"):
    shutil.copytree(ROOT / "datasets" / SYSTEM, root / name)
    return root / name


def _bad_yaml(d):
    (d / "system.yaml").write_text("name: [\n")


def _empty_yaml(d):
    (d / "system.yaml").write_text("")


def _list_yaml(d):
    (d / "system.yaml").write_text("- a\n- b\n")


def _binary_yaml(d):
    (d / "system.yaml").write_bytes(bytes(range(256)))


def _no_generators(d):
    (d / "generators.csv").unlink()


def _garbage_generators(d):
    (d / "generators.csv").write_bytes(b"\x00\xff\xfe garbage,,,\n\"unclosed")


def _bad_number(d):
    gens = pd.read_csv(d / "generators.csv")
    gens["capital_cost"] = gens["capital_cost"].astype(object)
    gens.loc[0, "capital_cost"] = "lots"
    gens.to_csv(d / "generators.csv", index=False)


def _policies_list(d):
    text = (d / "system.yaml").read_text().replace("policies:", "policies_old:")
    (d / "system.yaml").write_text(text + "\npolicies: [1, 2]\n")


BROKEN = [_bad_yaml, _empty_yaml, _list_yaml, _binary_yaml, _no_generators, _garbage_generators, _bad_number,
          _policies_list]


@pytest.mark.parametrize("breaker", BROKEN, ids=[b.__name__.strip("_") for b in BROKEN])
def test_datasets_skips_a_malformed_folder_with_one_warning(capsys, tmp_path, monkeypatch, breaker):
    root = tmp_path / "systems"
    root.mkdir()
    _good(root)
    breaker(_good(root, "broken"))
    monkeypatch.setattr(datasets, "dataset_dirs", lambda: [root])
    rc, out, err = run(capsys, "datasets")
    assert rc == 0, err
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert names == ["good"]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0] and "broken" in lines[0] and "Traceback" not in err, err


def test_datasets_ignores_odd_entries_on_the_search_path(capsys, tmp_path, monkeypatch):
    root = tmp_path / "systems"
    root.mkdir()
    _good(root)
    (root / "yaml-is-a-folder").mkdir()
    (root / "yaml-is-a-folder" / "system.yaml").mkdir()
    (root / "a-file").write_text("x")
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    broken = _good(root, "broken")
    _bad_yaml(broken)
    monkeypatch.setenv("GRIDPROX_DATASETS", os.pathsep.join([str(tmp_path / "missing"), str(afile), str(root), ""]))
    rc, out, err = run(capsys, "datasets")
    assert rc == 0, err
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert "good" in names and "three-country" in names and "broken" not in names
    assert len(err.strip().splitlines()) == 1 and "broken" in err


# ----------------------------------------------------------------- environment faults
def test_disk_full_during_a_sweep_is_one_line(capsys, tmp_path, monkeypatch):
    def full(self, rows):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.parts / "part-x.parquet"))
    monkeypatch.setattr(SweepStore, "write", full)
    line = one_line(*run(capsys, *BASE["sweep"], "--hours", 24, "--out", tmp_path / "o"), "No space left")
    assert "rerun to resume" in line


def test_disk_full_while_writing_solve_results_is_one_line(capsys, tmp_path, monkeypatch):
    from gridprox import plots

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "plots"))
    monkeypatch.setattr(plots, "plot_result", full)
    line = one_line(*run(capsys, *BASE["solve"], "--hours", 24, "--out", tmp_path / "o"), "No space left")
    assert "resum" not in line


@pytest.mark.parametrize("cmd", ["solve", "compare", "verify", "sweep"])
def test_ctrl_c_mentions_resuming_only_in_a_sweep(capsys, tmp_path, monkeypatch, cmd):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_run_solve", interrupted)
    monkeypatch.setattr(CapacityExpansion, "sweep", interrupted)
    monkeypatch.setattr(CapacityExpansion, "verify", interrupted)
    args = [*BASE[cmd], "--hours", 24] + (["--out", tmp_path / "o"] if cmd == "sweep" else [])
    line = one_line(*run(capsys, *args), "interrupted", code=130)
    assert ("resume" in line) == (cmd == "sweep")


def _gridprox_process(*args, **kw):
    # the imports happen before "ready": a signal sent after it lands inside main()
    code = "import sys, gridprox.cli as c; print('ready', flush=True); sys.exit(c.main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_sigint_during_a_real_solve_is_one_line_without_resume_talk():
    proc = _gridprox_process("solve", "three-country", "--solver", "pdhg", "--device", "cpu", "--tol", "1e-8")
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    line = one_line(proc.returncode, out, err, "interrupted", code=130)
    assert "resum" not in line


def test_closed_pipe_is_quiet():
    for args in (["datasets"], ["solve", SYSTEM, "--hours", "24", "--solver", "highs"]):
        proc = subprocess.Popen([sys.executable, "-m", "gridprox", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.close()           # as `| head` does once it has its lines
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == cli.EXIT_PIPE and err == "", err


def test_stdout_on_a_full_disk_is_one_line():
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "gridprox", "datasets"], cwd=ROOT, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    one_line(proc.returncode, "", proc.stderr, "No space left")
