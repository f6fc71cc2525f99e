"""The ``gridprox`` command run as users run it — in a subprocess — on small cuts of the bundled
systems: exit codes, the files written and the numbers in them, and one-line errors."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gridprox import datasets
from gridprox.energy import CapacityExpansion

ROOT = Path(__file__).resolve().parents[1]


def gridprox(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "gridprox", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def highs_reference():
    """HiGHS optimum of de-stochastic's first 48 snapshots, solved in-process."""
    return CapacityExpansion(datasets.load_system("de-stochastic"), hours=48).solve(solver="highs")


@pytest.mark.slow
def test_help_on_every_command():
    for cmd in ([], ["datasets"], ["solve"], ["sweep"], ["compare"], ["verify"]):
        rc, out, _ = gridprox(*cmd, "--help")
        assert rc == 0 and "usage: gridprox" in out


@pytest.mark.slow
def test_datasets_lists_sizes():
    rc, out, err = gridprox("datasets")
    assert rc == 0, err
    rows = {line.split()[0]: line.split()[1:6] for line in out.splitlines()[1:]}
    assert rows["three-country"] == ["6", "8760", "1", "h", "8"]          # buses, snapshots, step, techs
    assert rows["model-energy"][:4] == ["2", "2920", "3", "h"] and "de-stochastic" in rows


@pytest.mark.slow
def test_solve_writes_tables_and_plots_with_the_right_numbers(tmp_path, highs_reference):
    rc, out, err = gridprox("solve", "de-stochastic", "--hours", 48, "--solver", "highs", "--out", tmp_path)
    assert rc == 0, err
    assert "status      optimal" in out and "capacity [MW, MWh]" in out
    for table in ("summary", "capacity", "dispatch", "prices", "costs", "emissions"):
        assert (tmp_path / f"{table}.csv").is_file() and (tmp_path / f"{table}.parquet").is_file()
    for plot in ("capacity_mix", "dispatch_week", "price_duration"):
        assert (tmp_path / "plots" / f"{plot}.png").stat().st_size > 1000
        assert (tmp_path / "plots" / f"{plot}.svg").is_file()
    summary = pd.read_csv(tmp_path / "summary.csv").iloc[0]
    assert summary["objective"] == pytest.approx(highs_reference.objective, rel=1e-9)
    cap = pd.read_parquet(tmp_path / "capacity.parquet")
    ref = highs_reference.capacity.set_index(["zone", "technology", "kind"])["capacity"]
    got = cap.set_index(["zone", "technology", "kind"])["capacity"]
    pd.testing.assert_series_equal(got.sort_index(), ref.sort_index(), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_solve_pdhg_agrees_with_highs(tmp_path, highs_reference):
    rc, out, err = gridprox("solve", "de-stochastic", "--hours", 48, "--solver", "pdhg", "--tol", "1e-6",
                            "--device", "cpu", "--out", tmp_path)
    assert rc == 0, err
    summary = pd.read_csv(tmp_path / "summary.csv").iloc[0]      # polished by default: exact
    assert summary["solver"] == "pdhg+crossover" and summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(highs_reference.objective, rel=1e-9)


@pytest.mark.slow
def test_solve_pdhg_unpolished_keeps_the_pdhg_point(tmp_path, highs_reference):
    rc, out, err = gridprox("solve", "de-stochastic", "--hours", 48, "--solver", "pdhg", "--tol", "1e-6",
                            "--device", "cpu", "--polish", "none", "--out", tmp_path)
    assert rc == 0, err
    summary = pd.read_csv(tmp_path / "summary.csv").iloc[0]
    assert summary["solver"] == "pdhg" and summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(highs_reference.objective, rel=2e-6)


@pytest.mark.slow
def test_sweep_writes_one_row_per_scenario_and_a_plot(tmp_path):
    rc, out, err = gridprox("sweep", "de-stochastic", "--hours", 24, "--solver", "highs", "--quiet",
                            "--param", "gas_price=20,60,100", "--param", "co2_cap=0:2000:2", "--out", tmp_path)
    assert rc == 0, err
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert len(table) == 6 and (table["status"] == "optimal").all()
    assert sorted(set(table["gas_price"])) == [20, 60, 100] and sorted(set(table["co2_cap"])) == [0, 2000]
    # a tighter cap never costs less, at every gas price
    for _, g in table.groupby("gas_price"):
        g = g.sort_values("co2_cap")
        assert g["objective"].iloc[0] >= g["objective"].iloc[1] - 1e-6 * abs(g["objective"].iloc[1])
        assert g["total_emissions_t"].iloc[0] <= 1e-3
    assert (tmp_path / "sweep_tradeoff.png").is_file() and (tmp_path / "sweep_tradeoff.svg").is_file()
    # the same model solved directly gives the same objective for one scenario
    model = CapacityExpansion(datasets.load_system("de-stochastic"), hours=24)
    row = table[(table["gas_price"] == 60) & (table["co2_cap"] == 2000)].iloc[0]
    direct = model.solve(solver="highs", inputs={"gas_price": 60, "co2_cap": 2000})
    assert row["objective"] == pytest.approx(direct.objective, rel=1e-9)
    # a rerun into the same folder resumes: nothing left to solve, same table
    rc, out2, err = gridprox("sweep", "de-stochastic", "--hours", 24, "--solver", "highs", "--quiet",
                             "--param", "gas_price=20,60,100", "--param", "co2_cap=0:2000:2", "--out", tmp_path)
    assert rc == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "sweep.csv").sort_values(["gas_price", "co2_cap"])
                                  .reset_index(drop=True)[["objective"]],
                                  table.sort_values(["gas_price", "co2_cap"]).reset_index(drop=True)[["objective"]])


@pytest.mark.slow
def test_compare_and_verify(highs_reference):
    rc, out, err = gridprox("compare", "de-stochastic", "--hours", 48, "--solvers", "pdhg,highs,cvxpy",
                            "--tol", "1e-6")
    assert rc == 0, err
    table = out.split("\n\n")[0].splitlines()[1:]
    rows = {line.split()[0]: line.split() for line in table}
    assert set(rows) == {"pdhg", "highs", "cvxpy"}
    for solver, cols in rows.items():
        assert cols[1] == "optimal"
        assert float(cols[2].replace(",", "")) == pytest.approx(highs_reference.objective, rel=1e-5)
        assert float(cols[4]) <= 1e-5  # gap to the reference
    assert rows["highs"][3] == "exact" and rows["pdhg"][3].startswith("±")   # PDHG is never exact
    assert table[0].split()[3] == "exact"     # exact answers are listed first, the reference among them
    rc, out, err = gridprox("verify", "de-stochastic", "--hours", 48, "--tol", "1e-6", "--pdhg")
    assert rc == 0, err
    assert out.strip().splitlines()[-1] == "PASS" and "information pdhg" in out


def _one_line_error(rc, out, err, *needles):
    assert rc == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.slow
def test_user_errors_are_one_line_with_exit_2(tmp_path):
    _one_line_error(*gridprox("solve", "no-such-system"), "no-such-system", "model-energy")
    _one_line_error(*gridprox("solve", "de-stochastic", "--solver", "glpk"), "glpk")
    _one_line_error(*gridprox("solve", "de-stochastic", "--hours", "many"), "many")
    _one_line_error(*gridprox("sweep", "de-stochastic", "--param", "gas_price=1:2", "--out", tmp_path / "s"),
                    "gas_price=1:2")
    _one_line_error(*gridprox("sweep", "de-stochastic", "--param", "unobtainium=1,2", "--out", tmp_path / "s"),
                    "unobtainium")
    _one_line_error(*gridprox("compare", "de-stochastic", "--solvers", "pdhg,cplex"), "cplex")
    try:
        import torch
        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if not has_cuda:
        _one_line_error(*gridprox("solve", "de-stochastic", "--hours", 24, "--device", "cuda"), "cuda")
    _one_line_error(*gridprox("solve", "de-stochastic", "--device", "tpu"), "tpu")


@pytest.mark.slow
def test_malformed_folders_name_the_culprit(tmp_path):
    broken_yaml = tmp_path / "broken-yaml"
    shutil.copytree(ROOT / "datasets" / "de-stochastic", broken_yaml)
    (broken_yaml / "system.yaml").write_text("name: [\n")
    _one_line_error(*gridprox("solve", broken_yaml), "system.yaml")

    missing = tmp_path / "missing-column"
    shutil.copytree(ROOT / "datasets" / "de-stochastic", missing)
    gens = pd.read_csv(missing / "generators.csv")
    gens.drop(columns=["bus"]).to_csv(missing / "generators.csv", index=False)
    _one_line_error(*gridprox("solve", missing), "generators.csv", "bus")

    negative = tmp_path / "negative-cost"
    shutil.copytree(ROOT / "datasets" / "de-stochastic", negative)
    gens = pd.read_csv(negative / "generators.csv")
    gens.loc[1, "capital_cost"] = -5.0
    gens.to_csv(negative / "generators.csv", index=False)
    _one_line_error(*gridprox("solve", negative), "generators.csv", "capital_cost")
