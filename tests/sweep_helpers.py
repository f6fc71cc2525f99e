"""A small real batch solver for the sweep-machinery tests (a 3-variable LP per scenario,
solved by scipy's HiGHS), importable by Dask workers."""
import numpy as np
from scipy.optimize import linprog


def solve_lp_batch(batch):
    """min cost·x s.t. x0 + x1 + x2 >= demand, x <= caps; rows with objective and x."""
    rows = []
    for s in batch:
        if s.get("explode"):
            raise RuntimeError(f"scenario with demand {s['demand']} exploded")
        res = linprog([s["gas_price"], 50.0, 80.0], A_ub=[[-1, -1, -1]], b_ub=[-s["demand"]],
                      bounds=[(0, 10), (0, 5), (0, None)], method="highs")
        rows.append({"status": "optimal" if res.status == 0 else "infeasible",
                     "objective": float(res.fun) if res.status == 0 else np.nan,
                     "x_gas": float(res.x[0]) if res.status == 0 else np.nan})
    return rows
