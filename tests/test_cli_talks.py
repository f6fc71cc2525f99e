"""A tool that talks (issue 28 item 5): logging through the "gridprox" logger, --verbose/--quiet,
--version, solver progress within two seconds, the first-use kernel build, --out refusing an
earlier run's results unless --force, --snapshots (alias --hours), and `gridprox datasets`'s
buses, snapshots and step."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridprox import __version__, cli, logs
from gridprox.energy import CapacityExpansion
from cli_run import run

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = "de-stochastic"


@pytest.fixture
def no_solving(monkeypatch):
    def reached(*a, **k):
        raise AssertionError("reached the solver")
    monkeypatch.setattr(cli, "_run_solve", reached)


def test_version(capsys):
    rc, out, err = run(capsys, "--version")
    assert rc == 0 and out.strip() == f"gridprox {__version__}"


def test_snapshots_and_its_alias_hours():
    parser = cli.build_parser()
    for flag in ("--snapshots", "--hours"):
        args = parser.parse_args(["solve", SYSTEM, flag, "24"])
        assert args.snapshots == 24 and cli._model_options(args) == {"hours": 24}
    assert "--snapshots N, --hours N" in parser._subparsers._group_actions[0].choices["solve"].format_help()


def test_verbose_and_quiet_are_exclusive_and_set_the_level(capsys):
    parser = cli.build_parser()
    assert cli._log_level(parser.parse_args(["solve", SYSTEM, "-q"])) == logging.WARNING
    assert cli._log_level(parser.parse_args(["solve", SYSTEM, "--verbose"])) == logging.DEBUG
    # captured (not a terminal): quiet unless asked, so scripts' stderr holds only problems
    assert cli._log_level(parser.parse_args(["solve", SYSTEM])) == logging.WARNING
    rc, out, err = run(capsys, "solve", SYSTEM, "--verbose", "--quiet")
    assert rc == 2 and "not allowed with" in err


def test_out_with_results_is_refused_unless_force(capsys, tmp_path, no_solving):
    out = tmp_path / "results"
    out.mkdir()
    (out / "summary.csv").write_text("objective\n1\n")
    rc, stdout, err = run(capsys, "solve", SYSTEM, "--snapshots", 24, "--out", out)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "--out" in err and "earlier run" in err and "--force" in err
    # an existing folder without results is fine, and --force passes the check (then reaches the solver)
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["--out", empty], ["--out", out, "--force"]):
        with pytest.raises(AssertionError, match="reached the solver"):
            cli.main(["solve", SYSTEM, "--snapshots", "24", *map(str, args)])


def test_force_overwrites_an_earlier_run(capsys, tmp_path):
    out = tmp_path / "r"
    base = ["solve", SYSTEM, "--snapshots", 24, "--solver", "highs", "--out", out]
    assert run(capsys, *base)[0] == 0
    assert run(capsys, *base)[0] == 2
    rc, stdout, err = run(capsys, *base, "--force")
    assert rc == 0 and "results written" in stdout, err


def test_datasets_reports_buses_snapshots_and_step(capsys):
    rc, out, err = run(capsys, "datasets")
    assert rc == 0, err
    header, *lines = out.splitlines()
    assert header.split()[:5] == ["name", "buses", "snapshots", "step", "techs"]
    rows = {line.split()[0]: line.split()[1:6] for line in lines}
    assert rows["model-energy"][:4] == ["2", "2920", "3", "h"]
    assert rows["three-country"][:4] == ["6", "8760", "1", "h"]


def test_verbose_cli_says_what_it_does_and_shows_the_solver_log(capsys):
    rc, out, err = run(capsys, "solve", SYSTEM, "--snapshots", 24, "--solver", "highs", "--verbose")
    assert rc == 0, err
    lines = err.splitlines()
    assert all(line.startswith("gridprox: ") for line in lines)
    assert any("loaded de-stochastic: 1 bus, 2,920 snapshots of 3 h" in line for line in lines)
    assert any("built the LP" in line for line in lines) and any("solving with highs" in line for line in lines)
    assert any("highs:   Iteration" in line for line in lines)      # HiGHS's progress header and lines
    assert "Presolving" not in out                                   # HiGHS's log is not in the results


def test_verbose_solve_shows_pdhg_progress_within_two_seconds(caplog):
    from gridprox import datasets
    model = CapacityExpansion(datasets.load_system(SYSTEM), hours=48)
    caplog.set_level(logging.INFO, logger="gridprox")
    t0 = time.time()
    res = model.solve(solver="pdhg", device="cpu", polish=None, threads=1, max_iter=3000, verbose=True)
    assert res.status in ("optimal", "optimal_inaccurate", "iteration_limit")
    progress = [r for r in caplog.records if r.name == "gridprox.pdhg"]
    assert progress, "no progress lines"
    # the first word (progress, or the first-use kernel build) comes within two seconds
    said = [r for r in caplog.records if r.name in ("gridprox.pdhg", "gridprox.kernel")]
    assert said[0].created - t0 < 2.0
    text = progress[0].getMessage()
    for word in ("iteration", "primal", "dual", "gap"):
        assert word in text
    assert text.rstrip().endswith(" s")
    # at most about one line a second: progress, not a flood
    span = progress[-1].created - progress[0].created
    assert len(progress) <= span / logs.PROGRESS_EVERY + 2


def test_quiet_library_by_default(caplog, capfd):
    from gridprox import datasets
    model = CapacityExpansion(datasets.load_system(SYSTEM), hours=24)
    model.solve(solver="highs")
    out, err = capfd.readouterr()
    assert err == "" and "HiGHS" not in out


def test_verbose_shows_on_stderr_when_nothing_is_configured():
    code = ("import logging, gridprox\n"
            "from gridprox import datasets\n"
            "from gridprox.energy import CapacityExpansion\n"
            "m = CapacityExpansion(datasets.load_system('de-stochastic'), hours=24)\n"
            "m.solve(solver='highs', verbose=True)\n"
            "print('done')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert "gridprox: highs:" in proc.stderr and "Iteration" in proc.stderr


@pytest.mark.slow
def test_first_use_kernel_build_says_so(tmp_path):
    env = {**os.environ, "GRIDPROX_CACHE": str(tmp_path / "cache"), "GRIDPROX_NATIVE": "1"}
    proc = subprocess.run([sys.executable, "-m", "gridprox", "solve", SYSTEM, "--snapshots", "24", "--solver",
                           "pdhg", "--device", "cpu", "--polish", "none", "--verbose"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    assert "compiling the PDHG C kernel" in proc.stderr and "first use" in proc.stderr
    assert "C kernel built in" in proc.stderr
