"""Backend "highs": one LinearProgram solved by HiGHS through highspy's direct API.

The CSR matrix is handed to HiGHS row-wise as is (no file, no copy into Python
objects per entry).  HiGHS's dual convention is the one gridprox uses, so x, row
duals and column duals are returned unchanged.
"""
from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import sys

import numpy as np

from .. import logs
from ..compile.lp import LinearProgram
from ..errors import SolverError
from . import result as st
from .result import Result
from . import SolverInputError, attach_solution, check_common_options

METHODS = {"simplex": "simplex", "ipm": "ipm", "hipo": "hipo", "ipx": "ipx", "pdlp": "pdlp", "choose": "choose",
           "concurrent": None}
# HiGHS's factorisation-based IPM (HiPO, HiGHS >= 1.12) needs the highspy-extras package of the
# same version as highspy; without it "ipm" is IPX, with it HiPO (RESULTS, "HiGHS's HiPO")
HIPO_MISSING = ("highs: method='hipo' needs HiGHS's HiPO solver, which highspy loads from the highspy-extras "
                "package of its own version (pip install \"highspy[extras]\", once PyPI has "
                "highspy-extras for the highspy installed)")
# method="concurrent" races these, one thread each (Gurobi's default for LPs): neither wins the
# real-model set alone (comparisons/RESULTS.md, "Real planning models")
CONCURRENT = ("ipm", "simplex")
# the methods a start (``coarse_start.CoarseStart``) serves: the simplex, alone or in the race
START_METHODS = ("choose", "simplex", "concurrent")


# the crossover from a given point (polish.py) needs HiGHS 1.16: 1.15's IPX refuses a PDHG point
# that is not exactly complementary (IPX flag 105), so a polished answer would stay inexact
MIN_VERSION = (1, 16)


def _highspy():
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a hard dependency
        raise SolverError("solver 'highs' needs the highspy package (pip install highspy)") from exc
    _check_version()
    return highspy


@functools.cache
def _check_version() -> None:
    """Warn once where highspy is older than MIN_VERSION (pip keeps pyproject's pin; an install
    put ahead on PYTHONPATH or made with --no-deps may not)."""
    try:
        found = importlib.metadata.version("highspy")
    except importlib.metadata.PackageNotFoundError:
        return
    if tuple(int(part) for part in re.findall(r"\d+", found)[:2]) < MIN_VERSION:
        logs.get("highs").warning(
            "highspy %s is older than %d.%d, which gridprox needs: its crossover refuses PDHG points, so "
            "polished answers stay inexact (pip install -U highspy)", found, *MIN_VERSION)


_BANNER_MUTED = False


def new_highs():
    """A Highs instance with its log off.  HiGHS >= 1.16 writes a licence banner to stdout
    (C level) when the first instance of a process is made, before any option can be set;
    it would land in the tables the CLI prints, so that first construction writes to
    /dev/null (later ones print nothing, and stdout is left alone)."""
    global _BANNER_MUTED
    highspy = _highspy()
    if _BANNER_MUTED:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        try:
            saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        except OSError:  # no usable fd 1 (embedded interpreters): accept the banner
            h = highspy.Highs()
        else:
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        _BANNER_MUTED = True
    h.setOptionValue("output_flag", False)
    return h


def _status_map(highspy) -> dict:
    s = highspy.HighsModelStatus
    return {
        s.kOptimal: st.OPTIMAL,
        s.kInfeasible: st.INFEASIBLE,
        s.kUnbounded: st.UNBOUNDED,
        s.kUnboundedOrInfeasible: st.INFEASIBLE_OR_UNBOUNDED,
        s.kTimeLimit: st.TIME_LIMIT,
        s.kIterationLimit: st.ITERATION_LIMIT,
    }


def _set_option(h, name: str, value, shown: str | None = None) -> None:
    """Set a HiGHS option; SolverInputError naming it (as the caller wrote it: ``shown``) if refused."""
    shown = shown or name
    if isinstance(value, np.generic):
        value = value.item()
    highspy = _highspy()
    if h.getOptionType(name)[0] != highspy.HighsStatus.kOk:
        raise SolverInputError(f"highs: unknown option {shown!r} (={value!r}); gridprox's are method, tol, "
                               "time_limit, threads, verbose, highs_presolve, and any HiGHS option by its name")
    try:
        status = h.setOptionValue(name, value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise SolverInputError(f"highs: HiGHS rejected option {shown}={value!r} ({exc})") from None
    if status != highspy.HighsStatus.kOk:
        raise SolverInputError(f"highs: HiGHS rejected option {shown}={value!r} (a value of the wrong type or range)")


def _build(lp: LinearProgram):
    """A silent Highs instance holding ``lp``."""
    highspy = _highspy()
    h = new_highs()
    A = lp.A
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_vars, lp.num_rows
    model.col_cost_ = lp.c
    model.col_lower_, model.col_upper_ = lp.lx, lp.ux
    model.row_lower_, model.row_upper_ = lp.lc, lp.uc
    model.offset_ = float(lp.c0)
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = lp.num_vars, lp.num_rows
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data
    if h.passModel(model) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the LinearProgram (passModel failed)")
    return h


def _iterations(info) -> int:
    return int(info.simplex_iteration_count + max(info.ipm_iteration_count, 0)
               + max(info.pdlp_iteration_count, 0) + max(info.crossover_iteration_count, 0))


def _check_method(method: str) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise SolverInputError(f"HiGHS method {method!r} unknown; choose one of {sorted(METHODS)}")


@functools.cache
def hipo_available() -> bool:
    """Whether this highspy can run HiPO (it found a matching highspy-extras)."""
    return new_highs().setOptionValue("solver", "hipo") == _highspy().HighsStatus.kOk


def check_options(lp=None, start=None, **options) -> None:
    """Raise SolverInputError when ``solve_highs`` would refuse these options: each is set on
    a scratch HiGHS instance (an unknown name or a value out of HiGHS's range is refused
    there), after gridprox's rules for tol, time_limit, threads and verbose (HiGHS itself
    takes a NaN time limit or an infinite tolerance).  Solves nothing."""
    from .coarse_start import check_start

    check_start(start, "highs")
    if start is not None and options.get("method", "choose") not in START_METHODS:
        raise SolverInputError(f"highs: start= is for the simplex; method={options['method']!r} does not "
                               f"take one (choose one of {', '.join(map(repr, START_METHODS))})")
    _configure(new_highs(), **options)


def _configure(h, method: str = "choose", tol: float | None = None, time_limit: float | None = None,
               threads: int | None = None, verbose: bool = False, highs_presolve: str | None = None,
               **highs_options) -> None:
    """Apply ``solve_highs``'s options to a Highs instance (SolverInputError naming the first
    option HiGHS or gridprox's common rules refuse)."""
    _check_method(method)
    if method == "concurrent" and threads is not None and threads < len(CONCURRENT):
        raise SolverInputError(f"highs: method='concurrent' runs {len(CONCURRENT)} solvers on a thread each; "
                               f"threads={threads!r} leaves too few (choose a method, or threads >= {len(CONCURRENT)})")
    check_common_options("highs", {"tol": tol, "time_limit": time_limit, "threads": threads, "verbose": verbose,
                                   **highs_options})
    _set_option(h, "output_flag", bool(verbose))
    if verbose:     # HiGHS's log through the "gridprox.highs" logger, not printed to stdout by C++
        _set_option(h, "log_to_console", False)
        h.cbLogging.subscribe(_forward_log)
    if method == "hipo" and not hipo_available():
        raise SolverInputError(HIPO_MISSING)
    if METHODS[method] is not None:
        _set_option(h, "solver", METHODS[method])
    if tol is not None:     # HiGHS's PDLP takes its relative tol alone: absolute feasibility
        names = ("pdlp_optimality_tolerance",) if method == "pdlp" else (   # tols would fail its answer
            "primal_feasibility_tolerance", "dual_feasibility_tolerance", "ipm_optimality_tolerance")
        for name in names:
            _set_option(h, name, float(tol))
    if time_limit is not None:
        _set_option(h, "time_limit", float(time_limit))
    if threads is not None:
        _set_option(h, "threads", int(threads))
    if highs_presolve is not None:
        _set_option(h, "presolve", highs_presolve, shown="highs_presolve")
    for name, value in highs_options.items():
        _set_option(h, name, value)


_LOG = logs.get("highs")


def _forward_log(event) -> None:
    for line in str(event.message).rstrip().splitlines():
        if line.strip():
            _LOG.info("highs: %s", line.rstrip())


def _run(h, lp: LinearProgram, threads: int | None = None) -> Result:
    """Run HiGHS on the model it holds (``lp``) and read back status and solution.  With
    ``threads``, HiGHS's global scheduler is restarted first: HiGHS keeps one per process,
    sized by the first run, and a run asking for another size fails ("solver_error")."""
    highspy = _highspy()
    if threads is not None:
        highspy.Highs.resetGlobalScheduler(True)
    flag = h.getOptionValue("output_flag")       # (status, value) in highspy 1.16, the value in others
    with logs.verbose(bool(flag[1] if isinstance(flag, tuple) else flag)):
        h.run()
    return _read(h, lp, h.getRunTime())


def _read(h, lp: LinearProgram, seconds: float) -> Result:
    """The Result of the run ``h`` has done on ``lp``."""
    highspy = _highspy()
    model_status = h.getModelStatus()
    info = h.getInfo()
    status = _status_map(highspy).get(model_status)
    message = h.modelStatusToString(model_status)
    if status is None:
        # kUnknown and friends: keep a solution only when HiGHS vouches for its feasibility
        feasible = info.primal_solution_status == 2 and info.dual_solution_status == 2
        status = st.OPTIMAL_INACCURATE if feasible else st.SOLVER_ERROR

    out = Result(status=status, iterations=_iterations(info), seconds=seconds,
                 solver="highs", message=message)
    if status in st.SOLUTION_STATUSES + st.LIMIT_STATUSES and info.primal_solution_status > 0:
        sol = h.getSolution()
        if sol.dual_valid:
            attach_solution(out, lp, sol.col_value, sol.row_dual, sol.col_dual)
        else:
            attach_solution(out, lp, sol.col_value)
    return out


def _race(lp: LinearProgram, options: dict, start=None) -> Result:
    """``method="concurrent"``: each of CONCURRENT on its own HiGHS instance and thread
    (``race.race``: the first to settle the LP wins, the others are interrupted); with a
    ``start``, the simplex is ``coarse_start.solve_from_coarse``."""
    from .race import coarse_racer, highs_racer, race_with_highs

    return race_with_highs({method: coarse_racer(lp, start, options) if method == "simplex" and start is not None
                            else highs_racer(lp, method, options) for method in CONCURRENT})


def solve_highs(lp: LinearProgram, method: str = "choose", tol: float | None = None,
                time_limit: float | None = None, threads: int | None = None,
                verbose: bool = False, highs_presolve: str | None = None, start=None, **highs_options) -> Result:
    """Solve one LP with HiGHS.

    method: "simplex" | "ipm" (HiGHS's IPM: HiPO where highspy-extras is installed, else IPX) |
    "hipo" | "ipx" (one of them by name) | "pdlp" | "choose" (HiGHS picks) | "concurrent" (IPM with
    crossover and simplex raced on a thread each, the first to finish wins: ``_race``).  tol sets HiGHS's primal
    and dual feasibility tolerances and its IPM / PDLP optimality tolerances.  Any other
    keyword is passed to HiGHS as a raw option (``run_crossover="off"``); HiGHS's own
    ``presolve`` option is ``highs_presolve`` here, as ``presolve`` is gridprox's.
    ``start`` (a ``coarse_start.CoarseStart``: a coarser LP of the same model and the map from its
    solution to this LP's), for the simplex ("choose" means it then): the simplex runs from
    HiGHS's crossover of the coarse optimum (``coarse_start.solve_from_coarse``).
    HiGHS's "unbounded or infeasible" is returned as such; ``solve_lp`` settles it.
    """
    if lp.is_batch:
        raise SolverError("solve_highs takes a single LP; solve_lp loops over a batch")
    options = dict(tol=tol, time_limit=time_limit, verbose=verbose, highs_presolve=highs_presolve, **highs_options)
    if method == "concurrent" or start is not None:
        check_options(method=method, threads=threads, start=start, **options)
    if method == "concurrent":
        return _race(lp, options, start)
    if start is not None:
        from .coarse_start import solve_from_coarse

        return solve_from_coarse(lp, start, {**options, "threads": threads})
    h = _build(lp)
    _configure(h, method, tol, time_limit, threads, verbose, highs_presolve, **highs_options)
    return _run(h, lp, threads)


class HighsSession:
    """Solves a sequence of LPs in one HiGHS instance, each from the basis of the last.

    A sweep's scenarios share A and differ in a few entries of c, the bounds or c0 (a CO2
    cap moves one row bound): only the entries that changed are passed to HiGHS, which
    keeps its basis and re-runs the simplex from it (a 64-cap sweep: 0.97 s against 33.7 s cold,
    RESULTS "Solver notes").  An LP whose A has another
    pattern is passed whole, without a basis; changed values of the same pattern (a swept
    availability profile) are passed entry by entry while they are few (``COEFF_SHARE``).
    ``options`` are ``solve_highs``'s, fixed for the session; ``method`` defaults to
    "simplex", as interior-point and PDLP runs do not start from a basis."""

    # at most this share of A's entries changed: passed one by one (HiGHS's changeCoeff);
    # more: the model is passed whole
    COEFF_SHARE = 0.1

    def __init__(self, method: str = "simplex", **options):
        check_options(method=method, **options)
        self.options = {"method": method, **options}
        self._h = None
        self._lp: LinearProgram | None = None

    def solve(self, lp: LinearProgram) -> Result:
        if lp.is_batch:
            raise SolverError("HighsSession.solve takes a single LP; pass a batch's scenarios one by one")
        changed = None if self._lp is None else _changed_entries(self._lp, lp)
        if changed is None or changed.size > self.COEFF_SHARE * max(lp.A.nnz, 1):
            self._h = _build(lp)
            _configure(self._h, **self.options)
        else:
            self._update(lp, changed)
        self._lp = lp
        return _run(self._h, lp, self.options.get("threads"))

    def _update(self, lp: LinearProgram, coefficients: np.ndarray) -> None:
        """Pass HiGHS the entries of A (positions ``coefficients`` of its CSR data), c, the
        row and the column bounds and c0 that changed."""
        h, old = self._h, self._lp
        if coefficients.size:
            rows = np.repeat(np.arange(lp.num_rows), np.diff(lp.A.indptr))[coefficients]
            for i, j, v in zip(rows.tolist(), lp.A.indices[coefficients].tolist(),
                               lp.A.data[coefficients].tolist()):
                h.changeCoeff(i, j, v)
        changed = np.flatnonzero(lp.c != old.c)
        if changed.size:
            h.changeColsCost(changed.size, changed.astype(np.int32), lp.c[changed])
        for lo, hi, old_lo, old_hi, change in ((lp.lc, lp.uc, old.lc, old.uc, h.changeRowsBounds),
                                               (lp.lx, lp.ux, old.lx, old.ux, h.changeColsBounds)):
            changed = np.flatnonzero((lo != old_lo) | (hi != old_hi))
            if changed.size:
                change(changed.size, changed.astype(np.int32), lo[changed], hi[changed])
        if float(lp.c0) != float(old.c0):
            h.changeObjectiveOffset(float(lp.c0))


def _changed_entries(a: LinearProgram, b: LinearProgram):
    """Positions in the CSR data where b's A differs from a's; None when the patterns differ."""
    A, B = a.A, b.A
    if not (A.shape == B.shape and A.nnz == B.nnz and np.array_equal(A.indptr, B.indptr)
            and np.array_equal(A.indices, B.indices)):
        return None
    return np.flatnonzero(A.data != B.data)
