"""LP solver speed: gridprox PDHG vs HiGHS (simplex, IPM, PDLP) and OR-Tools PDLP (issue 5).

Capacity-expansion LPs from ``gridprox.synthetic`` in three sizes, each solver timed in the same
run (the machine is shared, so the ratios are what count):

* gridprox PDHG (``solve_lp(solver="pdhg")``, presolve on, float64 unless ``--dtype``);
* HiGHS dual simplex and IPM (with crossover) at their default tolerances: the exact
  references (objective gaps are measured against the simplex optimum);
* HiGHS IPM without crossover at the requested tol (the cheapest HiGHS answer of that accuracy);
* HiGHS's own PDLP at the requested tol;
* OR-Tools PDLP in a subprocess (OR-Tools bundles its own libhighs, which must not meet
  highspy's in one process), with eps_optimal_absolute = eps_optimal_relative = tol,
  which is gridprox's ‖r‖ <= tol (1 + ‖b‖) criterion.

Then a sweep of scenarios of the 8760-hour model sharing A: gridprox batched, gridprox
one at a time, HiGHS (best exact method of the size table) one at a time, and HiGHS simplex
on the same scenarios in one instance, each from the last one's basis (``HighsSession``);
per-scenario throughput ratios.  gridprox one at a time solves every scenario; the HiGHS columns
may time only a sample (``--sample``) and report the mean per scenario.

    python comparisons/lp_speed.py                         # small + 8760 h, tol 1e-4 and 1e-6, sweep of 32
    python comparisons/lp_speed.py --quick                 # small only, short sweep: a couple of minutes
    python comparisons/lp_speed.py --sizes small,year,multi --time-limit 600
    python comparisons/lp_speed.py --sizes "" --sweep 32 --sweep-size quarter   # the sweep only
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIZES = {"small": (1, 720), "quarter": (1, 2190), "year": (1, 8760), "multi": (7, 8760)}


# ----------------------------------------------------------------------------- OR-Tools
def _ortools_worker(path: str, tol: float, time_limit: float, threads: int) -> None:
    """Run in a subprocess: solve the .npz LP with OR-Tools PDLP, print one JSON line."""
    import scipy.sparse as sp
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    d = np.load(path)
    A = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = d["c"]
    qp.objective_offset = float(d["c0"])
    qp.constraint_matrix = A.tocsc()
    qp.constraint_lower_bounds, qp.constraint_upper_bounds = d["lc"], d["uc"]
    qp.variable_lower_bounds, qp.variable_upper_bounds = d["lx"], d["ux"]
    params = solvers_pb2.PrimalDualHybridGradientParams()
    crit = params.termination_criteria.simple_optimality_criteria
    crit.eps_optimal_absolute = tol
    crit.eps_optimal_relative = tol
    params.termination_criteria.time_sec_limit = time_limit
    params.num_threads = threads
    t = time.perf_counter()
    res = pdlp.primal_dual_hybrid_gradient(qp, params)
    seconds = time.perf_counter() - t
    log = res.solve_log
    x = np.asarray(res.primal_solution)
    print(json.dumps({"seconds": seconds, "iterations": int(log.iteration_count),
                      "status": solve_log_pb2.TerminationReason.Name(log.termination_reason)
                      .replace("TERMINATION_REASON_", "").lower(),
                      "objective": float(d["c"] @ x + float(d["c0"])) if x.size else float("nan")}))


def ortools_pdlp(lp, tol: float, time_limit: float, threads: int) -> dict:
    """OR-Tools PDLP on ``lp`` in a fresh interpreter (its wall time excludes the LP transfer)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lp.npz")
        A = lp.A.tocsr()
        np.savez(path, data=A.data, indices=A.indices, indptr=A.indptr, shape=np.array(A.shape),
                 c=lp.c, c0=np.float64(lp.c0), lc=lp.lc, uc=lp.uc, lx=lp.lx, ux=lp.ux)
        cmd = [sys.executable, __file__, "--ortools-worker", path, str(tol), str(time_limit), str(threads)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit + 120)
        except subprocess.TimeoutExpired:
            return {"seconds": float("nan"), "iterations": -1, "status": "timeout", "objective": float("nan")}
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode or not lines:
            tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
            return {"seconds": float("nan"), "iterations": -1, "status": f"error: {tail[0][:60]}",
                    "objective": float("nan")}
        return json.loads(lines[-1])


# ----------------------------------------------------------------------------- in-process solvers
def _row(name, res, seconds=None):
    return {"solver": name, "status": res.status, "seconds": res.seconds if seconds is None else seconds,
            "iterations": res.iterations, "objective": res.objective}


def run_gridprox(lp, tol, args, **extra):
    from gridprox.solvers import solve_lp
    extra = {"dtype": args.dtype, "device": args.device, **extra}
    t = time.perf_counter()
    res = solve_lp(lp, solver="pdhg", tol=tol, time_limit=args.time_limit, **extra)
    return res, time.perf_counter() - t


def run_highs(lp, method, args, **extra):
    from gridprox.solvers import solve_lp
    t = time.perf_counter()
    res = solve_lp(lp, solver="highs", method=method, time_limit=args.time_limit, threads=args.threads, **extra)
    return res, time.perf_counter() - t


def size_table(name, lp, args) -> tuple[list, str]:
    """All solvers on one LP at each tol; returns the rows and the best exact HiGHS method.
    Objective gaps are to HiGHS simplex, else HiGHS IPM, else the tightest HiGHS answer
    that reached "optimal" (when the exact runs hit the time limit)."""
    rows = []
    exact = {}
    for method in filter(None, args.highs_exact.split(",")):
        res, wall = run_highs(lp, method, args)
        exact[method] = (res, wall)
    best_method = min(exact, key=lambda k: exact[k][1] if exact[k][0].status == "optimal" else np.inf,
                      default="simplex")
    for tol in args.tols:
        tol_rows = [dict(_row(f"HiGHS {m} (exact)", r, w)) for m, (r, w) in exact.items()]
        if not args.skip_highs_ipm:
            res, wall = run_highs(lp, "ipm", args, tol=tol, run_crossover="off")
            tol_rows.append(_row("HiGHS IPM no crossover", res, wall))
        if not args.skip_highs_pdlp:
            res, wall = run_highs(lp, "pdlp", args, tol=tol)
            tol_rows.append(_row("HiGHS PDLP", res, wall))
        if not args.skip_ortools:
            o = ortools_pdlp(lp, tol, args.time_limit, args.threads)
            tol_rows.append({"solver": "OR-Tools PDLP", **o})
        if args.float32 and tol >= 1e-5:      # float32's accuracy floor (gridprox.solvers.pdhg)
            res, wall = run_gridprox(lp, tol, args, dtype="float32")
            tol_rows.append(_row("gridprox PDHG float32", res, wall))
        res, wall = run_gridprox(lp, tol, args)
        tol_rows.append(_row("gridprox PDHG", res, wall))
        best_highs = min((r["seconds"] for r in tol_rows if r["solver"].startswith("HiGHS")
                          and r["status"] == "optimal"), default=np.nan)
        g = tol_rows[-1]["seconds"]
        for r in tol_rows:
            r.update(size=name, tol=tol, x_gridprox=r["seconds"] / g if g > 0 else np.nan)
        rows += tol_rows
        print(f"  tol {tol:g}: gridprox {g:.2f} s ({tol_rows[-1]['status']}); best HiGHS that finished "
              f"{best_highs:.2f} s ({best_highs / g:.1f}x); exact HiGHS: "
              + ", ".join(f"{m} {w:.1f} s ({r.status})" for m, (r, w) in exact.items()), flush=True)
    highs_ok = sorted((r for r in rows if r["solver"].startswith("HiGHS") and r["status"] == "optimal"),
                      key=lambda r: ("exact" not in r["solver"], "simplex" not in r["solver"], r["tol"]))
    ref = highs_ok[0]["objective"] if highs_ok else np.nan
    for r in rows:
        r["gap"] = abs(r["objective"] - ref) / (1 + abs(ref))
        r["ref"] = highs_ok[0]["solver"] + (f" {highs_ok[0]['tol']:g}" if highs_ok else "") if highs_ok else "none"
    return rows, best_method


def print_table(rows):
    head = f"| size | tol | solver | status | seconds | iterations | rel. objective gap | time / gridprox |"
    print(head)
    print("|" + "---|" * 8)
    for r in rows:
        print(f"| {r['size']} | {r['tol']:g} | {r['solver']} | {r['status']} | {r['seconds']:.2f} | "
              f"{r['iterations']} | {r['gap']:.1e} | {r['x_gridprox']:.2f} |")


def sweep(args, best_method):
    """Scenarios of the 8760-h model: batched vs one at a time vs HiGHS one at a time."""
    from gridprox.synthetic import scenario_inputs, scenario_sweep
    from gridprox.solvers import solve_lp, solve_lp_sequence

    Z, T = SIZES[args.sweep_size]
    batch = scenario_sweep(args.sweep, Z, T)
    tol = args.sweep_tol
    pdhg = dict(solver="pdhg", tol=tol, dtype=args.dtype, device=args.device)
    together, t_batch = [], 0.0
    if not args.skip_plain_batch:
        t = time.perf_counter()
        together = solve_lp(batch, **pdhg)
        t_batch = time.perf_counter() - t
    streamed = []
    if args.stream:
        inputs = scenario_inputs(args.sweep)
        coordinates = (inputs - inputs.min(0)) / np.ptp(inputs, axis=0)
        # untimed: the stream's first pass through its presolve and width-W arrays; the singles
        # after it run on memory the process already has (here the first touch of ~0.2 GB cost
        # 1-2 s: this VM's page faults are slow), so both are timed on a warm process
        solve_lp(batch, **pdhg, width=args.stream, max_iter=64, coordinates=coordinates)
        t = time.perf_counter()
        streamed = solve_lp(batch, **pdhg, width=args.stream, coordinates=coordinates)
        t_stream = time.perf_counter() - t
    k = min(args.sample, args.sweep)
    # gridprox one at a time on every scenario: a sample's cost per scenario strays from the sweep's
    # (the first 4 of the 32 year-LP scenarios take 5,456 iterations each cold, all 32 4,534)
    t = time.perf_counter()
    singles = [solve_lp(batch.scenario(i), **pdhg) for i in range(args.sweep)]
    t_single = (time.perf_counter() - t) / args.sweep
    t = time.perf_counter()
    refs = [solve_lp(batch.scenario(i), solver="highs", method=best_method, threads=args.threads) for i in range(k)]
    t_highs = (time.perf_counter() - t) / max(k, 1)
    t = time.perf_counter()       # the same scenarios in one HiGHS instance, each from the last basis
    hot = solve_lp_sequence([batch.scenario(i) for i in range(k)], solver="highs", method="simplex",
                            threads=args.threads)
    t_hot = (time.perf_counter() - t) / max(k, 1)
    gap = lambda got: max((abs(g.objective - r.objective) / (1 + abs(r.objective))  # noqa: E731
                           for g, r in zip(got, refs)), default=np.nan)
    gaps = {"batched": gap(together[:k])} if together else {}
    print(f"\nSweep: {args.sweep} scenarios of {Z} zone(s) x {T} h at tol {tol:g} (HiGHS: {k} timed one at a time)")
    print("| method | seconds per scenario | scenarios / min | vs gridprox one at a time |")
    print("|---|---|---|---|")
    rows = []
    if together:
        ok = sum(r.status == "optimal" for r in together)
        rows.append((f"gridprox batched (B={args.sweep}, {ok} optimal)", t_batch / args.sweep))
    if streamed:
        rows.append((f"gridprox streamed (width {args.stream}, {sum(r.status == 'optimal' for r in streamed)} "
                     f"optimal, warm from solved neighbours)", t_stream / args.sweep))
        gaps["streamed"] = gap(streamed[:k])
    rows.append(("gridprox one at a time", t_single))
    if k:
        rows += [(f"HiGHS {best_method} one at a time", t_highs),
                 ("HiGHS simplex in sequence, each from the last basis", t_hot)]
    for name, s in rows:
        print(f"| {name} | {s:.2f} | {60 / s:.1f} | {t_single / s:.2f}x |")
    if streamed:
        print(f"streamed iterations {min(r.iterations for r in streamed)}-{max(r.iterations for r in streamed)}, "
              f"{sum(r.iterations for r in streamed)} in all")
    if together:
        print(f"batched iterations {min(r.iterations for r in together)}-{max(r.iterations for r in together)}, "
              f"{sum(r.iterations for r in together)} in all")
    gaps.update({"one at a time": gap(singles[:k]), "HiGHS from the last basis": gap(hot)})
    print(("max rel. objective gap to HiGHS on the timed sample: "
           + ", ".join(f"{name} {g:.1e}" for name, g in gaps.items()) + "; " if k else "")
          + f"iterations one at a time {min(r.iterations for r in singles)}-{max(r.iterations for r in singles)}, "
          f"{sum(r.iterations for r in singles)} in all")


def _warm_up(device):
    """Import torch and run one tiny PDHG solve (on a GPU: its context and sparse library start
    here): one-time process costs stay out of the timings."""
    from gridprox.synthetic import capacity_expansion_lp
    from gridprox.solvers import solve_lp
    solve_lp(capacity_expansion_lp(1, 24), solver="pdhg", device=device)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="small,year", help="comma list of small (1x720), quarter (1x2190), "
                   "year (1x8760), multi (7x8760, ~550k vars)")
    p.add_argument("--tols", default="1e-4,1e-6")
    p.add_argument("--time-limit", type=float, default=600.0, help="per solve, seconds")
    p.add_argument("--dtype", default="float64")
    p.add_argument("--sweep", type=int, default=32, help="scenarios in the sweep (0: no sweep)")
    p.add_argument("--sweep-size", default="year", choices=sorted(SIZES))
    p.add_argument("--sweep-tol", type=float, default=1e-4)
    p.add_argument("--stream", type=int, default=0,
                   help="also the sweep streamed through this many columns (0: not run)")
    p.add_argument("--skip-plain-batch", action="store_true", help="sweep: only the streamed batch (--stream)")
    p.add_argument("--sample", type=int, default=4,
                   help="scenarios HiGHS solves one at a time (gridprox: all; 0: no HiGHS in the sweep)")
    p.add_argument("--highs-exact", default="simplex,ipm",
                   help='HiGHS methods run to optimality (with crossover); "" for none')
    p.add_argument("--skip-highs-ipm", action="store_true", help="no HiGHS IPM without crossover at each tol")
    p.add_argument("--device", default="auto", help="gridprox's device: auto (cuda where there is one), cpu, cuda")
    p.add_argument("--float32", action="store_true", help="also gridprox in float32 (at tol >= 1e-5)")
    p.add_argument("--skip-ortools", action="store_true")
    p.add_argument("--skip-highs-pdlp", action="store_true")
    p.add_argument("--quick", action="store_true", help="small size only, sweep of 8 small models")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="CPU threads of HiGHS and OR-Tools, and the most gridprox may use (it picks its count "
                        "by timing, gridprox.core.threads); default: all cores")
    p.add_argument("--ortools-worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.ortools_worker:
        path, tol, limit, threads = args.ortools_worker
        _ortools_worker(path, float(tol), float(limit), int(threads))
        return
    if args.skip_plain_batch and not args.stream:
        p.error("--skip-plain-batch leaves no batched solve to time: give --stream W as well")
    if args.quick:
        args.sizes, args.sweep, args.sweep_size, args.time_limit = "small", 8, "small", min(args.time_limit, 120)
    args.tols = [float(t) for t in args.tols.split(",")]

    import torch
    from gridprox.synthetic import capacity_expansion_lp

    from gridprox.core.device import resolve_device

    torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    where = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"# lp_speed  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, {args.threads} threads per solver, gridprox on {where}, "
          f"argv {' '.join(sys.argv[1:])}", flush=True)
    _warm_up(args.device)
    rows, best_method = [], "simplex"
    for name in filter(None, args.sizes.split(",")):
        Z, T = SIZES[name]
        lp = capacity_expansion_lp(Z, T)
        print(f"\n{name}: {Z} zone(s) x {T} h: {lp.num_vars:,} vars, {lp.num_rows:,} rows, {lp.A.nnz:,} nnz",
              flush=True)
        size_rows, method = size_table(name, lp, args)
        rows += size_rows
        if name == args.sweep_size:
            best_method = method
    if rows:
        print()
        print_table(rows)
    if args.sweep:
        sweep(args, best_method)


if __name__ == "__main__":
    main()
