"""Kirchhoff's voltage law over cycles or over voltage angles: which one PDHG solves faster (issue 28 item 2).

Both formulations give the same optimum (tests/test_kvl_formulations.py); they differ in the LP PDHG
sees.  Cycles (PyPSA's, Hörsch et al. 2018) add one row per independent cycle and no variables;
angles add a free variable per bus (less one per connected part) and one row per line, each row
short (a line and its two buses) where a cycle row can run over many lines.  Per network and
formulation: the LP's size, PDHG's iterations and seconds to ``--tol`` (the default stopping rule,
no polish), its objective's gap to HiGHS, and HiGHS's seconds on the same LP (dual simplex, a
reference).  PDHG runs on ``--threads`` CPU threads; iteration counts are deterministic, seconds are
this machine's (shared, noisy).

Networks (``--networks``, comma list): PyPSA's meshed examples ``ac-dc-meshed``, ``storage-hvdc``,
``scigrid-de`` (585 buses, 852 lines, 96 transformers, 24 h), and ``NAME@N``: its first N snapshots,
or, past its end, its profiles repeated to N hours (the same grid on a longer horizon; scigrid-de's
pumped hydro starts empty, not cyclic, as in the example).  The examples come from PyPSA's sdist
(comparisons/real_models.py fetches it).  The bundled systems are not here: their lines carry no
reactance (transport model), so KVL has nothing to constrain.

    python comparisons/kvl_formulation.py                   # the default set: ~6 minutes here
    python comparisons/kvl_formulation.py --networks scigrid-de,scigrid-de@168 --tol 1e-3 --time-limit 300
"""
from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gridprox.energy import CapacityExpansion, System
from gridprox.solvers import solve_lp
from real_models import cache_folder, example_networks

FORMULATIONS = ("cycles", "angles")


def network(spec: str, cache: Path):
    """PyPSA example ``NAME`` or ``NAME@N`` (its first N snapshots, repeated past its end) as a Network."""
    import pypsa

    name, _, hours = spec.partition("@")
    logging.getLogger("pypsa").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = pypsa.Network(str(example_networks(cache, name) / name / f"{name}.nc"))
        if hours and int(hours) <= len(n.snapshots):
            n.set_snapshots(n.snapshots[:int(hours)])
        elif hours:
            n = repeated(n, int(hours))
    return n


def repeated(n, hours: int):
    """``n`` with its snapshots and every time series tiled to ``hours`` hourly snapshots."""
    base = len(n.snapshots)
    snapshots = pd.date_range(n.snapshots[0], periods=hours, freq="h")
    tile = np.arange(hours) % base
    series = {(c.name, attr): df.iloc[tile].set_axis(snapshots) for c in n.components
              for attr, df in c.dynamic.items() if df.shape[1]}
    n.set_snapshots(snapshots)
    for (component, attr), df in series.items():
        n.components[component].dynamic[attr] = df
    return n


def measure(system: System, kvl: str, tol: float, threads: int, time_limit: float) -> dict:
    lp = CapacityExpansion(system, kvl=kvl).lp()
    t0 = time.perf_counter()
    ref = solve_lp(lp, "highs", method="simplex", threads=threads, time_limit=time_limit)
    highs_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = solve_lp(lp, "pdhg", tol=tol, threads=threads, time_limit=time_limit, device="cpu")
    pdhg_s = time.perf_counter() - t0
    return dict(shape=lp.A.shape, nnz=lp.A.nnz, status=res.status, iterations=res.iterations, pdhg_s=pdhg_s,
                gap=abs(res.objective - ref.objective) / max(abs(ref.objective), 1.0), highs_s=highs_s,
                highs_objective=ref.objective)


def warm_up(threads: int, cache: Path) -> None:
    """One small solve first, so that no row pays for building or loading PDHG's kernels."""
    system = System.from_pypsa(network("ac-dc-meshed", cache))
    solve_lp(CapacityExpansion(system).lp(), "pdhg", tol=1e-2, threads=threads, device="cpu")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", default="ac-dc-meshed,storage-hvdc,scigrid-de@6,scigrid-de@12")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    ap.add_argument("--cache", type=Path, help="as real_models.py's")
    args = ap.parse_args(argv)
    args.cache = cache_folder(args.cache)
    print(f"PDHG to tol {args.tol:g} (default stopping rule, no polish), {args.threads} thread(s), "
          f"{args.time_limit:g} s limit; HiGHS dual simplex on the same LP")
    print("| network | KVL | vars x rows (nnz) | PDHG status | iterations | PDHG s | objective gap | HiGHS s |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    warm_up(args.threads, args.cache)
    for spec in args.networks.split(","):
        system = System.from_pypsa(network(spec, args.cache))
        objectives = []
        for kvl in FORMULATIONS:
            r = measure(system, kvl, args.tol, args.threads, args.time_limit)
            objectives.append(r["highs_objective"])
            (m, n), nnz = r["shape"], r["nnz"]
            print(f"| {spec} | {kvl} | {n:,} x {m:,} ({nnz:,}) | {r['status']} | {r['iterations']:,} | "
                  f"{r['pdhg_s']:.1f} | {r['gap']:.1e} | {r['highs_s']:.1f} |", flush=True)
        # the two LPs are the same problem: their exact optima must agree (where HiGHS finished)
        assert not np.isfinite(objectives).all() or np.isclose(*objectives, rtol=1e-6), (spec, objectives)


if __name__ == "__main__":
    main()
