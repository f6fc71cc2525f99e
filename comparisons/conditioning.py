"""What the planning LP's structure does to PDHG's iteration count (issue 25 item 5).

Variants of a bundled system, each solved by PDHG to PDLP's ℓ2 measures at ``--tol`` (the
stopping rule a crossover polish starts from) with an iteration cap, against the unchanged
model: horizons (a storage chain's conditioning grows with its length), without the seasonal
(hydrogen) or the daily (battery) storage, and with tie-breaker costs on free dispatch.
Iteration counts are deterministic; seconds are this machine's, noisy.

    python comparisons/conditioning.py [--system model-energy] [--hours 168,720] [--tol 1e-4]

``--active-set`` measures instead what an active-set step boost (cuPDLPx's ASB: a step
0.9/‖Ã_BF‖₂ once the clamped columns and slack rows are known) could gain at best: ‖Ã‖₂ of the
scaled matrix against ‖Ã‖₂ restricted to the rows and columns still active at HiGHS's optimum.
``--primal-weights 0.1,0.01`` runs, for each weight f, PDHG with the PID controller started at
f·ω₀ (``warm_start=(0, 0, f)``) and with ω held at f·ω₀ throughout (the PID update replaced for
that run), beside the default (PID from ω₀), on each system and horizon.
``--skip-rows "8;8,56;all"`` appends, for each spec, redundant rows to every storage chain (the
level's balance rows summed over consecutive windows of that many snapshots, weighted so the
intermediate levels cancel: e_{t+k} - e_t = the window's flows), shortcuts along the chain that
the unchanged rows propagate one snapshot per iteration; "all" is one row over the whole chain.
``--fixed-capacities`` solves each system and horizon with its capacity columns (those before the
first dispatch variable) fixed at HiGHS's optimum, against the LP as built (with ``--each`` also each one alone and all but
each one); it tells the coupling of capacities and operation from the operation alone.
``--restart-fractions 0.2,0.3`` runs PDHG with each Halpern restart fraction (``RESTART_SUFFICIENT``:
restart when the fixed-point error fell to this fraction of the epoch's first), on each system and
horizon and on ``gridprox.synthetic``'s capacity-expansion LP with the seeds of ``--seeds`` (whose
profiles the constants were not tuned on), at each tolerance of ``--tols``.
``--tail-weights 1,0.5 --instances synthetic:seed2,pypsa:three-country@2920`` solves each instance of
``comparisons/real_models.py`` by the default PDHG (per-row test and feasibility polishing on), with
each restart's new primal weight multiplied by f once the scenario's first polish attempt is made
(it met PDLP's ℓ2 measures): the tail, where the dual side lags, run at another weight.
``--level-basis`` writes every storage level in a hierarchical basis of hat functions, e = H z
(per chain: a constant, or for a non-cyclic chain a ramp from its initial level, then hats at the
midpoints of repeatedly halved intervals, ~log2 T of them covering each snapshot).  H's columns,
differenced along the chain, are orthogonal, so diagonal scaling can make the chain rows perfectly
conditioned; the levels' bounds become rows H z within them.  PDHG on the transformed LP against
the LP as built, judged on the LP as built (x = H z, the original rows' y).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch

from gridprox import datasets
from gridprox.core.sparse import SparseMatrixOperator
from gridprox.lp.options import PDHGOptions
from gridprox.lp.precondition import precondition
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp


def variants(system):
    """{label: System}: the data as shipped and one change each."""
    out = {"as shipped": system}
    if len(system.stores):
        s = system.copy()
        hydrogen = set(s.stores["bus"])
        s.stores = s.stores.iloc[0:0]
        s.links = s.links[~(s.links["bus0"].isin(hydrogen) | s.links["bus1"].isin(hydrogen))]
        out["no stores (no seasonal storage)"] = s
    if len(system.storage_units):
        s = system.copy()
        s.storage_units = s.storage_units.iloc[0:0]
        out["no storage units (no battery)"] = s
    for cost in (0.01, 1.0):
        s = system.copy()
        for table in ("generators", "storage_units", "links"):
            df = getattr(s, table).copy()
            if "marginal_cost" in df:
                free = df["marginal_cost"].fillna(0.0) == 0.0
                df.loc[free, "marginal_cost"] = cost
                setattr(s, table, df)
        out[f"tie-breaker {cost:g}/MWh on free dispatch"] = s
    return out


def _lp(system_name: str, hours: int):
    return CapacityExpansion(datasets.load_system(system_name), hours=hours).lp()


def _gap(res, ref) -> float:
    """The relative objective gap of ``res`` to the reference optimum ``ref``."""
    return abs(res.objective - ref.objective) / max(abs(ref.objective), 1.0)


def run(system_name: str, hours: list, tol: float, max_iter: int) -> list:
    rows = []
    system = datasets.load_system(system_name)
    for h in hours:
        for label, s in variants(system).items():
            lp = CapacityExpansion(s, hours=h).lp()
            ref = solve_lp(lp, "highs", method="simplex")
            t0 = time.perf_counter()
            res = solve_lp(lp, "pdhg", tol=tol, max_iter=max_iter, each_row=False)
            seconds = time.perf_counter() - t0
            rows.append((h, label, lp.A.shape, res.status, res.iterations, seconds, _gap(res, ref),
                         res.residuals.get("row_rel", np.nan)))
            print("| " + " | ".join(_cells(rows[-1])) + " |", flush=True)
    return rows


def _near(v, bound, tol=1e-7):
    return np.isfinite(bound) & (np.abs(v - bound) <= tol * (1.0 + np.abs(np.where(np.isfinite(bound), bound, 0))))


def active_set_norm(lp):
    """(‖Ã‖₂, ‖Ã_BF‖₂, clamped columns, slack rows) at HiGHS's optimum: Ã scaled as PDHG scales it,
    B the rows not strictly slack, F the columns not held at a bound by a nonzero reduced cost."""
    ref = solve_lp(lp, "highs", method="simplex")
    A = sp.csr_matrix(lp.A)
    opts = PDHGOptions()
    op = SparseMatrixOperator.from_csr(torch.as_tensor(A.indptr), torch.as_tensor(A.indices),
                                       torch.as_tensor(A.data), A.shape)
    _, d_row, d_col = precondition(op, opts.ruiz_iters, opts.pc_alpha)
    scaled = (sp.diags(d_row.numpy().ravel()) @ A @ sp.diags(d_col.numpy().ravel())).tocsr()
    x, y = np.asarray(ref.x), np.asarray(ref.y)
    ax, z = A @ x, lp.c - A.T @ y
    small = 1e-9 * max(1.0, np.abs(lp.c).max())
    lo, hi = _near(x, lp.lx), _near(x, lp.ux)
    clamped = (lo & hi) | (lo & (z > small)) | (hi & (z < -small))
    slack = (lp.lc != lp.uc) & ~_near(ax, lp.lc) & ~_near(ax, lp.uc)
    norm = lambda M: sla.svds(M, k=1, return_singular_vectors=False, tol=1e-6)[0]  # noqa: E731
    return norm(scaled), norm(scaled[~slack][:, ~clamped]), int(clamped.sum()), int(slack.sum())


def primal_weights(lp, weights: list, tol: float, max_iter: int):
    """Rows (variant, status, iterations, relative objective gap) of PDHG to the ℓ2 measures."""
    from gridprox.lp import method

    ref = solve_lp(lp, "highs", method="simplex")
    zero = (np.zeros(lp.A.shape[1]), np.zeros(lp.A.shape[0]))
    pid = method.primal_weight
    rows = []
    for label, f, held in [("PID from ω₀ (default)", None, False)] + [
            (f"{kind} {f:g}·ω₀", f, kind == "held at") for f in weights for kind in ("PID from", "held at")]:
        if held:
            method.primal_weight = lambda s, restart, sums, metrics: s.omega
        try:
            res = solve_lp(lp, "pdhg", tol=tol, max_iter=max_iter, each_row=False, threads=1,
                           **({} if f is None else {"warm_start": (*zero, f)}))
        finally:
            method.primal_weight = pid
        rows.append((label, res.status, res.iterations, _gap(res, ref)))
    return rows


def print_tail_weights(args):
    """Iterations to the default test with the PID's weight scaled by f after the first polish attempt."""
    from gridprox.lp import method

    try:
        from .real_models import cache_folder, load_instance
    except ImportError:
        from real_models import cache_folder, load_instance
    factors = [float(f) for f in args.tail_weights.split(",")]
    pid = method.primal_weight

    def scaled(f):
        def weight(s, restart, sums, metrics):
            new = pid(s, restart, sums, metrics)
            attempted = torch.isfinite(s.pol_bounds).any(0, keepdim=True)
            return torch.where(attempted & restart, f * new, new)
        return weight
    print(f"PDHG at tol {args.tol:g} (default tests, polishing on), at most {args.max_iter:,} iterations; "
          "iterations (status when not optimal)")
    print("| instance | " + " | ".join(f"f = {f:g}" for f in factors) + " |")
    print("|---|" + "---:|" * len(factors))
    for spec in args.instances.split(","):
        lp, cells = load_instance(spec, cache_folder(None)).lp, []
        for f in factors:
            method.primal_weight = scaled(f)
            try:
                res = solve_lp(lp, "pdhg", tol=args.tol, max_iter=args.max_iter)
            finally:
                method.primal_weight = pid
            cells.append(f"{res.iterations:,}" + ("" if res.status == "optimal" else f" ({res.status})"))
        print(f"| {spec} | " + " | ".join(cells) + " |", flush=True)


def restart_fractions(lp, fractions: list, tols: list, max_iter: int):
    """{(fraction, tol): (status, iterations, relative objective gap)} of PDHG to the ℓ2 measures."""
    from gridprox.lp import method

    ref = solve_lp(lp, "highs", method="simplex")
    kept, out = method.RESTART_SUFFICIENT, {}
    for f in fractions:
        method.RESTART_SUFFICIENT = f
        try:
            for tol in tols:
                res = solve_lp(lp, "pdhg", tol=tol, max_iter=max_iter, each_row=False, threads=1)
                out[f, tol] = (res.status, res.iterations, _gap(res, ref))
        finally:
            method.RESTART_SUFFICIENT = kept
    return out


def storage_chains(model, lp):
    """[(rows, levels)] for each storage level of ``model``: for t >= 1 the equality row holding
    level t-1 and level t, and level t's column, in time order."""
    A, eq = lp.A.tocsc(), lp.lc == lp.uc
    rows_of = lambda j: set(A.indices[A.indptr[j]:A.indptr[j + 1]])  # noqa: E731
    out = []
    for name in ("store_e", "state_of_charge"):
        if name not in model.vars:
            continue
        v = model.vars[name]
        entries = model.pp.var_offsets[v.id] + v._from_entries(np.arange(v._columns))   # (T, units)
        for cols in entries.T:
            links = [[i for i in rows_of(cols[t]) & rows_of(cols[t - 1]) if eq[i]] for t in range(1, len(cols))]
            if all(len(r) == 1 for r in links):
                out.append((np.array([r[0] for r in links]), cols[1:]))
    return out


def with_skip_rows(lp, chains, windows):
    """``lp`` with, for each chain and window k, the sums of its rows over consecutive windows of k
    (weights cancelling the intermediate levels); each new row scaled to a largest entry of 1."""
    A, new, rhs = lp.A.tocsr(), [], []
    for rows, cols in chains:
        w = np.ones(len(rows))
        for t in range(len(rows) - 1):
            w[t + 1] = -w[t] * A[rows[t], cols[t]] / A[rows[t + 1], cols[t]]
        for k in (len(rows) if k == "all" else int(k) for k in windows):
            for a in range(0, len(rows) - k + 1, k):
                row = sp.csr_matrix(sp.csr_matrix(w[a:a + k]) @ A[rows[a:a + k]])
                row.data[np.abs(row.data) < 1e-12 * np.abs(row.data).max()] = 0.0   # the cancelled levels
                row.eliminate_zeros()
                scale = np.abs(row.data).max()
                new.append(row / scale)
                rhs.append(w[a:a + k] @ lp.lc[rows[a:a + k]] / scale)
    if not new:
        return lp
    rhs = np.array(rhs)
    return replace(lp, A=sp.vstack([A] + new).tocsr(), lc=np.r_[lp.lc, rhs], uc=np.r_[lp.uc, rhs], row_names=None)


def hat_basis(T: int, cyclic: bool) -> sp.csr_matrix:
    """H (T x T): column 0 (cyclic: constant) or T-1 (a ramp from the level before snapshot 0,
    which the LP holds as a constant), then a hat at the midpoint of each interval, halved again."""
    t = np.arange(T)
    rows, cols, vals = [t], [np.zeros(T, int) if cyclic else np.full(T, T - 1)], [np.ones(T) if cyclic else (t + 1) / T]
    stack = [(0, T)] if cyclic else [(-1, T - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        m = (a + b) // 2
        left, right = np.arange(a + 1, m + 1), np.arange(m + 1, b)
        r, v = np.r_[left, right], np.r_[(left - a) / (m - a), (b - right) / (b - m)]
        rows.append(r % T), cols.append(np.full(r.size, m % T)), vals.append(v)
        stack += [(a, m), (m, b)]
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(T, T))


def with_level_basis(model, lp):
    """(the LP in z, the n x n map x = M z): storage levels in ``hat_basis``, their bounds as rows."""
    from gridprox.energy.multilevel import LEVELS

    n = lp.num_vars
    level = np.zeros(n, bool)
    blocks = []
    for name, (table, cyclic_col, _) in LEVELS.items():
        if name not in model.vars:
            continue
        v = model.vars[name]
        grid = model.pp.var_offsets[v.id] + v._from_entries(np.arange(v._columns))       # (T, units)
        for cols, cyclic in zip(grid.T, model.comp[table].df[cyclic_col].to_numpy(bool)):
            H = hat_basis(len(cols), bool(cyclic)).tocoo()
            blocks.append(sp.coo_matrix((H.data, (cols[H.row], cols[H.col])), shape=(n, n)))
            level[cols] = True
    M = sp.csr_matrix(sp.diags((~level).astype(float)) + sum(blocks, sp.csr_matrix((n, n))))
    lev = np.flatnonzero(level & (np.isfinite(lp.lx) | np.isfinite(lp.ux)))
    pick = sp.csr_matrix((np.ones(lev.size), (np.arange(lev.size), lev)), shape=(lev.size, n))
    lx, ux = lp.lx.copy(), lp.ux.copy()
    lx[level], ux[level] = -np.inf, np.inf
    return replace(lp, c=M.T @ lp.c, A=sp.vstack([lp.A @ M, pick @ M]).tocsr(), lc=np.r_[lp.lc, lp.lx[lev]],
                   uc=np.r_[lp.uc, lp.ux[lev]], lx=lx, ux=ux, var_names=None, row_names=None), M


def print_level_basis(args):
    print(f"PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations; measured on the LP as built")
    print("| system | snapshots | levels | nonzeros | status | iterations | rel. objective gap | worst row_rel |")
    print("|---|---:|---|---:|---|---:|---:|---:|")
    for system, h, model, lp, ref in _models(args):
        big, M = with_level_basis(model, lp)
        for label, L in (("as built", lp), ("hat basis", big)):
            res = solve_lp(L, "pdhg", tol=args.tol, max_iter=args.max_iter, each_row=False)
            x = res.x if L is lp else M @ res.x      # c·x and c0 are the same in z (c_z = Mᵀc)
            print(f"| {system} | {h} | {label} | {L.A.nnz:,} | {res.status} | {res.iterations:,} | {_gap(res, ref):.1e} "
                  f"| {lp.residuals(x)['row_rel']:.1e} |", flush=True)


def print_skip_rows(args):
    specs = [[k for k in spec.split(",") if k] for spec in args.skip_rows.split(";")]
    print(f"PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations, one thread")
    print("| system | snapshots | windows | rows added | status | iterations | rel. objective gap |")
    print("|---|---:|---|---:|---|---:|---:|")
    for system, h, model, lp, ref in _models(args):
        chains = storage_chains(model, lp)
        for windows in specs:
            big = with_skip_rows(lp, chains, windows)
            res = solve_lp(big, "pdhg", tol=args.tol, max_iter=args.max_iter, each_row=False, threads=1)
            print(f"| {system} | {h} | {','.join(windows) or 'none'} | {big.num_rows - lp.num_rows:,} | {res.status} "
                  f"| {res.iterations:,} | {_gap(res, ref):.1e} |", flush=True)


def print_fixed_capacities(args):
    print(f"PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations, one thread; the gap is to "
          "HiGHS's optimum of the same LP (capacities fixed or not)")
    print("| system | snapshots | capacity columns fixed | status | iterations | rel. objective gap |")
    print("|---|---:|---|---|---:|---:|")
    for system, h, model, lp, optimum in _models(args):
        k = min(model.pp.var_offsets[v.id] for v in model.vars.values())
        x = optimum.x
        cases = [("none", []), ("all", list(range(k)))] + [(f"column {j}", [j]) for j in range(k) if args.each] + [
            (f"all but column {j}", [i for i in range(k) if i != j]) for j in range(k) if args.each]
        for label, fix in cases:
            lx, ux = lp.lx.copy(), lp.ux.copy()
            lx[fix] = ux[fix] = x[fix]
            sub = replace(lp, lx=lx, ux=ux)
            ref = solve_lp(sub, "highs", method="simplex")
            res = solve_lp(sub, "pdhg", tol=args.tol, max_iter=args.max_iter, each_row=False, threads=1)
            print(f"| {system} | {h} | {label} | {res.status} | {res.iterations:,} | {_gap(res, ref):.1e} |", flush=True)


def _cells(row):
    h, label, shape, status, its, seconds, gap, row_rel = row
    return [str(h), label, f"{shape[1]:,} x {shape[0]:,}", status, f"{its:,}", f"{seconds:.1f}", f"{gap:.1e}",
            f"{row_rel:.1e}"]


def _pairs(args):
    """(system, snapshots) for every system and horizon asked for."""
    return [(system, int(h)) for system in args.system.split(",") for h in args.hours.split(",")]


def _models(args):
    """(system, snapshots, model, its LP, HiGHS's simplex answer) for every system and horizon asked for."""
    for system, h in _pairs(args):
        model = CapacityExpansion(datasets.load_system(system), hours=h)
        lp = model.lp()
        yield system, h, model, lp, solve_lp(lp, "highs", method="simplex")


def print_restart_fractions(args):
    from gridprox.synthetic import capacity_expansion_lp

    fr, tols = [float(f) for f in args.restart_fractions.split(",")], [float(t) for t in args.tols.split(",")]
    print(f"PDHG to the l2 measures, at most {args.max_iter:,} iterations, one thread; iterations per restart fraction")
    print("| instance | tol | " + " | ".join(f"{f:g}" for f in fr) + " |")
    print("|---|---|" + "---:|" * len(fr))
    instances = [(f"{system} {h} h", lambda system=system, h=h: _lp(system, h)) for system, h in _pairs(args)]
    instances += [(f"synthetic seed {k}, {h} h", lambda k=k, h=h: capacity_expansion_lp(1, h, seed=k))
                  for k in (int(k) for k in args.seeds.split(",") if k) for h in (int(h) for h in args.hours.split(","))]
    for label, build in instances:
        got = restart_fractions(build(), fr, tols, args.max_iter)
        for tol in tols:
            cells = [f"{got[f, tol][1]:,}" if got[f, tol][0] == "optimal" else
                     f"{got[f, tol][0]} (gap {got[f, tol][2]:.0e})" for f in fr]
            print(f"| {label} | {tol:g} | " + " | ".join(cells) + " |", flush=True)


def print_primal_weights(args):
    weights = [float(w) for w in args.primal_weights.split(",")]
    print(f"PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations, one thread")
    print("| system | snapshots | primal weight | status | iterations | rel. objective gap |")
    print("|---|---:|---|---|---:|---:|")
    for system, h in _pairs(args):
        for label, status, its, gap in primal_weights(_lp(system, h), weights, args.tol, args.max_iter):
            print(f"| {system} | {h} | {label} | {status} | {its:,} | {gap:.1e} |", flush=True)


def print_active_set(args):
    print("| system | snapshots | ‖Ã‖₂ | ‖Ã_BF‖₂ at the optimum | ratio | clamped columns | slack rows |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for system, h in _pairs(args):
        full, active, clamped, slack = active_set_norm(_lp(system, h))
        print(f"| {system} | {h} | {full:.3f} | {active:.3f} | {full / active:.2f} | {clamped:,} | {slack:,} |",
              flush=True)


def print_variants(args):
    print(f"{args.system}, PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations")
    print("| snapshots | variant | vars x rows | status | iterations | seconds | rel. objective gap | worst row_rel |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    run(args.system, [int(h) for h in args.hours.split(",")], args.tol, args.max_iter)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="model-energy", help="comma list of bundled systems")
    ap.add_argument("--hours", default="168,720", help="comma-separated snapshot counts (first N)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--max-iter", type=int, default=400_000)
    ap.add_argument("--active-set", action="store_true", help="norms at the optimum's active set instead")
    ap.add_argument("--primal-weights", help="comma list of f: PDHG from f·ω0 and held at f·ω0, beside the default")
    ap.add_argument("--restart-fractions", help="comma list of Halpern restart fractions to compare")
    ap.add_argument("--skip-rows", help='semicolon list of window lists, e.g. "8;8,56;all" (empty: none)')
    ap.add_argument("--fixed-capacities", action="store_true", help="capacity columns fixed at the optimum")
    ap.add_argument("--each", action="store_true", help="with --fixed-capacities: each column, and all but each")
    ap.add_argument("--tail-weights", help="comma list of f: the primal weight times f after the first polish")
    ap.add_argument("--instances", default="synthetic:seed2,pypsa:three-country@2920",
                    help="with --tail-weights: instances as comparisons/real_models.py names them")
    ap.add_argument("--level-basis", action="store_true", help="storage levels in a hierarchical hat basis")
    ap.add_argument("--tols", default="1e-4", help="with --restart-fractions: comma list of tolerances")
    ap.add_argument("--seeds", default="1,2,3", help="with --restart-fractions: synthetic seeds (empty: none)")
    args = ap.parse_args(argv)
    if args.fixed_capacities:
        print_fixed_capacities(args)
    elif args.tail_weights:
        print_tail_weights(args)
    elif args.level_basis:
        print_level_basis(args)
    elif args.skip_rows is not None:
        print_skip_rows(args)
    elif args.restart_fractions:
        print_restart_fractions(args)
    elif args.primal_weights:
        print_primal_weights(args)
    elif args.active_set:
        print_active_set(args)
    else:
        print_variants(args)


if __name__ == "__main__":
    main()
