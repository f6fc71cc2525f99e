"""Honest output (issue 25, item 6): the command line prints the objective to the digits its
accuracy supports, the worst row in the model's units and why ``auto`` chose its solver;
``compare`` measures every answer against an exact optimal one and never against an inaccurate
one; ``verify`` passes on its defaults and fails on planted wrong answers.  Each check is
judged against numbers computed here (HiGHS in-process, numpy on the LP), in-process through
``gridprox.cli.main`` on 48-hour cuts of the bundled systems."""
from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest

import gridprox.solvers as solvers
from gridprox import datasets
from gridprox.energy import CapacityExpansion
from gridprox.energy.results import objective_accuracy, objective_text, percent_text
from cli_run import run

SYSTEM, HOURS = "model-energy", 48
real_solve_lp = solvers.solve_lp


@pytest.fixture(scope="module")
def model():
    return CapacityExpansion(datasets.load_system(SYSTEM), hours=HOURS)


@pytest.fixture(scope="module")
def exact(model):
    """HiGHS's optimum of the same LP, straight from the backend."""
    res = real_solve_lp(model.pp.lp(), solver="highs")
    assert res.status == "optimal"
    return res


def printed_objective(out: str) -> tuple[float, str]:
    line = next(line for line in out.splitlines() if line.startswith("objective"))
    return float(line.split()[1].replace(",", "")), line


def rounded(value: float, error: float) -> float:
    """value rounded at the digit where an error of ``error`` (relative) lies."""
    digit = math.floor(math.log10(error * abs(value)))
    return round(value, -digit)


# ------------------------------------------------------------------ digits
def test_digits_follow_the_error_bound():
    assert objective_text(8_078_135_675.45, 1e-4) == "8,078,100,000"
    assert objective_text(8_078_135_675.45, 1e-7) == "8,078,135,700"
    assert objective_text(8_078_135_675.45, 0.5) == "8,000,000,000"       # the leading digit stays
    assert objective_text(1.234567, 1e-4) == "1.2346"
    assert objective_text(-596_501.0, 1e-2) == "-597,000"
    assert percent_text(1e-4) == "0.01" and percent_text(1.2e-4) == "0.02"  # rounded up, one digit
    assert percent_text(1e-7) == "0.00001" and percent_text(0.031) == "4"


def test_accuracy_of_exact_and_approximate_answers(exact):
    acc = objective_accuracy("optimal", "highs", exact.objective, exact.residuals)
    assert acc["exact"] and acc["error"] == 1e-7
    # a PDHG answer at tol 1e-4: its own gap and per-row measures bound the error, never "exact"
    pdhg = {"primal": 2e-5, "dual": 3e-5, "gap": 5e-5, "gap_abs": 1e-4 * exact.objective, "row_rel": 8e-5,
            "col_rel": 9e-5}
    acc = objective_accuracy("optimal", "pdhg", exact.objective, pdhg)
    assert not acc["exact"] and acc["error"] == pytest.approx(1e-4)
    # an interior point without crossover has not closed the gap: not exact either
    ipm = {**exact.residuals, "gap": 1e-9}
    assert not objective_accuracy("optimal", "highs", exact.objective, ipm)["exact"]
    assert not objective_accuracy("optimal_inaccurate", "highs", exact.objective, exact.residuals)["exact"]


def test_solve_prints_the_exact_objective_to_the_feasibility_tolerance(capsys, exact):
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", HOURS)
    assert rc == 0, err
    value, line = printed_objective(out)
    assert value == rounded(exact.objective, 1e-7)               # the digits HiGHS's tolerance supports
    assert value != exact.objective and abs(value - exact.objective) <= 1e-7 * exact.objective
    assert "±0.00001 %" in line and "EUR/a" in line
    assert re.search(r"^status      optimal  \(exact", out, re.M)


def test_solve_says_why_auto_chose_its_solver(capsys):
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", HOURS)
    assert rc == 0, err
    assert re.search(r"^chosen by   auto: highs \(a single LP on a CPU", out, re.M), out
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", HOURS, "--solver", "highs")
    assert rc == 0 and "chosen by" not in out, err


def test_solve_prints_the_worst_row_in_model_units(capsys, model, exact):
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", HOURS)
    assert rc == 0, err
    line = next(line for line in out.splitlines() if line.startswith("worst row"))
    lp = model.pp.lp()
    ax = lp.A @ exact.x
    viol = np.maximum(lp.lc - ax, 0) + np.maximum(ax - lp.uc, 0)
    m = re.match(r"worst row   (\S+) (MWh?) off  \((\w+)\[(\d+), (\d+)\]\)", line)
    assert m, line
    assert float(m.group(1)) == pytest.approx(viol.max(), rel=0.06)   # printed to two digits
    start, size = model.pp.row_maps[model.cons[m.group(3)][0].id]
    assert start <= int(np.argmax(viol)) < start + size
    assert m.group(2) == ("MWh" if m.group(3).startswith("state_of_charge") else "MW")


def _approximate(res, lp, rel=1e-4, status="optimal"):
    """``res`` passed off as a PDHG answer at tol ``rel``: measures of that size, solver pdhg."""
    res = replace(res, status=status, solver="pdhg", message="")
    res.residuals = {**res.residuals, "gap": rel / 2, "gap_abs": rel * abs(res.objective), "row_rel": rel / 2,
                     "col_rel": rel / 2}
    return res


def test_an_approximate_answer_prints_only_the_digits_it_supports(capsys, monkeypatch, exact):
    def fake(lp, solver="highs", **kw):
        return _approximate(real_solve_lp(lp, solver="highs"), lp) if solver == "pdhg" else real_solve_lp(lp, solver, **kw)
    monkeypatch.setattr(solvers, "solve_lp", fake)
    rc, out, err = run(capsys, "solve", SYSTEM, "--hours", HOURS, "--solver", "pdhg", "--device", "cpu")
    assert rc == 0, err
    value, line = printed_objective(out)
    assert value == rounded(exact.objective, 1e-4) and "±0.01 %" in line
    assert "approximate" in out.splitlines()[0] and "exact" not in out.splitlines()[0]
    result = CapacityExpansion(datasets.load_system(SYSTEM), hours=HOURS).solve(solver="pdhg", device="cpu")
    assert f"objective={objective_text(exact.objective, 1e-4)} EUR" in repr(result)
    assert result.objective == exact.objective                       # the table keeps every digit


# ------------------------------------------------------------------ compare
def test_compare_puts_exact_answers_first_and_never_measures_against_an_inaccurate_one(capsys, monkeypatch, exact):
    def fake(lp, solver="highs", **kw):         # pdhg: a fast, lower, inaccurate point
        if solver != "pdhg":
            return real_solve_lp(lp, solver, **kw)
        res = _approximate(real_solve_lp(lp, solver="highs"), lp, rel=1e-2, status="optimal_inaccurate")
        res.objective, res.seconds = 0.9 * exact.objective, 0.0
        return res
    monkeypatch.setattr(solvers, "solve_lp", fake)
    rc, out, err = run(capsys, "compare", SYSTEM, "--hours", HOURS, "--solvers", "pdhg,highs")
    assert rc == 1, err                                   # not every answer is optimal
    rows = [line.split() for line in out.splitlines()[1:3]]
    assert rows[0][:2] == ["highs", "optimal"] and rows[0][3] == "exact" and float(rows[0][4]) == 0
    assert rows[1][:2] == ["pdhg", "optimal_inaccurate"] and float(rows[1][4]) >= 0.09
    assert "reference: highs (exact)" in out


def test_compare_ranks_exact_before_a_faster_approximate_optimum(capsys, monkeypatch, exact):
    def fake(lp, solver="highs", **kw):
        if solver != "pdhg":
            return real_solve_lp(lp, solver, **kw)
        return _approximate(real_solve_lp(lp, solver="highs"), lp)
    monkeypatch.setattr(solvers, "solve_lp", fake)
    rc, out, err = run(capsys, "compare", SYSTEM, "--hours", HOURS, "--solvers", "pdhg,highs")
    assert rc == 0, err
    rows = [line.split() for line in out.splitlines()[1:3]]
    assert [r[0] for r in rows] == ["highs", "pdhg"] and rows[1][3] == "±0.01%"
    assert float(rows[1][2].replace(",", "")) == rounded(exact.objective, 1e-4)


def test_compare_without_an_optimal_answer_has_no_reference(capsys, monkeypatch):
    def fake(lp, solver="highs", **kw):
        res = real_solve_lp(lp, solver="highs")
        return replace(res, status="iteration_limit", solver=solver)
    monkeypatch.setattr(solvers, "solve_lp", fake)
    rc, out, err = run(capsys, "compare", SYSTEM, "--hours", HOURS, "--solvers", "highs,pdhg")
    assert rc == 1, err
    assert "no optimal result: no reference" in out and "reference:" not in out
    assert all(line.split()[4] == "nan" for line in out.splitlines()[1:3])


# ------------------------------------------------------------------ verify
def test_verify_passes_on_its_defaults(capsys):
    rc, out, err = run(capsys, "verify", SYSTEM, "--hours", HOURS)
    assert rc == 0, (out, err)
    lines = out.strip().splitlines()
    assert lines[-1] == "PASS" and lines[1].startswith("checked     highs  (auto: highs")
    assert sum(line.startswith("  ok") for line in lines) == 6


def _planted(plant):
    """solve_lp with ``plant(lp, result)`` applied to the checked (default HiGHS) answer only."""
    def fake(lp, solver="highs", **kw):
        res = real_solve_lp(lp, solver, **kw)
        checked = solver == "highs" and kw.get("method") in (None, "concurrent")   # references name theirs
        return plant(lp, res) if checked else res
    return fake


def _fails(capsys, monkeypatch, plant, needle, *extra):
    monkeypatch.setattr(solvers, "solve_lp", _planted(plant))
    rc, out, err = run(capsys, "verify", SYSTEM, "--hours", HOURS, *extra)
    assert rc == 1 and out.strip().splitlines()[-1] == "FAIL", (out, err)
    failed = [line for line in out.splitlines() if line.startswith("  FAIL")]
    assert failed and any(needle in line for line in failed), out
    return out


def test_verify_fails_a_planted_objective(capsys, monkeypatch):
    def plant(lp, res):
        res.objective *= 1 + 1e-3               # x untouched: the reported objective is not x's
        return res
    _fails(capsys, monkeypatch, plant, "c·x of its own x")


def test_verify_fails_a_planted_x(capsys, monkeypatch):
    def plant(lp, res):
        x = res.x * 1.01                         # rows off by 1 %, objective recomputed from this x
        return solvers.attach_solution(res, lp, x, res.y)
    out = _fails(capsys, monkeypatch, plant, "every row")
    assert "objective is c·x" in next(line for line in out.splitlines() if "c·x" in line) and \
        next(line for line in out.splitlines() if "c·x" in line).startswith("  ok")


def test_verify_fails_a_feasible_but_suboptimal_answer(capsys, monkeypatch, exact):
    rng = np.random.default_rng(0)

    def plant(lp, res):                          # the optimum of other costs: feasible, consistent, worse
        other = real_solve_lp(replace(lp, c=lp.c * rng.uniform(0.2, 5.0, lp.c.size)), solver="highs")
        return solvers.attach_solution(res, lp, other.x, other.y)
    out = _fails(capsys, monkeypatch, plant, "within tol of the reference")
    diff = float(re.search(r"relative difference (\S+)\)", out.splitlines()[-2]).group(1))
    assert diff > 1e-4
    assert [line for line in out.splitlines() if line.startswith("  FAIL")] == [out.splitlines()[-2]]


def test_verify_against_the_answers_own_duals_solves_once(capsys, monkeypatch):
    calls = []

    def counting(lp, solver="highs", **kw):
        calls.append(solver)
        return real_solve_lp(lp, solver, **kw)
    monkeypatch.setattr(solvers, "solve_lp", counting)
    rc, out, err = run(capsys, "verify", SYSTEM, "--hours", HOURS, "--reference", "kkt")
    assert rc == 0 and out.strip().splitlines()[-1] == "PASS", (out, err)
    assert len(calls) == 1 and "reference   kkt" in out and "interior point" not in out
    assert sum(line.startswith("  ok") for line in out.splitlines()) == 6


def test_verify_kkt_fails_a_feasible_but_suboptimal_answer(capsys, monkeypatch):
    rng = np.random.default_rng(1)

    def plant(lp, res):                          # another LP's optimum and duals: feasible here, not optimal
        other = real_solve_lp(replace(lp, c=lp.c * rng.uniform(0.2, 5.0, lp.c.size)), solver="highs")
        return solvers.attach_solution(res, lp, other.x, other.y)
    out = _fails(capsys, monkeypatch, plant, "its duals feasible", "--reference", "kkt")
    assert re.search(r"^  ok    every row within tol", out, re.M)


def test_verify_kkt_fails_planted_duals(capsys, monkeypatch):
    def plant(lp, res):                          # the optimal x with duals 1 % off
        return solvers.attach_solution(res, lp, res.x, res.y * 1.01)
    _fails(capsys, monkeypatch, plant, "its duals feasible", "--reference", "kkt")


def test_verify_reports_pdhg_as_information_only(capsys, monkeypatch):
    def fake(lp, solver="highs", **kw):         # a PDHG that ends at its limit must not fail verify
        if solver != "pdhg":
            return real_solve_lp(lp, solver, **kw)
        assert kw.get("time_limit") == 5.0
        return replace(real_solve_lp(lp, solver="highs"), status="optimal_inaccurate", solver="pdhg")
    monkeypatch.setattr(solvers, "solve_lp", fake)
    rc, out, err = run(capsys, "verify", SYSTEM, "--hours", HOURS, "--pdhg", "--pdhg-time-limit", 5)
    assert rc == 0 and out.strip().splitlines()[-1] == "PASS", (out, err)
    assert "information pdhg" in out and re.search(r"^  pdhg +optimal_inaccurate", out, re.M)


@pytest.mark.slow
def test_verify_passes_on_the_full_default_system():
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "gridprox", "verify", SYSTEM], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stdout.strip().splitlines()[-1] == "PASS"
