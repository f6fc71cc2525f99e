"""Model build + compile time: gridprox vs cvxpy on the same capacity-expansion LP.

The model is ``gridprox.modeling.demo.capacity_expansion`` (gas, wind, solar, nuclear,
battery with cyclic state of charge, load shedding, CO2 cap; a transport ring for Z > 1),
written once in cvxpy syntax and built with either module.  Two variants: constants only,
and every sweepable input a Parameter (loads, availability profiles that multiply
capacity, costs, CO2 cap) - the latter sends cvxpy down its DPP path.

Each measurement runs in its own fresh Python process (imports not timed), the two sides
alternate, and the best of ``--runs`` is reported.  cvxpy's compile is
``problem.get_problem_data(cvxpy.HIGHS)``; gridprox's is ``problem.compile()``.  The
refill time is setting new values for every Parameter plus producing the new LP
(gridprox: ``problem.compile()`` again; cvxpy: ``get_problem_data`` again, served from its
DPP cache).

    python comparisons/compile_speed.py               # the default grid (~10-20 min on 2 cores)
    python comparisons/compile_speed.py --quick       # small grid, a minute or two
    python comparisons/compile_speed.py --full        # adds cvxpy DPP at 8760 h (slow, GBs)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)                 # run from a checkout without installing


def worker(side: str, T: int, Z: int, params: bool) -> dict:
    """Runs in a child process: build, compile, refill; prints one JSON line."""
    import resource

    import numpy as np
    if side == "cvxpy":
        import cvxpy as cp
    else:
        import gridprox as cp
        import gridprox.compile.compiler  # noqa: F401 - imported lazily by Problem; keep imports untimed
    from gridprox.modeling.demo import capacity_expansion, synthetic_data

    data = synthetic_data(T, Z, seed=0)
    t0 = time.perf_counter()
    prob, h = capacity_expansion(cp, T=T, Z=Z, params=params, data=data)
    t1 = time.perf_counter()
    if side == "cvxpy":
        out = prob.get_problem_data(cp.HIGHS)
        nnz = int(out[0]["A"].nnz)
    else:
        lp = prob.compile()
        nnz = int(lp.A.nnz)
    t2 = time.perf_counter()
    res = {"side": side, "T": T, "Z": Z, "params": params, "build_s": t1 - t0, "compile_s": t2 - t1,
           "total_s": t2 - t0, "nnz": nnz}
    if params:
        new = synthetic_data(T, Z, seed=1)
        values = {"load": new.load, "capex": new.capex * 1.1, "vom": new.vom * 0.9, "co2_cap": new.co2_cap * 0.8}
        values.update({f"avail_{z}": new.avail[z] for z in range(Z)})
        times = []
        for k in range(3):
            t3 = time.perf_counter()
            for name, v in values.items():
                h["params"][name].value = v * (1.0 + 0.01 * k)
            if side == "cvxpy":
                prob.get_problem_data(cp.HIGHS)
            else:
                prob.compile()
            times.append(time.perf_counter() - t3)
        res["refill_s"] = min(times)
    res["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    del np
    return res


def run_child(side, T, Z, params, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", side, str(T), str(Z), str(int(params))]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"side": side, "T": T, "Z": Z, "params": params, "timeout": timeout}
    except subprocess.CalledProcessError as e:
        return {"side": side, "T": T, "Z": Z, "params": params, "error": e.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(runs):
    ok = [r for r in runs if "total_s" in r]
    if not ok:
        return runs[0]
    out = dict(min(ok, key=lambda r: r["total_s"]))
    if "refill_s" in out:
        out["refill_s"] = min(r["refill_s"] for r in ok)
    out["n_ok"] = len(ok)
    return out


def grid(args):
    cases = []     # (T, Z, params, sides)
    if args.quick:
        cases += [(2190, 1, False, ("cvxpy", "gridprox")), (2190, 1, True, ("cvxpy", "gridprox")),
                  (8760, 1, True, ("gridprox",))]
        return cases
    for Z in (1, 3):
        cases.append((8760, Z, False, ("cvxpy", "gridprox")))
    dpp_T = (1095, 2190, 4380) + ((8760,) if args.full else ())
    for T in dpp_T:
        cases.append((T, 1, True, ("cvxpy", "gridprox")))
    if 8760 not in dpp_T:
        cases.append((8760, 1, True, ("gridprox",)))
    cases.append((2190, 3, True, ("cvxpy", "gridprox")))
    cases.append((8760, 3, True, ("cvxpy", "gridprox") if args.full else ("gridprox",)))
    return cases


def fmt(r, key):
    if "timeout" in r:
        return f">{r['timeout']}s"
    if "error" in r:
        return "error"
    return f"{r[key]:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    if args.worker:
        side, T, Z, params = args.worker
        print(json.dumps(worker(side, int(T), int(Z), bool(int(params)))))
        return

    rows = []
    print(f"{'model':<22}{'side':<10}{'build s':>9}{'compile s':>11}{'total s':>9}{'refill ms':>11}"
          f"{'nnz':>9}{'RSS GB':>8}{'cvxpy/gridprox':>16}", flush=True)
    for T, Z, params, sides in grid(args):
        runs = {s: [] for s in sides}
        for _ in range(args.runs):                    # alternate the sides, fresh process each
            for s in sides:
                runs[s].append(run_child(s, T, Z, params, args.timeout))
        res = {s: best(runs[s]) for s in sides}
        ratio = ""
        if "cvxpy" in res and "total_s" in res["cvxpy"] and "total_s" in res.get("gridprox", {}):
            ratio = f"{res['cvxpy']['total_s'] / res['gridprox']['total_s']:.1f}x"
        label = f"{Z}z x {T}h {'params' if params else 'consts'}"
        for s in sides:
            r = res[s]
            refill = f"{1e3 * r['refill_s']:.1f}" if "refill_s" in r else "-"
            print(f"{label:<22}{s:<10}{fmt(r, 'build_s'):>9}{fmt(r, 'compile_s'):>11}{fmt(r, 'total_s'):>9}"
                  f"{refill:>11}{r.get('nnz', 0):>9}{r.get('peak_rss_gb', 0):>8.2f}"
                  f"{ratio if s == 'gridprox' else '':>16}", flush=True)
            rows.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
