"""Real planning models (issue 25): every solver gridprox offers on the bundled systems and on
LPs written by PyPSA/linopy, judged against the exact optimum.

Instances (``--instances``, comma list; ``SYSTEM@N`` takes the first N snapshots, weights
rescaled to the full horizon):

* ``gp:SYSTEM``: the LP gridprox builds, ``CapacityExpansion(load_system(SYSTEM)).lp()``, at
  full horizon (model-energy 2,920 x 3 h, three-country 8,760 h); ``de-stochastic`` is built
  with ``stochastic=True`` (the two-stage model over its low/med/high scenarios: the one
  that system exists for);
* ``pypsa:SYSTEM``: the same system built in PyPSA (``to_pypsa`` of
  datasets/energy-scripts/pypsa_network.py; ``de-stochastic`` with PyPSA's scenarios),
  written by linopy to MPS with explicit names and read back with ``gridprox.read_lp``;
* ``synthetic:seedK``: ``gridprox.synthetic``'s 1-zone 8,760-h capacity-expansion LP with the
  profiles of seed K (the solver's defaults were tuned on seed 0);
* ``example:NAME``: PyPSA's example networks (examples/networks/*.nc of the PyPSA sdist),
  written to MPS the same way.  The sdist is looked for in ``--cache`` and else fetched with
  ``pip download pypsa==<installed> --no-binary :all:``; where pip cannot reach it the rows say so.

MPS files and the sdist stay in ``--cache`` (default: real-models in the user's gridprox cache,
``~/.cache/gridprox``; a folder another user can write into is refused), never in git.

Solvers (``--solvers``): ``default`` (what a user gets without options: ``model.solve()`` for
gp: instances, ``solve_lp(lp)`` for MPS files: HiGHS on a CPU), ``pdhg-1e-4``, ``pdhg-1e-6``,
``pdhg-unpolished`` (PDHG at 1e-4 without feasibility polishing, ``lp/polish.py``),
``pdhg-crossover`` (PDHG at 1e-4 then ``polish="crossover"``), ``highs-simplex``, ``highs-ipm``
(with crossover), ``highs-ipm-nox`` (without), ``highs-hipo`` / ``highs-ipx`` (HiGHS's two IPMs by name, with crossover;
``highs-ipm`` is HiPO where highspy-extras of highspy's version is installed, else IPX), ``highs-concurrent`` (the two raced on a thread
each: what ``solver="auto"`` runs on a CPU below 250k nonzeros), ``concurrent`` (HiGHS's IPM raced against
PDHG to 1e-6 then crossover: ``solve_lp(lp, "concurrent")``, what ``auto`` runs from 250k), ``highs-choose`` (HiGHS's own choice of method), ``highs-backend`` (the same as a user
calls it, like for like with ``default``: ``model.solve(solver="highs")`` for gp: instances, results tables
included), ``default-no-start`` (``model.solve(multilevel=None)``: the default without its simplex's daily-grid start), ``highs-pdlp`` (HiGHS's PDLP at 1e-4) and
``ortools-pdlp`` (OR-Tools PDLP at 1e-4 in a subprocess, when ortools is installed); the
first-order ones take another tolerance as a suffix (``highs-pdlp-1e-6``).  Each solve has
``--time-limit`` seconds (crossover after PDHG has its own).

Per row: status, wall seconds of the call (the median and range over ``--repeat`` runs, each
run in the other solver order, as the machine is shared), iterations, the objective's relative
gap and the worst relative capacity error to the reference (the exact HiGHS result of the
instance: simplex, else IPM with crossover, else the default; capacity i's error is over
max(|ref_i|, 1e-3 max_j |ref_j|); where the optimum is not unique an exact vertex may differ from
the reference), the worst absolute violation of a row or a bound, and row_rel / col_rel
(``LinearProgram.residuals``: each row's / column's violation relative to its own scale),
all recomputed from x (and y) on the instance's LP.

    python comparisons/real_models.py --quick                 # small instances, every solver: ~2 min
    python comparisons/real_models.py                         # the headline set (long: hours on 2 cores)
    python comparisons/real_models.py --instances gp:model-energy,pypsa:three-country@720 \\
        --solvers default,pdhg-1e-4,highs-simplex --time-limit 120 --repeat 3 --json out.json
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADLINE = ("gp:model-energy,gp:three-country,gp:de-stochastic,gp:national-scale,"
            "pypsa:three-country@720,pypsa:three-country@2920,pypsa:three-country,pypsa:model-energy,"
            "pypsa:de-stochastic,example:ac-dc-meshed,example:storage-hvdc,example:scigrid-de,"
            "example:model-energy,example:stochastic-network")
QUICK = "gp:three-country@48,pypsa:three-country@48,example:ac-dc-meshed"
SOLVERS = ("default", "default-no-start", "pdhg-1e-4", "pdhg-1e-6", "pdhg-unpolished", "pdhg-crossover", "highs-simplex", "highs-ipm", "highs-hipo", "highs-ipx", "highs-concurrent", "highs-choose", "highs-backend",
           "highs-ipm-nox", "highs-pdlp", "ortools-pdlp", "concurrent")
EXACT = ("highs-simplex", "highs-ipm", "highs-hipo", "highs-ipx", "default", "concurrent")      # reference candidates, in order of preference
FIRST_ORDER_TOL = 1e-4                                 # pdhg-crossover, HiGHS PDLP and OR-Tools PDLP
CAPACITY_NAME = re.compile(r"_(p|e|s)_nom(\(|#|$)")   # linopy's names of p_nom / e_nom / s_nom variables


def cache_folder(given: Path | None, name: str = "real-models") -> Path:
    """``--cache``: the folder given, else ``name`` in the user's gridprox cache, created 0700 and
    checked to be this user's alone (what is in it is read, and for the cvxpy suite run); else exit
    naming why."""
    from gridprox.core.private_files import private_folder

    try:
        return private_folder(given, name)
    except PermissionError as exc:
        print(f"--cache {exc}", file=sys.stderr)
        sys.exit(2)


class Unavailable(Exception):
    """A row that cannot run here (a missing option or package); its message is the row's status."""


# ----------------------------------------------------------------------------- instances
class Instance:
    """One LP to benchmark: ``lp``, its capacity variables (``capacities(x)``) and how it was made."""

    def __init__(self, name: str, lp, capacities, note: str, model=None):
        self.name, self.lp, self.capacities, self.note, self.model = name, lp, capacities, note, model


def parse_instance(spec: str) -> tuple[str, str, int | None]:
    """'pypsa:three-country@720' -> ('pypsa', 'three-country', 720)."""
    kind, _, rest = spec.partition(":")
    name, _, hours = rest.partition("@")
    if kind not in ("gp", "pypsa", "example", "synthetic") or not name:
        raise SystemExit(f"instance {spec!r}: write gp:SYSTEM[@N], pypsa:SYSTEM[@N], example:NAME or "
                         "synthetic:seedK[@N]")
    return kind, name, int(hours) if hours else None


def gridprox_instance(spec: str, name: str, hours: int | None) -> Instance:
    """The LP gridprox builds for a bundled system (its capacities from the model's own table)."""
    from gridprox.datasets import load_system
    from gridprox.energy import CapacityExpansion
    from gridprox.energy.results import capacity_frame

    system = load_system(name)
    stochastic = not system.scenarios.empty      # a system with scenarios is modelled two-stage
    t = time.perf_counter()
    model = CapacityExpansion(system, hours=hours, stochastic=stochastic)
    lp = model.lp()
    built = time.perf_counter() - t

    def capacities(x):
        return capacity_frame(model, model.pp.variable_values(np.asarray(x, float)))["capacity"].to_numpy(float)
    note = f"CapacityExpansion{' stochastic' if stochastic else ''}, {model.time.T} snapshots, built in {built:.1f} s"
    return Instance(spec, lp, capacities, note, model)


def pypsa_helpers():
    """datasets/energy-scripts/pypsa_network.py as a module (reused, not copied)."""
    path = ROOT / "datasets" / "energy-scripts" / "pypsa_network.py"
    module_spec = importlib.util.spec_from_file_location("pypsa_network", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def write_mps(network, path: Path) -> None:
    """linopy's MPS of a PyPSA network's optimisation model, with readable names (capacities by name)."""
    for name in ("linopy", "pypsa"):          # their progress lines and data warnings would bury the rows
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = network.optimize.create_model()
        tmp = path.with_suffix(".part.mps")
        model.to_file(tmp, explicit_coordinate_names=True, progress=False)
    tmp.replace(path)                     # a run cut off midway leaves no half file in the cache


def versions_tag() -> str:
    import linopy
    import pypsa
    return f"pypsa{pypsa.__version__}-linopy{linopy.__version__}"


def pypsa_instance(spec: str, name: str, hours: int | None, cache: Path) -> Instance:
    """A bundled system built by PyPSA, written to MPS (cached) and read by gridprox."""
    path = cache / f"{name}{f'-{hours}' if hours else ''}-{versions_tag()}.mps"
    if not path.exists():
        from gridprox.datasets import load_system
        system = load_system(name)
        if hours:
            system = system.first(hours)
        pn = pypsa_helpers()
        write_mps(pn.to_pypsa(system, None if system.scenarios.empty else "stochastic"), path)
    return mps_instance(spec, path)


def example_networks(cache: Path, name: str) -> Path:
    """PyPSA's examples/networks folder from its sdist (in ``cache``, else fetched with pip), with
    network ``name`` in it (the tests unpack single networks into the same cache)."""
    import pypsa
    from gridprox.core.private_files import unpack_sdist

    root = cache / f"pypsa-{pypsa.__version__}"
    nets = root / "examples" / "networks"
    if (nets / name / f"{name}.nc").is_file():
        return nets
    try:
        unpack_sdist("pypsa", pypsa.__version__, cache, lambda m: "/examples/networks/" in m and m.endswith(".nc"))
    except LookupError as exc:
        raise Unavailable(f"PyPSA's {exc}") from None
    return nets


def example_instance(spec: str, name: str, cache: Path) -> Instance:
    """One of PyPSA's example networks, written to MPS (cached) and read by gridprox."""
    path = cache / f"example-{name}-{versions_tag()}.mps"
    if not path.exists():
        import pypsa
        nc = example_networks(cache, name) / name / f"{name}.nc"
        if not nc.exists():
            raise Unavailable(f"no example network {name!r} in PyPSA's sdist")
        logging.getLogger("pypsa").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_mps(pypsa.Network(str(nc)), path)
    return mps_instance(spec, path)


def mps_instance(spec: str, path: Path) -> Instance:
    """An MPS file read by gridprox; capacities are linopy's *_p_nom / *_e_nom / *_s_nom variables."""
    from gridprox import read_lp

    t = time.perf_counter()
    lp = read_lp(str(path))
    read = time.perf_counter() - t
    names = [] if lp.var_names is None else lp.var_names
    cols = np.array([j for j, v in enumerate(names) if CAPACITY_NAME.search(v)], dtype=int)
    note = f"{path.name}, read in {read:.1f} s, {cols.size} capacity variables"
    return Instance(spec, lp, lambda x: np.asarray(x, float)[cols], note)


def load_instance(spec: str, cache: Path) -> Instance:
    kind, name, hours = parse_instance(spec)
    if kind == "gp":
        return gridprox_instance(spec, name, hours)
    if kind == "pypsa":
        return pypsa_instance(spec, name, hours, cache)
    if kind == "synthetic":
        return synthetic_instance(spec, name, hours)
    return example_instance(spec, name, cache)


def synthetic_instance(spec: str, name: str, hours: int | None) -> Instance:
    """``gridprox.synthetic``'s 1-zone capacity-expansion LP with the profiles of seed K (the
    defaults were tuned on seed 0: other seeds are LPs they were not tuned on)."""
    from gridprox.synthetic import capacity_expansion_lp

    m = re.fullmatch(r"seed(\d+)", name)
    if m is None:
        raise SystemExit(f"instance {spec!r}: write synthetic:seedK[@HOURS]")
    lp = capacity_expansion_lp(1, hours or 8760, seed=int(m.group(1)))
    note = f"gridprox.synthetic 1 zone, {hours or 8760} h, seed {m.group(1)}"
    return Instance(spec, lp, lambda x: np.zeros(0), note)


# ----------------------------------------------------------------------------- solvers
def split_solver(solver: str) -> tuple[str, float]:
    """'pdhg-1e-6' -> ('pdhg', 1e-6); first-order solvers without a suffix run at FIRST_ORDER_TOL."""
    m = re.fullmatch(r"(pdhg|pdhg-unpolished|pdhg-crossover|highs-pdlp|ortools-pdlp)(?:-(\d[\d.e+-]*))?", solver)
    if m is None:
        if solver not in SOLVERS:
            raise SystemExit(f"unknown solver {solver!r}; choose from {', '.join(SOLVERS)} (first-order ones "
                             "take a tolerance suffix: pdhg-1e-5)")
        return solver, FIRST_ORDER_TOL
    return m.group(1), float(m.group(2)) if m.group(2) else FIRST_ORDER_TOL


def solve(solver: str, inst: Instance, args):
    """Run one solver on one instance; (Result-like, wall seconds)."""
    from gridprox.solvers import solve_lp

    lp, limit = inst.lp, args.time_limit
    base, tol = split_solver(solver)
    threads = {} if args.threads is None else {"threads": args.threads}
    pdhg = {"device": args.device, **threads}
    t = time.perf_counter()
    if solver in ("default", "default-no-start"):
        if inst.model is not None:       # model.solve(): solver "auto", its simplex from a daily grid or not
            res = inst.model.solve(time_limit=limit, **({"multilevel": None} if solver != "default" else {})).raw
        else:
            res = solve_lp(lp, time_limit=limit)
    elif base == "pdhg":
        res = solve_lp(lp, "pdhg", tol=tol, time_limit=limit, **pdhg)
    elif base == "pdhg-unpolished":
        res = solve_lp(lp, "pdhg", tol=tol, feasibility_polishing=False, time_limit=limit, **pdhg)
    elif base == "pdhg-crossover":
        if "polish" not in inspect.signature(solve_lp).parameters:
            raise Unavailable("n/a (option missing)")
        res = solve_lp(lp, "pdhg", tol=tol, polish="crossover", time_limit=limit, **pdhg)
    elif solver == "highs-simplex":
        res = solve_lp(lp, "highs", method="simplex", time_limit=limit, **threads)
    elif solver == "highs-ipm":
        res = solve_lp(lp, "highs", method="ipm", run_crossover="on", time_limit=limit, **threads)
    elif solver in ("highs-hipo", "highs-ipx"):     # HiGHS's two IPMs by name, with crossover
        from gridprox.solvers.highs import hipo_available
        if solver == "highs-hipo" and not hipo_available():
            raise Unavailable("n/a (HiPO needs highspy-extras of highspy's version)")
        res = solve_lp(lp, "highs", method=solver.removeprefix("highs-"), run_crossover="on", time_limit=limit, **threads)
    elif solver == "highs-backend" and inst.model is not None:    # called as ``default`` is, tables included
        res = inst.model.solve(solver="highs", time_limit=limit, **threads).raw
    elif solver in ("highs-choose", "highs-backend"):    # the HiGHS backend as it comes: HiGHS picks its method
        res = solve_lp(lp, "highs", time_limit=limit, **threads)
    elif solver == "highs-concurrent":     # IPM and simplex on a thread each: ``threads`` does not apply
        res = solve_lp(lp, "highs", method="concurrent", time_limit=limit)
    elif solver == "concurrent":            # HiGHS's IPM raced against PDHG + crossover, a thread each
        res = solve_lp(lp, "concurrent", time_limit=limit)
    elif solver == "highs-ipm-nox":
        res = solve_lp(lp, "highs", method="ipm", run_crossover="off", time_limit=limit, **threads)
    elif base == "highs-pdlp":
        res = solve_lp(lp, "highs", method="pdlp", tol=tol, time_limit=limit, **threads)
    elif base == "ortools-pdlp":
        return ortools_pdlp(lp, tol, limit, args.threads or os.cpu_count())
    else:
        raise SystemExit(f"unknown solver {solver!r}; choose from {', '.join(SOLVERS)}")
    return res, time.perf_counter() - t


class Plain:
    """The fields of a Result that the rows read, for OR-Tools' answer."""

    def __init__(self, status, x=None, y=None, objective=math.nan, iterations=-1):
        self.status, self.x, self.y, self.objective, self.iterations = status, x, y, objective, iterations
        self.message = ""


def _ortools_worker(src: str, dst: str, tol: float, time_limit: float, threads: int) -> None:
    """In a subprocess (OR-Tools bundles its own libhighs, which must not meet highspy's): solve
    the .npz LP with OR-Tools PDLP at eps_optimal_absolute = eps_optimal_relative = tol."""
    import scipy.sparse as sp
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    d = np.load(src)
    qp = pdlp.QuadraticProgram()
    qp.objective_vector, qp.objective_offset = d["c"], float(d["c0"])
    qp.constraint_matrix = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"])).tocsc()
    qp.constraint_lower_bounds, qp.constraint_upper_bounds = d["lc"], d["uc"]
    qp.variable_lower_bounds, qp.variable_upper_bounds = d["lx"], d["ux"]
    params = solvers_pb2.PrimalDualHybridGradientParams()
    crit = params.termination_criteria.simple_optimality_criteria
    crit.eps_optimal_absolute = crit.eps_optimal_relative = tol
    params.termination_criteria.time_sec_limit = time_limit
    params.num_threads = threads
    t = time.perf_counter()
    res = pdlp.primal_dual_hybrid_gradient(qp, params)
    seconds = time.perf_counter() - t
    reason = solve_log_pb2.TerminationReason.Name(res.solve_log.termination_reason)
    np.savez(dst, x=np.asarray(res.primal_solution), seconds=seconds, iterations=res.solve_log.iteration_count,
             status=reason.replace("TERMINATION_REASON_", "").lower())


def ortools_pdlp(lp, tol: float, time_limit: float, threads: int):
    """OR-Tools PDLP in a fresh interpreter; seconds are its own solve time (no LP transfer)."""
    if importlib.util.find_spec("ortools") is None:
        raise Unavailable("n/a (ortools not installed)")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "lp.npz"), os.path.join(tmp, "x.npz")
        A = lp.A.tocsr()
        np.savez(src, data=A.data, indices=A.indices, indptr=A.indptr, shape=np.array(A.shape),
                 c=lp.c, c0=np.float64(lp.c0), lc=lp.lc, uc=lp.uc, lx=lp.lx, ux=lp.ux)
        cmd = [sys.executable, __file__, "--ortools-worker", src, dst, str(tol), str(time_limit), str(threads)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit + 120)
        except subprocess.TimeoutExpired:
            return Plain("time_limit (killed)"), time_limit + 120
        if out.returncode or not os.path.exists(dst):
            tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
            return Plain(f"error: {tail[:60]}"), math.nan
        d = np.load(dst)
        x = d["x"] if d["x"].size else None
        objective = lp.objective(x) if x is not None else math.nan
        return Plain(str(d["status"]), x=x, objective=objective, iterations=int(d["iterations"])), float(d["seconds"])


# ----------------------------------------------------------------------------- measures
def measure(inst: Instance, res) -> dict:
    """Violations recomputed from x (and y) on the instance's LP, and its capacities."""
    if getattr(res, "x", None) is None:
        return {"max_violation": math.nan, "row_rel": math.nan, "col_rel": math.nan, "capacities": None}
    x = np.asarray(res.x, float)
    y = None if getattr(res, "y", None) is None else np.asarray(res.y, float)
    r = inst.lp.residuals(x, y)
    return {"max_violation": max(r["max_row_violation"], r["max_bound_violation"]), "row_rel": r["row_rel"],
            "col_rel": r.get("col_rel", math.nan), "capacities": inst.capacities(x)}


def capacity_error(caps, ref) -> float:
    """Worst |cap - ref| over max(|ref|, 1e-3 max|ref|): small capacities are judged on the system's scale."""
    if caps is None or ref is None or ref.size == 0:
        return math.nan
    scale = np.maximum(np.abs(ref), 1e-3 * max(np.abs(ref).max(), 1e-12))
    return float(np.max(np.abs(caps - ref) / scale))


def reference(rows: list[dict]) -> dict | None:
    """The exact HiGHS row the others are judged against (EXACT's order), or None."""
    for name in EXACT:
        for r in rows:
            if r["solver"] == name and r["status"] == "optimal" and (name != "default" or "highs" in r["backend"]):
                return r
    return None


# ----------------------------------------------------------------------------- the run
def run_instance(inst: Instance, solvers: list[str], args) -> list[dict]:
    """Every solver on one instance, ``--repeat`` times in alternating order; one row per solver."""
    runs: dict[str, list] = {s: [] for s in solvers}
    for rep in range(args.repeat):
        order = solvers if rep % 2 == 0 else solvers[::-1]     # the shared machine's drift hits both ends
        for solver in order:
            try:
                res, wall = solve(solver, inst, args)
            except Unavailable as exc:
                runs[solver].append((Plain(str(exc)), math.nan))
                continue
            except Exception as exc:  # noqa: BLE001 - one failing solver is a row, not the end of the run
                runs[solver].append((Plain(f"error: {type(exc).__name__}: {str(exc)[:60]}"), math.nan))
                continue
            runs[solver].append((res, wall))
            print(f"    {solver:<15} {res.status:<18} {wall:8.2f} s  {res.iterations} it", flush=True)
    rows = []
    for solver in solvers:
        res, _ = runs[solver][-1]
        secs = [w for _, w in runs[solver] if not math.isnan(w)]
        rows.append({"instance": inst.name, "solver": solver, "status": res.status,
                     "backend": getattr(res, "solver", solver) or solver,
                     "seconds": float(np.median(secs)) if secs else math.nan,
                     "seconds_all": secs, "iterations": res.iterations, "objective": res.objective,
                     "stages": getattr(res, "stages", {}) or {}, "message": getattr(res, "message", ""),
                     **measure(inst, res)})
    ref, missing = reference(rows), "none"
    if ref is None and not any(r["solver"] in EXACT for r in rows):     # no exact row chosen: run one
        res, wall = solve("highs-simplex", inst, args)
        if res.status == "optimal":       # a stopped simplex is no reference: its objective is not the optimum
            ref = {"solver": "highs-simplex (reference only)", "objective": res.objective, **measure(inst, res)}
        else:
            missing = f"none (highs-simplex: {res.status})"
    ref_caps = ref["capacities"] if ref else None
    for r in rows:
        r["reference"] = ref["solver"] if ref else missing
        r["objective_gap"] = (abs(r["objective"] - ref["objective"]) / max(abs(ref["objective"]), 1.0)
                              if ref else math.nan)
        r["capacity_error"] = capacity_error(r["capacities"], ref_caps)
        r["n_capacities"] = 0 if r["capacities"] is None else int(r["capacities"].size)
        r.pop("capacities")
    return rows


def fmt(v: float, spec: str = ".1e") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def print_table(rows: list[dict]) -> None:
    print("| instance | solver | status | seconds | iterations | obj. gap | capacity err. | max viol. | row_rel | col_rel |")
    print("|" + "---|" * 10)
    for r in rows:
        secs = r["seconds_all"]
        shown = fmt(r["seconds"], ".2f") + (f" ({min(secs):.2f}-{max(secs):.2f})" if len(secs) > 1 else "")
        print(f"| {r['instance']} | {r['solver']} | {r['status']} | {shown} | {r['iterations']} | "
              f"{fmt(r['objective_gap'])} | {fmt(r['capacity_error'])} | {fmt(r['max_violation'])} | "
              f"{fmt(r['row_rel'])} | {fmt(r['col_rel'])} |")


def warm_up(threads: int | None, device: str) -> None:
    """torch's import, a tiny PDHG solve at each thread count the tuner may try (a count's first
    iterations carry one-time costs) and a HiGHS one: one-time process costs stay out of the rows."""
    from gridprox.solvers import solve_lp
    from gridprox.synthetic import capacity_expansion_lp

    lp = capacity_expansion_lp(1, 24)
    for k in sorted({1, threads or os.cpu_count()}):
        solve_lp(lp, "pdhg", threads=k, max_iter=300, device=device)
    solve_lp(lp, "highs")
    solve_lp(lp, "highs", method="concurrent")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instances", default=HEADLINE, help="comma list of gp:SYSTEM[@N], pypsa:SYSTEM[@N], "
                   "example:NAME (default: the headline set)")
    p.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma list of {', '.join(SOLVERS)}")
    p.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve (default 300)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each solver, alternating the order")
    p.add_argument("--threads", type=int, help="threads of every solver (default: each one's own choice)")
    p.add_argument("--device", default="auto", help="PDHG's device: auto (CUDA where there is one), cpu, cuda")
    p.add_argument("--cache", type=Path, help="where MPS files and PyPSA's sdist are kept (default: "
                   "~/.cache/gridprox/real-models; this user's alone)")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}, 10 s limit (~2 min)")
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument("--ortools-worker", nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.ortools_worker:
        src, dst, tol, limit, threads = args.ortools_worker
        _ortools_worker(src, dst, float(tol), float(limit), int(threads))
        return
    if args.quick:
        args.instances, args.time_limit = QUICK, min(args.time_limit, 10.0)
    solvers = [s for s in args.solvers.split(",") if s]
    for s in solvers:
        split_solver(s)                   # an unknown name stops here, before any model is built
    args.cache = cache_folder(args.cache)

    import torch

    from gridprox.core.device import resolve_device
    from gridprox.errors import SolverError
    try:
        device = resolve_device(args.device)
    except SolverError as exc:
        print(f"--device: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"# real_models  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, PDHG on {device}, time limit {args.time_limit:g} s, "
          f"argv {' '.join(sys.argv[1:])}", flush=True)
    warm_up(args.threads, args.device)
    rows, skipped = [], []
    for spec in filter(None, args.instances.split(",")):
        try:
            inst = load_instance(spec, args.cache)
        except Unavailable as exc:
            print(f"\n{spec}: not run: {exc}", flush=True)
            skipped.append((spec, str(exc)))
            continue
        lp = inst.lp
        print(f"\n{spec}: {lp.num_vars:,} vars, {lp.num_rows:,} rows, {lp.A.nnz:,} nnz ({inst.note})", flush=True)
        rows += run_instance(inst, solvers, args)
        print(f"    reference: {rows[-1]['reference']}", flush=True)
    print()
    print_table(rows)
    for spec, why in skipped:
        print(f"not run: {spec}: {why}")
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv[1:], "rows": rows, "skipped": skipped}, indent=1,
                                        default=float))
        print(f"rows written to {args.json}")


if __name__ == "__main__":
    main()
