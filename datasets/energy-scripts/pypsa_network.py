"""PyPSA's own optimum of a gridprox System, for the dataset builders and comparisons.

The conversions live in the package (``gridprox.energy.pypsa_io``: ``to_pypsa(system,
scenario=None | name | "stochastic")`` and ``from_pypsa``, re-exported here for the build
scripts); ``pypsa_optimum(network)`` solves with HiGHS and returns objective, capacities and
timings.

Run as a script to solve a bundled system with PyPSA::

    python datasets/energy-scripts/pypsa_network.py model-energy [--first N] [--scenario NAME|stochastic]
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from gridprox.energy import pypsa_io  # noqa: E402
from gridprox.energy.pypsa_io import to_pypsa  # noqa: E402,F401  (re-exported for the comparisons)
from gridprox.energy.system import System  # noqa: E402

__all__ = ["to_pypsa", "from_pypsa", "pypsa_optimum"]


def from_pypsa(n, name: str, meta: dict) -> System:
    """A deterministic PyPSA network as a System (``gridprox.energy.pypsa_io.from_pypsa``)."""
    return pypsa_io.from_pypsa(n, name=name, meta={**meta, "name": name})


# ---------------------------------------------------------------- solving
def pypsa_optimum(n, solver_options: dict | None = None) -> dict:
    """Solve with HiGHS; objective, status, capacities and timings (build+solve, solver only)."""
    import pypsa

    logging.getLogger("linopy").setLevel(logging.WARNING)
    logging.getLogger("pypsa").setLevel(logging.WARNING)
    options = {"output_flag": False, **(solver_options or {})}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        status, condition = n.optimize(solver_name="highs", solver_options=options, progress=False)
    total = time.perf_counter() - t0
    model = n.model
    highs = getattr(model, "solver_model", None)
    caps = {}
    for comp, attr in (("generators", "p_nom_opt"), ("storage_units", "p_nom_opt"), ("stores", "e_nom_opt"),
                       ("links", "p_nom_opt")):
        df = getattr(n, comp)
        for idx, v in df[attr].items():
            caps[f"{comp}/{idx if isinstance(idx, str) else '/'.join(idx)}"] = float(v)
    return {"status": status, "condition": condition, "objective": float(n.objective),
            "pypsa_version": pypsa.__version__, "seconds_total": total,
            "seconds_solver": float(highs.getRunTime()) if hasattr(highs, "getRunTime") else math.nan,
            "variables": int(model.nvars), "constraints": int(model.ncons), "capacities": caps}


def main(argv=None):
    from gridprox.datasets import load_system

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("system")
    p.add_argument("--first", type=int, help="first N snapshots (weights rescaled to the full horizon)")
    p.add_argument("--scenario", help="scenario name or 'stochastic'")
    args = p.parse_args(argv)
    system = load_system(args.system)
    if args.first:
        system = system.first(args.first)
    res = pypsa_optimum(to_pypsa(system, args.scenario))
    print(f"{system.name}: status {res['status']} ({res['condition']}), objective {res['objective']!r}, "
          f"{res['variables']} variables, {res['constraints']} constraints, "
          f"{res['seconds_total']:.1f} s total, {res['seconds_solver']:.1f} s in HiGHS (PyPSA {res['pypsa_version']})")
    for k, v in res["capacities"].items():
        print(f"  {k:<40} {v:,.4f}")


if __name__ == "__main__":
    main()
