"""Plant errors in PDHG's answers and check that the PDHG tests fail on each (issue 24, item 8).

    python comparisons/planted_errors.py [--plants none,loose_tol,duals,x,objective] [-- pytest args]

Each plant wraps the Result boundary ``gridprox.solvers.pdhg._solve_once`` and alters what it
returns, keeping the ``residuals`` dict of the true answer (a solver that lies about its
answer, so only an independent check can catch it):

  loose_tol  the real solver run at 10·tol, reported as tol (its residuals shown / 10)
  duals      y off by 1 % (y·1.01) and z = c − Aᵀy accordingly
  x          x off by 1e-5 relative (x + 1e-5·‖x‖·u, u a random unit vector), objective c·x + c0 of it
  objective  the objective off by 2e-5 relative
  dual_term  termination that ignores the dual residual (the loop's ``finished`` patched; the
             solver's own Result check is left as it is)

The script runs the PDHG test files once per plant (``python -m pytest -p planted_errors``
with this folder on PYTHONPATH and GRIDPROX_PLANT set; this module is the pytest plugin) and
prints a table: for each plant, whether the suite failed and how many tests did.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEST_FILES = ["tests/test_pdhg_lp.py", "tests/test_pdhg_batch.py", "tests/test_pdhg_infeasibility.py",
              "tests/test_pdhg_warm.py"]
PLANTS = ("none", "loose_tol", "duals", "x", "objective", "dual_term")


def _each(results, lp, fn):
    """Apply fn(result, scenario_lp) to every Result that carries a point."""
    single = not isinstance(results, list)
    rs = [results] if single else results
    for res, lpk in zip(rs, lp.scenarios()):
        if res.x is not None and res.y is not None:
            fn(res, lpk)
    return results


def plant_dual_term(real, lp, options, *args, **kwargs):
    """Plant (e): the solver's termination test with the dual residual taken as zero, so it stops
    on the primal residual and the gap alone (``gridprox.lp.termination.finished`` patched in
    the loop for the duration of the solve); its Results are returned unchanged."""
    import gridprox.lp.solver as loop
    from gridprox.lp import termination

    def lax(s, met, opt):
        met = met.clone()
        met[1] = 0.0
        return termination.finished(s, met, opt)

    loop.finished = lax
    try:
        return real(lp, options, *args, **kwargs)
    finally:
        loop.finished = termination.finished


def _wrap(plant: str):
    def planted(real, lp, options, *args, **kwargs):
        if plant == "loose_tol":
            results = real(lp, dataclasses.replace(options, tol=options.tol * 10), *args, **kwargs)

            def shrink(res, lpk):
                for key in ("primal", "dual", "gap"):
                    if key in res.residuals:
                        res.residuals[key] /= 10
            return _each(results, lp, shrink)
        if plant == "dual_term":
            return plant_dual_term(real, lp, options, *args, **kwargs)
        results = real(lp, options, *args, **kwargs)
        if plant == "duals":
            def duals(res, lpk):
                res.y = res.y * 1.01
                res.z = lpk.c - lpk.A.T @ res.y
            return _each(results, lp, duals)
        if plant == "x":
            rng = np.random.default_rng(0)

            def move_x(res, lpk):
                u = rng.standard_normal(res.x.shape)
                res.x = res.x + 1e-5 * np.linalg.norm(res.x) * u / np.linalg.norm(u)
                res.objective = float(lpk.c @ res.x + np.asarray(lpk.c0, float))
            return _each(results, lp, move_x)
        if plant == "objective":
            def objective(res, lpk):
                res.objective = res.objective * (1 + 2e-5)
            return _each(results, lp, objective)
        return results
    return planted


def pytest_configure(config):
    """The plugin half: install the plant named by GRIDPROX_PLANT."""
    plant = os.environ.get("GRIDPROX_PLANT", "none")
    if plant == "none":
        return
    import gridprox.solvers.pdhg as pdhg

    real, planted = pdhg._solve_once, _wrap(plant)
    pdhg._solve_once = lambda lp, options, *a, **k: planted(real, lp, options, *a, **k)


def run(plant: str, extra) -> dict:
    env = dict(os.environ, GRIDPROX_PLANT=plant, PYTHONPATH=os.pathsep.join(
        [str(HERE), str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "planted_errors",
           "-o", "addopts=", *TEST_FILES, *extra]
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    count = lambda word: sum(int(n) for n in re.findall(rf"(\d+) {word}", out.splitlines()[-1] if out else ""))  # noqa: E731
    failed_tests = sorted(set(re.findall(r"^FAILED (\S+)", out, re.M)))
    return {"plant": plant, "rc": done.returncode, "passed": count("passed"), "failed": count("failed") + count("error"),
            "seconds": time.perf_counter() - t, "failed_tests": failed_tests,
            "not_run": plant == "dual_term" and "not filled in" in out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plants", default=",".join(PLANTS))
    ap.add_argument("pytest_args", nargs="*")
    args = ap.parse_args(argv)
    print(f"# planted errors, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {' '.join(TEST_FILES)}", flush=True)
    print("| plant | suite | tests failed / run | seconds |\n|---|---|---|---|", flush=True)
    caught = True
    for plant in args.plants.split(","):
        r = run(plant, args.pytest_args)
        if r["not_run"]:
            verdict = "not run (hook empty)"
        elif plant == "none":
            verdict = "passes" if r["rc"] == 0 else "FAILS WITHOUT A PLANT"
            caught &= r["rc"] == 0
        else:
            verdict = "fails (caught)" if r["failed"] > 0 else "PASSES (not caught)"
            caught &= r["failed"] > 0
        print(f"| {plant} | {verdict} | {r['failed']} / {r['failed'] + r['passed']} | {r['seconds']:.0f} |", flush=True)
        for name in r["failed_tests"][:6]:
            print(f"|   | {name} | | |", flush=True)
    return 0 if caught else 1


if __name__ == "__main__":
    sys.exit(main())
