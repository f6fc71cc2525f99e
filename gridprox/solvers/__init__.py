"""Backends behind one Result type, and ``solve_lp``: the one entry point that validates
a LinearProgram and hands it to a backend.

Backends are imported lazily (name -> module, function), so a missing optional
package (gurobipy) only matters when that backend is asked for.  Backends without
native batching get a batch one scenario at a time; the caller always receives one
Result for a single LP and a list of Results for a batch.
"""
from __future__ import annotations

import importlib
import math
import os
import warnings
from dataclasses import replace

import numpy as np

from ..compile.lp import LinearProgram
from ..errors import SolverError
from . import result as st
from .result import Result  # noqa: F401


class SolverInputError(SolverError, ValueError):
    """``solve_lp`` refused its input before any work: an option with an unknown name or a
    value of the wrong type or range, an unavailable device, a warm start of the wrong shape
    or not finite, or LP data whose magnitudes no float64 solver can use.  One line naming
    the culprit.  Both a SolverError (as unknown solvers and options always were) and a
    ValueError (as bad values always were)."""


class BadScalingWarning(UserWarning):
    """An LP is badly scaled for PDHG (one line: the entries and their range)."""


# magnitudes (solve_lp's up-front checks; measured, see _check_magnitudes)
HUGE = 1e20          # |c| or |A| at or above: refused (HiGHS reads a cost >= 1e20 as infinite)
HIGHS_MAX_MATRIX = 1e15      # HiGHS refuses |A| >= this (its large_matrix_value)
TINY = 1e-9          # |A| at or below is noise to HiGHS (its small_matrix_value); not counted in ranges
PDHG_RANGE = 1e9     # largest/smallest |c| or |A| (entries above TINY) beyond: PDHG warns
PDHG_BOUND = 1e15    # a finite bound beyond: PDHG warns (its relative tolerances scale with the bounds)


# name -> (module under gridprox.solvers, function, solves a whole batch natively)
_BACKENDS = {
    "highs": ("highs", "solve_highs", False),
    "pdhg": ("pdhg", "solve_pdhg", True),
    "cvxpy": ("cvxpy_backend", "solve_cvxpy", False),
    "gurobi": ("gurobi", "solve_gurobi", False),
    "concurrent": ("race", "solve_concurrent", False),     # HiGHS's simplex raced against PDHG + crossover
}


def attach_solution(out: Result, lp: LinearProgram, x, y=None, z=None) -> Result:
    """Fill a backend's Result with x, y, z (= c − Aᵀy unless given), c·x + c0 and the
    relative KKT residuals, all measured on ``lp`` by gridprox itself."""
    out.x = np.asarray(x, dtype=float)
    if y is not None:
        out.y = np.asarray(y, dtype=float)
        out.z = lp.c - lp.A.T @ out.y if z is None else np.asarray(z, dtype=float)
    out.objective = lp.objective(out.x)
    out.residuals = lp.residuals(out.x, out.y)
    return out


def available_solvers() -> list[str]:
    """Names accepted by ``solve_lp(solver=...)`` (whether each one's package is installed
    is checked when it is used)."""
    return sorted(_BACKENDS)


def _backend(name: str):
    module_name, func_name, batched = _BACKENDS[name]
    full = f"{__name__}.{module_name}"
    try:
        module = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise
        raise SolverError(f"solver {name!r} is not available: module {full} is missing") from exc
    func = getattr(module, func_name, None)
    if func is None:
        raise SolverError(f"solver {name!r} is not available: {full}.{func_name} is missing")
    return func, batched


def _real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _integer(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_common_options(solver: str, options: dict) -> None:
    """gridprox's own option names, one rule on every backend: ``tol`` a number in (0, 1),
    ``max_iter`` an integer >= 1, ``time_limit`` seconds > 0 (inf: none), ``threads`` an
    integer >= 1 (PDHG also "auto"), ``verbose`` True/False; and no option is NaN.  None
    means the default for each.  Raises SolverInputError naming the option and value."""
    def bad(name, value, rule):
        return SolverInputError(f"{solver}: option {name}={value!r} {rule}")

    for name, value in options.items():
        if _real(value) and math.isnan(value):
            raise bad(name, value, "is NaN")
    rules = {
        "tol": (lambda v: _real(v) and 0 < v < 1, "must be a number in (0, 1) (a relative tolerance)"),
        "max_iter": (lambda v: _integer(v) and v >= 1, "must be an integer >= 1"),
        "time_limit": (lambda v: _real(v) and v > 0, "must be a number of seconds > 0 (inf for none)"),
        "threads": (lambda v: (_integer(v) and v >= 1) or (solver == "pdhg" and v == "auto"),
                    "must be an integer >= 1" + (' or "auto"' if solver == "pdhg" else "")),
        "verbose": (lambda v: isinstance(v, (bool, np.bool_, int, np.integer)) and v in (0, 1), "must be True or False"),
    }
    for name, (ok, rule) in rules.items():
        value = options.get(name)
        if value is not None and not ok(value):
            raise bad(name, value, rule)


def check_options(lp: LinearProgram, solver: str, options: dict) -> None:
    """Everything ``solve_lp(lp, solver, **options)`` can know about its options without
    solving: the common rules, then the backend's own ``check_options`` (PDHG: its option
    fields, device, dtype, warm-start shapes; HiGHS and Gurobi: each option set on a scratch
    instance; cvxpy: a one-variable LP solved with them).  Raises SolverInputError."""
    name = str(solver).lower()
    check_common_options(name, options)
    module_name = _BACKENDS[name][0]
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError:
        return              # _backend says why when it is used
    check = getattr(module, "check_options", None)
    if check is not None:
        check(lp, **options)


def _where_A(lp: LinearProgram, pos: int) -> str:
    row = int(np.searchsorted(lp.A.indptr, pos, side="right") - 1)
    col = int(lp.A.indices[pos])
    label = lambda names, i: f" ({names[i]})" if names is not None and i < len(names) else ""  # noqa: E731
    return f"row {row}{label(lp.row_names, row)}, column {col}{label(lp.var_names, col)}"


def _where(lp: LinearProgram, name: str, arr: np.ndarray, mask: np.ndarray) -> str:
    """'c at index 3 (capex[wind])', 'A at row 2 (...), column 5 (...)', with the scenario in a batch."""
    idx = np.argwhere(mask)[0]
    if name in ("A", "A_values"):
        at = _where_A(lp, int(idx[-1]))
    else:
        names = lp.row_names if name in ("lc", "uc") else lp.var_names
        j = int(idx[-1])
        at = f"index {j}" + (f" ({names[j]})" if names is not None and j < len(names) else "")
    return f"{name} at {f'scenario {idx[0]}, ' if len(idx) == 2 else ''}{at} is {arr[tuple(idx)]:.3g}"


def _check_magnitudes(lp: LinearProgram, solver: str) -> None:
    """Refuse or warn, before any work, on magnitudes no solver here can use: |c| or |A| >= 1e20
    on every backend (HiGHS reads such a cost as infinite; PDHG ends at its limit with a wrong
    objective), |A| >= 1e15 for HiGHS (its passModel fails); PDHG warns when |c| or |A| (entries
    above 1e-9, which HiGHS drops) span more than 1e9 or a finite bound exceeds 1e15.  The
    measurements behind these are in RESULTS, "Solver notes"."""
    data = [("c", lp.c), ("A_values" if lp.A_values is not None else "A",
                          lp.A_values if lp.A_values is not None else lp.A.data)]
    for name, arr in data:
        big = np.abs(arr) >= HUGE
        if big.any():
            raise SolverInputError(
                f"LinearProgram.{_where(lp, name, arr, big)}: entries of c and A must be below {HUGE:.0e} in "
                "magnitude (solvers read that as infinite); rescale the model (e.g. costs in M$)")
    name, arr = data[1]
    if solver == "highs":
        big = np.abs(arr) >= HIGHS_MAX_MATRIX
        if big.any():
            raise SolverInputError(f"LinearProgram.{_where(lp, name, arr, big)}: HiGHS refuses matrix entries of "
                                   f"{HIGHS_MAX_MATRIX:.0e} or more; rescale the model")
    if solver != "pdhg":
        return
    for name, arr in data:
        a = np.abs(arr)
        nz = a > TINY
        if nz.any() and a.max() > PDHG_RANGE * a[nz].min():
            warnings.warn(f"badly scaled for PDHG: |{name}| spans {a[nz].min():.3g} to {a.max():.3g} "
                          f"(largest {_where(lp, name, arr, a == a.max())}); it may stop at its iteration limit: "
                          "rescale, or use solver='highs'", BadScalingWarning, stacklevel=3)
            return
    for name in ("lc", "uc", "lx", "ux"):
        arr = getattr(lp, name)
        far = np.isfinite(arr) & (np.abs(arr) > PDHG_BOUND) & (np.abs(arr) < 1e20)
        if far.any():
            warnings.warn(f"badly scaled for PDHG: finite bound {_where(lp, name, arr, far)} (its tolerances are "
                          "relative to the bounds); rescale, or use solver='highs'", BadScalingWarning, stacklevel=3)
            return


# below this many nonzeros HiGHS takes about a second whichever method it runs: no race
RACE_MIN_NNZ = 50_000
# from this many nonzeros a single LP races HiGHS's simplex against PDHG + crossover: on the
# planning LPs measured above it one of the two was the fastest exact method (PDHG + crossover by
# 2-10x on three-country, the simplex on national-scale), below it HiGHS's IPM or simplex
# (scigrid-de's 240k: the IPM) (comparisons/RESULTS.md, "From 250k nonzeros")
FIRST_ORDER_MIN_NNZ = 250_000


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def choose_solver(batch: bool, device="auto", threads=None, nnz=None) -> tuple[str, dict, str]:
    """``solver="auto"``: (backend, its options, why).  On a CPU with two CPUs or more
    (``threads``: the user's cap) a single LP of ``nnz`` >= FIRST_ORDER_MIN_NNZ nonzeros races
    HiGHS's simplex against PDHG then crossover (backend "concurrent"); one of RACE_MIN_NNZ or more
    races HiGHS's IPM and simplex (``method="concurrent"``), as neither wins the real-model set
    alone (so does one of unknown size); smaller ones and one CPU go to HiGHS's own choice.  A batch (a
    sweep) goes to HiGHS scenario by scenario, each from the last one's basis
    (comparisons/RESULTS.md, "Real planning models").  On a GPU the batched PDHG.  Every
    choice on a CPU ends at an exact vertex."""
    from ..core.device import resolve_device
    from .highs import CONCURRENT

    if resolve_device(device).type != "cpu":
        return "pdhg", {}, "auto: pdhg (a GPU)"
    if batch:
        return "highs", {}, "auto: highs (scenarios on a CPU, each from the last one's basis)"
    cpus = available_cpus()
    cpus = min(cpus, threads or cpus)           # the user's cap
    if cpus < len(CONCURRENT) or (nnz is not None and nnz < RACE_MIN_NNZ):
        return "highs", {}, "auto: highs (a single LP on a CPU)"
    if nnz is not None and nnz >= FIRST_ORDER_MIN_NNZ:
        ipm = ", and its IPM" if cpus > 2 else ""
        why = (f"auto: concurrent (a single LP of {nnz:,} nonzeros on a CPU: HiGHS's simplex raced against PDHG "
               f"then crossover{ipm}, a thread each)")
        return "concurrent", {"device": "cpu"}, why
    return "highs", {"method": "concurrent"}, ("auto: highs (a single LP on a CPU, its IPM and simplex "
                                               "raced on a thread each)")


def solve_lp(lp: LinearProgram, solver: str = "highs", presolve: bool | None = None, polish: str | None = None,
             **options):
    """Solve a LinearProgram (single or batch) with the named backend.

    Returns a Result for a single LP and a list of Results (one per scenario) for a batch.
    ``presolve`` applies gridprox's light presolve (``gridprox.solvers.presolve``) and undoes
    it on the results; default on for "pdhg", off for the others; ``presolve="highs"`` puts
    HiGHS's presolve and postsolve around the solver instead (``gridprox.solvers.highs_presolve``;
    no warm start).  ``options`` go to the
    backend (see ``solve_highs``, ``solve_pdhg``, ...); a ``warm_start`` of the original LP
    is mapped through the presolve.  Options are checked first, before presolve and whatever
    the LP (``check_options``: an unknown name, a wrong type or range, an unavailable device,
    a warm start of the wrong shape or not finite raise SolverInputError naming it).  The LP
    is validated next: NaN, infinite bounds on the wrong side and the like raise ValueError
    naming the entry, and so do magnitudes no solver can use (``_check_magnitudes``: |c| or
    |A| >= 1e20; PDHG warns once on a badly scaled LP); bounds beyond ±1e20 are infinite for
    every backend (``LinearProgram.with_infinite_bounds``); a scenario whose bounds cross (a
    lower bound above its upper bound) is "infeasible" while the others are solved.
    ``on_result(k, result)``: called with each scenario's final Result, as soon as the backend
    has it (PDHG: as scenarios finish; others: at the end).  ``gridprox.lp_objective`` wraps
    this function as a torch-differentiable layer (optimal value, gradients with respect to c
    and the bounds).  ``polish="crossover"``: each scenario's point is made an optimal vertex
    with duals by HiGHS's crossover and simplex (``gridprox.solvers.polish``) as soon as it
    comes; PDHG then stops on PDLP's ℓ2 measures alone (``each_row=False``), as the crossover
    makes every row exact.
    """
    if not isinstance(lp, LinearProgram):
        raise TypeError(f"solve_lp expects a gridprox LinearProgram, got {type(lp).__name__}")
    name = str(solver).lower()
    if name not in _BACKENDS:
        raise SolverError(f"unknown solver {solver!r}; available solvers: {', '.join(available_solvers())}")
    if presolve is not None and not isinstance(presolve, bool) and not (isinstance(presolve, str)
                                                                         and presolve == "highs"):
        raise SolverError(f"presolve={presolve!r}: gridprox's presolve is True, False or 'highs' (HiGHS's "
                          "presolve and postsolve around the solver); HiGHS's own presolve inside solver='highs' "
                          "is the option highs_presolve='on'|'off'")
    if options.get("start") is not None and (presolve or polish is not None or lp.is_batch):
        raise SolverInputError("start= (a coarser LP's optimum for HiGHS's simplex) needs one LP with its own "
                               "columns: no presolve, polish or batch")
    on_result = options.pop("on_result", None)
    if on_result is not None and not callable(on_result):
        raise SolverInputError(f"on_result must be callable, got {on_result!r}")
    if polish is not None:
        return _solve_polished(lp, name, presolve, polish, on_result, options)
    check_options(lp, name, options)
    _check_magnitudes(lp.validate(crossed_ok=True), name)
    lp = lp.with_infinite_bounds()
    crossed = lp.crossed()
    if crossed.any():
        return _solve_uncrossed(lp, crossed, solver, presolve, options, on_result)
    func, batched = _backend(name)
    reported: set = set()

    def early(k: int, res: Result, final) -> None:    # a backend's result as it comes, made final
        reported.add(k)
        on_result(k, final(res))

    if presolve == "highs":     # gridprox.solvers.highs_presolve: per scenario, results on the original LP
        from .highs_presolve import solve_highs_presolved

        return _report(solve_highs_presolved(lp, name, options), on_result, reported)
    if not (name == "pdhg" if presolve is None else presolve):
        if on_result is not None and name == "pdhg":
            options = {**options, "on_result": lambda k, r: early(k, r, lambda r: _settle(lp.scenario(k) if
                                                                                           lp.is_batch else lp, r, options))}
        return _report(_run(lp, func, batched, options), on_result, reported)
    from .presolve import presolve as reduce_lp

    reduced = reduce_lp(lp)
    if name == "pdhg":
        from .pdhg import judged, pdhg_options

        opt = pdhg_options(**options)
        reduced.judge = lambda r: judged(r.status, r.residuals, opt, r.iterations)
    inner = None
    if reduced.lp is not None:
        inner_options = reduced.map_warm_start(options)
        if name == "pdhg":
            inner_options.update(_pdhg_norms(lp, reduced))
        if on_result is not None and name == "pdhg":
            def post(j: int, r: Result) -> None:
                b = int(reduced.live[j])
                early(b, r, lambda r: reduced._scenario_result(
                    b, _settle(reduced.lp.scenario(j) if reduced.lp.is_batch else reduced.lp, r, options)))
            inner_options = {**inner_options, "on_result": post}
        inner = _run(reduced.lp, func, batched, inner_options)
    return _report(reduced.postsolve(inner), on_result, reported)


def _solve_polished(lp: LinearProgram, solver: str, presolve, polish: str, on_result, options: dict):
    """``solve_lp`` with each scenario's Result polished (``polish.crossover``) as it comes."""
    from .polish import check_polish, crossover

    check_polish(polish)
    inner = {**options, "each_row": options.get("each_row", False)} if solver == "pdhg" else options
    polished: dict = {}

    def hook(k: int, res: Result) -> None:
        polished[k] = crossover(lp.scenario(k) if lp.is_batch else lp, res, options.get("time_limit"),
                                options.get("threads"), options.get("verbose", False), options.get("tol") or 1e-4)
        if on_result is not None:
            on_result(k, polished[k])

    results = solve_lp(lp, solver=solver, presolve=presolve, on_result=hook, **inner)
    return [polished[k] for k in range(len(results))] if isinstance(results, list) else polished[0]


def _report(results, on_result, reported: set):
    """Hand ``on_result`` the results it has not had yet; return them."""
    if on_result is not None:
        for k, res in enumerate(results if isinstance(results, list) else [results]):
            if k not in reported:
                on_result(k, res)
    return results


def _solve_uncrossed(lp: LinearProgram, crossed: np.ndarray, solver: str, presolve, options: dict, on_result):
    """Scenarios with crossed bounds are "infeasible"; the others are solved (per-scenario
    options such as warm starts and coordinates are subset to them)."""
    def infeasible(k: int) -> Result:
        return Result(status=st.INFEASIBLE, solver=str(solver).lower(),
                      message=f"bounds cross (a lower bound above its upper bound){f' in scenario {k}' if lp.is_batch else ''}")
    if not lp.is_batch:
        return _report(infeasible(0), on_result, set())
    rest = np.flatnonzero(~crossed)
    out = [infeasible(k) for k in range(lp.batch_size)]
    _report([out[k] if crossed[k] else None for k in range(lp.batch_size)], on_result, set(rest.tolist()))
    if rest.size:
        B = lp.batch_size
        pick = lambda v: ([v[k] for k in rest] if isinstance(v, list) and len(v) == B  # noqa: E731
                          else np.asarray(v)[rest] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == B
                          else tuple(pick(p) for p in v) if isinstance(v, tuple) else v)
        sub = LinearProgram.stack([lp.scenario(int(k)) for k in rest])
        report = None if on_result is None else (lambda j, r: on_result(int(rest[j]), r))
        solved = solve_lp(sub, solver=solver, presolve=presolve, on_result=report,
                          **{k: pick(v) for k, v in options.items()})
        for k, res in zip(rest, solved if isinstance(solved, list) else [solved]):
            out[int(k)] = res
    return out


def solve_lp_sequence(lps, solver: str = "highs", session=None, **options) -> list:
    """Solve single LPs one after another (a sweep's scenarios, neighbours next to each
    other); one Result each.  With ``solver="highs"`` they share one HiGHS instance, each
    starting from the previous one's basis (``HighsSession``; pass ``session`` to continue
    one across calls, with the options it was made with; ``method`` defaults to "simplex"
    there); other solvers solve each LP cold through ``solve_lp``."""
    if str(solver).lower() != "highs":
        return [solve_lp(lp, solver=solver, **options) for lp in lps]
    if session is not None and options:
        raise SolverError(f"solve_lp_sequence: options {sorted(options)} given with a session, which keeps "
                          "the options it was made with")
    if session is None:
        from .highs import HighsSession

        session = HighsSession(**options)
    out = []
    for lp in lps:
        if not isinstance(lp, LinearProgram):
            raise TypeError(f"solve_lp_sequence expects gridprox LinearPrograms, got {type(lp).__name__}")
        out.append(_settle(lp, session.solve(lp.validate()), session.options))
    return out


def _pdhg_norms(lp: LinearProgram, reduced) -> dict:
    """PDHG's ``norms`` and ``weight_norms`` for the LP ``reduced`` holds, where they are not its own:
    it stops on the test of ``lp`` (as its answer is judged there), and its initial primal weight
    comes from ``lp``'s bounds on the rows it keeps, so a fixed column's activity moved into its
    bounds does not set it (RESULTS, "The light presolve measured and weighted as the LP given")."""
    from .pdhg import norms_of

    live = reduced.live.tolist()
    own = norms_of(reduced.lp, range(len(live)))
    given = {"norms": norms_of(lp, live), "weight_norms": norms_of(lp, live, reduced.rows, reduced.cols)}
    same = lambda v: all(np.allclose(a, b, rtol=1e-12, atol=0) for a, b in zip(v, own))  # noqa: E731 - rounding aside
    return {name: v for name, v in given.items() if not same(v)}


def _run(lp: LinearProgram, func, batched: bool, options: dict):
    if lp.is_batch and not batched:
        return [_settle(s, func(s, **options), options) for s in lp.scenarios()]
    out = func(lp, **options)
    if isinstance(out, list):
        return [_settle(lp.scenario(k), r, options) for k, r in enumerate(out)]
    return _settle(lp, out, options)


def _settle(lp: LinearProgram, res: Result, options: dict) -> Result:
    """Turn a backend's "infeasible or unbounded" into one of the two.  With c = 0 the
    dual is feasible, so HiGHS's dual simplex answers either feasible (then the LP is
    unbounded) or infeasible, with a certificate; first-order methods may not."""
    if res.status != st.INFEASIBLE_OR_UNBOUNDED:
        return res
    from .highs import solve_highs

    feas = solve_highs(replace(lp, c=np.zeros_like(lp.c), c0=0.0), method="simplex",
                       time_limit=options.get("time_limit"))
    if feas.status == st.OPTIMAL:
        res.status = st.UNBOUNDED
    elif feas.status == st.INFEASIBLE:
        res.status = st.INFEASIBLE
    res.message += f" (settled by a HiGHS feasibility solve: {res.status})"
    return res
