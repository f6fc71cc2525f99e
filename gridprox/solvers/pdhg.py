"""Backend "pdhg": LinearProgram (single or batch) -> torch tensors -> gridprox.lp's PDHG -> Result(s).

Duals come back in HiGHS's convention (y >= 0 at an active lower row bound, z = c − Aᵀy).
Residuals are recomputed here in float64 with ``LinearProgram.residuals`` (original units,
ℓ2, PDLP's relative definitions), whatever dtype the solve ran in, so a Result never claims
more accuracy than its x and y have: float32 stalls near 1e-6 relative, and below that a
solve ends "optimal_inaccurate" or "iteration_limit", never "optimal".
"""
from __future__ import annotations

import dataclasses
import time
from typing import Optional, Sequence

import numpy as np
import torch

from ..compile.lp import LinearProgram
from ..core.device import resolve_device, resolve_dtype
from ..lp import LPTensors, PDHGOptions, solve
from ..lp.options import DEFAULT_MAX_ITER, ITERATION_LIMIT, TIME_LIMIT
from ..core.sparse import SparseMatrixOperator
from ..errors import SolverError
from . import SolverInputError
from .result import Result

_OPTION_NAMES = {f.name for f in dataclasses.fields(PDHGOptions)}
# solve_pdhg's own keywords: how a batch is run, and the norms its measures and first weight are made of
_BATCH_OPTIONS = {"sequential", "width", "coordinates", "on_finish", "on_result", "norms", "weight_norms"}
_NOT_OPTIONS = _BATCH_OPTIONS | {"device", "dtype", "warm_start"}   # solve_pdhg's keywords outside PDHGOptions


def norms_of(lp: LinearProgram, scenarios: Sequence[int], rows=slice(None), cols=slice(None)):
    """(‖b‖, ‖c‖) of ``lp``'s ``scenarios`` (over ``rows`` and ``cols``) as ``solve_pdhg`` takes
    them (``norms``, ``weight_norms``): two (k,) arrays."""
    pairs = [(lp.scenario(k) if lp.is_batch else lp).norms(rows, cols) for k in scenarios]
    return tuple(np.array(v, dtype=float).reshape(-1) for v in zip(*pairs))


def _column(a: np.ndarray, dev, dt) -> torch.Tensor:
    """(n,) -> (n, 1); (B, n) -> (n, B) contiguous column layout; shared rows of a batch
    collapse to (n, 1) so the solver reads them once per iteration."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 2 and a.shape[0] > 1 and np.array_equal(a, np.broadcast_to(a[:1], a.shape)):
        a = a[0]
    t = torch.as_tensor(a, dtype=dt)
    t = t[:, None] if t.dim() == 1 else t.T
    return t.contiguous().to(dev)


def to_tensors(lp: LinearProgram, device, dtype) -> LPTensors:
    """The LP's data as column-layout tensors on ``device`` (A shared unless A_values)."""
    A = lp.A
    values = A.data if lp.A_values is None else lp.A_values
    op = SparseMatrixOperator.from_csr(A.indptr, A.indices, values, A.shape, device=device, dtype=dtype)
    c0 = torch.as_tensor(np.atleast_1d(np.asarray(lp.c0, dtype=float)), dtype=dtype, device=device)
    return LPTensors(op, _column(lp.c, device, dtype), _column(lp.lc, device, dtype),
                     _column(lp.uc, device, dtype), _column(lp.lx, device, dtype),
                     _column(lp.ux, device, dtype), c0)


def _warm_arrays(warm_start, B: Optional[int], n: Optional[int] = None, m: Optional[int] = None):
    """Accept a Result, a list of Results, (x, y) or (x, y, primal_weight) (single or
    batched rows; primal_weight a float or (B,), None/NaN for the default).  Returns
    (x, y, weight) with weight None or a float array.  With ``n`` and ``m`` (the LP's columns
    and rows) shapes are checked: x (n,) or (B, n), y (m,) or (B, m), a list of B Results;
    x and y must be finite.  Errors name the expected and the given shapes."""
    if warm_start is None:
        return None
    if isinstance(warm_start, Result):
        warm_start = (warm_start.x, warm_start.y, warm_start.primal_weight)
    elif isinstance(warm_start, Sequence) and warm_start and isinstance(warm_start[0], Result):
        if not all(isinstance(r, Result) for r in warm_start):
            raise SolverInputError("warm_start: a list of Results holds something else too")
        if B is not None and len(warm_start) != B:
            raise SolverInputError(f"warm_start has {len(warm_start)} Results but the LP batch has {B} scenarios")
        if B is None:
            raise SolverInputError(f"warm_start is a list of {len(warm_start)} Results but the LP is a single LP "
                                   "(pass one Result)")
        if any(r.x is None or r.y is None for r in warm_start):
            raise SolverInputError("warm_start has no x or y (a Result it came from had no solution)")
        shapes = {(np.shape(r.x), np.shape(r.y)) for r in warm_start}
        if len(shapes) > 1:
            raise SolverInputError(f"warm_start Results have x, y of different shapes {sorted(shapes)}")
        weights = [np.nan if r.primal_weight is None else r.primal_weight for r in warm_start]
        warm_start = (np.stack([r.x for r in warm_start]), np.stack([r.y for r in warm_start]),
                      None if np.isnan(weights).all() else np.asarray(weights, dtype=float))
    try:
        x, y, *rest = warm_start
        if len(rest) > 1:
            raise ValueError
    except (TypeError, ValueError):
        raise SolverInputError("warm_start must be a Result, a list of Results, (x, y) or (x, y, primal_weight)") from None
    if x is None or y is None:
        raise SolverInputError("warm_start has no x or y (the Result it came from had no solution)")
    try:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SolverInputError(f"warm_start x and y must be arrays of numbers ({exc})") from None
    if n is not None and m is not None:
        for name, a, size in (("x", x, n), ("y", y, m)):
            ok = (a.shape == (size,)) or (B is not None and a.shape == (B, size))
            if not ok:
                want = f"({size},)" + (f" or ({B}, {size})" if B is not None else "")
                raise SolverInputError(f"warm_start {name} has shape {a.shape}, expected {want}")
    if x.ndim == 2 and (B is None or x.shape[0] != B):
        raise SolverInputError(f"warm_start x has shape {x.shape} but the LP batch size is {B}")
    for name, a in (("x", x), ("y", y)):
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise SolverInputError(f"warm_start {name} has a non-finite value ({a[tuple(bad)]}) at index "
                                   f"{tuple(int(i) for i in bad) if a.ndim > 1 else int(bad[0])}")
    weight = rest[0] if rest else None
    if weight is not None:
        try:
            weight = np.asarray(weight, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise SolverInputError(f"warm_start primal_weight must be a number or (B,) numbers, got {weight!r}") from None
        if weight.size not in (1, B or 1):
            raise SolverInputError(f"warm_start primal_weight has {weight.size} entries but the LP batch size is {B}")
        if np.isnan(weight).all():
            weight = None
        elif not (np.isnan(weight) | (np.isfinite(weight) & (weight > 0))).all():
            raise SolverInputError(f"warm_start primal_weight must be positive and finite (NaN: default), got {weight}")
    return x, y, weight


def _plain(value):
    """numpy scalars as Python numbers (PDHGOptions checks Python types)."""
    return value.item() if isinstance(value, np.generic) else value


def pdhg_options(tol=1e-4, max_iter=None, time_limit=None, verbose=False, **advanced) -> PDHGOptions:
    """The PDHGOptions of ``solve_pdhg``'s keyword options (how a batch is run, the device, dtype
    and warm start left out); SolverInputError naming an unknown option or a bad value."""
    advanced = {k: v for k, v in advanced.items() if k not in _NOT_OPTIONS}
    unknown = set(advanced) - _OPTION_NAMES
    if unknown:
        raise SolverInputError(f"solve_pdhg: unknown option(s) {sorted(unknown)}; "
                               f"known: {sorted((_OPTION_NAMES - {'tol', 'max_iter', 'time_limit', 'verbose'}) | _BATCH_OPTIONS)}")
    try:
        return PDHGOptions(tol=_plain(tol), max_iter=_plain(max_iter), time_limit=_plain(time_limit),
                           verbose=_plain(verbose), **{k: _plain(v) for k, v in advanced.items()})
    except (TypeError, ValueError) as exc:
        raise SolverInputError(str(exc)) from None


def judged(status: str, residuals: dict, options: PDHGOptions, iterations: int) -> str:
    """The status a point's float64 measures (``LinearProgram.residuals``) support: "optimal" only
    where each is within tol (each row and column too with ``each_row``), "optimal_inaccurate"
    only within ``inaccurate_factor`` tol (else the limit that stopped it)."""
    if status not in ("optimal", "optimal_inaccurate") or not residuals:
        return status
    measures = ("primal", "dual", "gap") + (("row_rel", "col_rel") if options.each_row else ())
    worst = max(residuals[key] for key in measures if key in residuals) / options.tol
    if status == "optimal" and worst > 1 + 1e-6:
        return "optimal_inaccurate"      # float32, a borderline check, or measures of a presolved LP
    if status == "optimal_inaccurate" and worst > options.inaccurate_factor * (1 + 1e-6):
        # a limit's point is "close" when every measure is, each row and column too (the ℓ2 ones alone
        # can hide a row far off): otherwise the status is the limit itself, the point kept
        return ITERATION_LIMIT if iterations >= (options.max_iter or DEFAULT_MAX_ITER) else TIME_LIMIT
    return status


def _norms(name: str, norms, B: int) -> tuple[np.ndarray, np.ndarray]:
    """``norms`` = (‖b‖, ‖c‖), each a number or B of them, as two (B,) arrays; else SolverInputError."""
    try:
        pair = tuple(np.broadcast_to(np.asarray(v, dtype=float).reshape(-1), (B,)).copy() for v in norms)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or not all(np.isfinite(v).all() and (v >= 0).all() for v in pair):
        raise SolverInputError(f"{name} must be (‖b‖, ‖c‖): two finite numbers >= 0 or {B} of each, got {norms!r}")
    return pair


def _prepare(lp: LinearProgram, tol, max_iter, time_limit, device, dtype, warm_start, verbose, advanced: dict):
    """Every check of ``solve_pdhg``'s options that needs no solve, in one place (``solve_lp``
    runs it before its presolve through ``check_options``).  Returns (PDHGOptions, device,
    dtype, warm arrays, batch options)."""
    advanced = dict(advanced)
    batch = {name: advanced.pop(name, None) for name in _BATCH_OPTIONS}
    batch["sequential"] = bool(batch["sequential"]) if batch["sequential"] is not None else False
    width = batch["width"] = _plain(batch["width"])
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
        raise SolverInputError(f"width must be a positive integer (scenarios iterated at once), got {width!r}")
    for name in ("on_finish", "on_result"):
        if batch[name] is not None and not callable(batch[name]):
            raise SolverInputError(f"{name} must be callable, got {batch[name]!r}")
    options = pdhg_options(tol=tol, max_iter=max_iter, time_limit=time_limit, verbose=verbose, **advanced)
    if not isinstance(lp, LinearProgram):
        raise SolverError(f"solve_pdhg expects a gridprox LinearProgram, got {type(lp).__name__}")
    coordinates = batch["coordinates"]
    if coordinates is not None:
        try:
            coordinates = np.asarray(coordinates, dtype=float)
        except (TypeError, ValueError):
            raise SolverInputError(f"coordinates must be a finite (B, d) array, got {coordinates!r}") from None
        coordinates = coordinates[:, None] if coordinates.ndim == 1 else coordinates
        if coordinates.ndim != 2 or coordinates.shape[0] != (lp.batch_size or 1) or not np.isfinite(coordinates).all():
            raise SolverInputError(f"coordinates must be a finite (B, d) array with B = {lp.batch_size}, "
                                   f"got shape {coordinates.shape}")
        batch["coordinates"] = coordinates
    for name in ("norms", "weight_norms"):
        if batch[name] is not None:
            batch[name] = _norms(name, batch[name], lp.batch_size or 1)
    try:
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
    except SolverError as exc:
        raise SolverInputError(str(exc)) from None
    except (TypeError, ValueError, RuntimeError) as exc:
        raise SolverInputError(f"device={device!r}, dtype={dtype!r}: {exc}") from None
    if options.cuda_graphs and dev.type != "cuda":
        raise SolverInputError(f"PDHGOptions.cuda_graphs=True needs a CUDA device (device is {dev.type!r})")
    warm = _warm_arrays(warm_start, lp.batch_size, lp.num_vars, lp.num_rows)
    return options, dev, dt, warm, batch


def check_options(lp: LinearProgram, *, tol: float = 1e-4, max_iter: Optional[int] = None,
                  time_limit: Optional[float] = None, device="auto", dtype=None, warm_start=None,
                  verbose: bool = False, **advanced_options) -> None:
    """Raise SolverInputError naming the option when ``solve_pdhg(lp, ...)`` would refuse
    these options (names, types, ranges, device, dtype, warm-start shapes); solves nothing."""
    _prepare(lp, tol, max_iter, time_limit, device, dtype, warm_start, verbose, advanced_options)


def solve_pdhg(lp: LinearProgram, *, tol: float = 1e-4, max_iter: Optional[int] = None,
               time_limit: Optional[float] = None, device="auto", dtype=None, warm_start=None,
               verbose: bool = False, **advanced_options):
    """Solve ``lp`` (one LP or a batch) with gridprox's PDHG.

    Returns a Result, or a list of Results (one per scenario) for a batch.
    ``warm_start``: a Result, a list of Results, or (x, y) arrays ((B, n), (B, m) for a batch),
    or (x, y, primal_weight) with ``Result.primal_weight`` values (a float or (B,)); Results
    carry their primal weight, which is what makes a warm start from a converged or nearby
    solution cheap (tests/test_pdhg_warm.py).
    Advanced options are the fields of ``gridprox.lp.PDHGOptions`` (threads, native,
    cuda_graphs, check_every, ruiz_iters, pc_alpha, infeasibility_tol, ...) plus
    ``sequential=True``: solve a batch one scenario at a time, each warm-started from the
    previous solution (for sweeps whose scenarios are close); ``width=W``: stream a batch
    through W columns, a waiting scenario entering as one finishes, nearest to it by
    ``coordinates`` ((B, d) array, default the index) and started from the scenarios solved
    before it (``gridprox.lp.schedule``); its iterations, seconds and limits count from
    when it entered; ``on_finish(count)`` is called as scenarios finish (progress), and
    ``on_result(k, result)`` with each scenario's Result as soon as it has one; ``norms=(‖b‖, ‖c‖)``
    (numbers or (B,) arrays): the denominators of PDLP's relative measures in place of the LP's
    own, and ``weight_norms`` likewise those of the initial primal weight ω₀ = (1 + ‖c‖)/(1 + ‖b‖),
    so that an LP a presolve reduced stops on the test of the LP it came from, and a fixed
    column's activity moved into its bounds does not set its weight (``solve_lp``).
    Options are checked before any work (``check_options``): an unknown name, a value of the
    wrong type or range, an unavailable device or a warm start of the wrong shape or with
    NaN/inf raise ``SolverInputError`` (a SolverError and a ValueError) naming it."""
    t0 = time.perf_counter()
    options, dev, dt, warm, batch = _prepare(lp, tol, max_iter, time_limit, device, dtype, warm_start,
                                             verbose, advanced_options)
    sequential, width, coordinates = batch["sequential"], batch["width"], batch["coordinates"]
    on_finish, on_result = batch["on_finish"], batch["on_result"]
    norms = {name: batch[name] for name in ("norms", "weight_norms")}
    lp = lp.validate().with_infinite_bounds()

    if sequential and lp.is_batch:
        results, prev = [], warm
        for k in range(lp.batch_size):
            w = None if prev is None else _scenario_warm(prev, k)
            report = None if on_result is None else (lambda _, r, k=k: on_result(k, r))
            own = {name: None if v is None else tuple(a[k:k + 1] for a in v) for name, v in norms.items()}
            res = _solve_once(lp.scenario(k), options, dev, dt, w, time.perf_counter(), on_finish, report, **own)
            results.append(res)
            if res.x is not None and np.all(np.isfinite(res.x)):
                prev = (res.x, res.y, None if res.primal_weight is None else np.array([res.primal_weight]))
        return results
    stream = {"width": int(width), "coordinates": coordinates} if width is not None and lp.is_batch else {}
    return _solve_once(lp, options, dev, dt, warm, t0, on_finish, on_result, **norms, **stream)


def _scenario_warm(warm, k: int):
    """Scenario k's part of (x, y, weight) arrays (rows for a batch, shared otherwise)."""
    x, y, weight = warm
    pick = lambda a: a[k] if a.ndim == 2 else a  # noqa: E731
    if weight is not None and weight.size > 1:
        weight = weight[k:k + 1]
    return pick(x), pick(y), weight


def _solve_once(lp: LinearProgram, options: PDHGOptions, dev, dt, warm, t0, on_finish=None, on_result=None,
                norms=None, weight_norms=None, **stream):
    data = to_tensors(lp, dev, dt)
    ws = None
    if warm is not None:
        x, y, weight = warm
        ws = tuple(torch.as_tensor(a.T if a.ndim == 2 else a, dtype=dt, device=dev) for a in (x, y))
        ws += (None if weight is None else torch.as_tensor(weight, dtype=dt, device=dev),)
    offset = time.perf_counter() - t0
    scenarios = lp.scenarios()
    results = [None] * len(scenarios)

    def finished(ids, sol):
        for k in ids:
            results[k] = _result(scenarios[k], k, sol, options, offset, dt)
            if on_result is not None:
                on_result(k, results[k])
        if on_finish is not None:
            on_finish(len(ids))

    solve(data, options, ws, on_finish=finished, norms=norms, weight_norms=weight_norms, **stream)
    return results if lp.is_batch else results[0]


def _result(lp: LinearProgram, k: int, sol, options: PDHGOptions, offset: float, dt) -> Result:
    """Scenario ``k``'s Result, its residuals recomputed in float64 from x and y."""
    status = sol.status[k]
    has_point = status not in ("infeasible", "unbounded", "infeasible_or_unbounded")
    x, y, z = (t[k].detach().cpu().numpy().astype(float) for t in (sol.x, sol.y, sol.z))
    res = {key: float(v) for key, v in lp.residuals(x, y).items()}
    for key in ("primal", "dual", "gap"):
        res["solver_" + key] = float(sol.residuals[key][k])
    if has_point:
        status = judged(status, res, options, int(sol.iterations[k]))
    weight = float(sol.primal_weight[k])
    msg = f"PDHG dtype={dt}" + (f" threads={torch.get_num_threads()}" if sol.x.device.type == "cpu" else "")
    return Result(status=status, x=x if has_point else None, y=y if has_point else None, z=z if has_point else None,
                  objective=float(lp.objective(x)) if has_point else float("nan"),
                  iterations=int(sol.iterations[k]), seconds=offset + float(sol.seconds[k]),
                  residuals=res if has_point else {}, solver="pdhg", message=msg,
                  primal_weight=weight if has_point and np.isfinite(weight) else None)
