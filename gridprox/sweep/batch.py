"""Sweeps of a ``CapacityExpansion``: the picklable batch solver ``run_sweep`` calls, and the
order its scenarios stream in."""
from __future__ import annotations

import time

import numpy as np

from ..energy.model import CapacityExpansion
from ..energy.results import sweep_row
from ..lp.schedule import WarmStarts, coordinates, stream_plan

_MODEL_CACHE: dict = {}       # this process's model, rebuilt once per SweepBatch in a worker


def solver_options(solver: str, tol: float, device, opts: dict) -> dict:
    """Keyword arguments of ``solve_lp``: ``tol`` and ``device`` are PDHG's; other solvers keep their
    defaults, but a bad ``tol`` is refused for them too (it is not silently dropped)."""
    from ..solvers import check_common_options

    check_common_options(solver, {"tol": tol})
    if solver == "pdhg":
        return {"tol": tol, "device": device, **opts}
    return dict(opts)


def sweep_plan(scenarios: list, solver: str, warm_start: bool, width: int):
    """The order scenarios stream in: neighbours follow each other where they warm-start each other."""
    if warm_start and solver == "pdhg":
        return stream_plan(scenarios, width)
    if warm_start and solver == "highs":
        return stream_plan(scenarios, width, waves=1)
    return None


class SweepBatch:
    """The picklable batch solver ``run_sweep`` calls: inputs -> one row per scenario.

    It carries the source System and the model options; in another process (a Dask worker)
    the model is rebuilt once and cached, in this process the given model is used as is.
    PDHG streams a batch through ``width`` columns (warm-started, from the scenarios solved
    before in this process and in the batch, unless ``warm_start=False``: then the batch is
    one plain cold batch); other solvers go scenario by scenario, HiGHS in one instance
    that starts each scenario from the last one's basis (``HighsSession``) unless
    ``warm_start=False``."""

    def __init__(self, model: CapacityExpansion, solver="pdhg", tol=1e-4, device="auto", warm_start=True,
                 solver_opts=None, width=None):
        self.source, self.options = model.source, dict(model.options)
        self.solver, self.tol, self.device = solver, tol, device
        self.warm_start, self.solver_opts, self.width = warm_start, dict(solver_opts or {}), width
        self._model = model
        self._key = f"{id(self)}-{time.time_ns()}"
        self._solved = WarmStarts()
        self._session = None          # the HighsSession of this process (solver "highs")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"], state["_solved"], state["_session"] = None, WarmStarts(), None
        return state

    def model(self) -> CapacityExpansion:
        if self._model is None:
            if self._key not in _MODEL_CACHE:
                _MODEL_CACHE.clear()
                _MODEL_CACHE[self._key] = CapacityExpansion(self.source, **self.options)
            self._model = _MODEL_CACHE[self._key]
        return self._model

    reports_progress = True      # run_sweep passes progress=: scenarios count as they finish
    reports_rows = True          # ... and on_rows=: each row is written as its scenario finishes

    def __call__(self, scenarios: list, progress=None, on_rows=None) -> list:
        model = self.model()
        opts = solver_options(self.solver, self.tol, self.device, self.solver_opts)
        if self.solver != "pdhg":
            return self._one_by_one(model, scenarios, opts, progress, on_rows)
        from ..solvers import solve_lp

        if progress is not None:
            opts["on_finish"] = progress
        lp = model.batch(scenarios)
        lps = list(lp.scenarios())
        if on_rows is not None:
            opts["on_result"] = lambda k, r: on_rows({k: sweep_row(model, r, lps[k])})
        if self.warm_start:
            if self._solved:
                # the stream's first scenarios start from the nearest solved before, x and y only:
                # a neighbour's primal weight did worse than the default (comparisons/RESULTS.md)
                starts = [self._solved.nearest(sc) for sc in scenarios]
                opts["warm_start"] = (np.stack([r.x for r in starts]), np.stack([r.y for r in starts]))
            if self.width is not None and len(scenarios) > 1:
                opts.update(width=self.width, coordinates=coordinates(scenarios))
        results = solve_lp(lp, solver="pdhg", **opts)
        self._solved.add(scenarios, results)
        return [sweep_row(model, r, one) for r, one in zip(results, lps)]

    def _one_by_one(self, model: CapacityExpansion, scenarios: list, opts: dict, progress, on_rows) -> list:
        """Solvers other than PDHG; HiGHS warm-starts each scenario from the last one's basis."""
        from ..solvers import solve_lp, solve_lp_sequence
        from ..solvers.highs import HighsSession

        lps = [model.lp(s) for s in scenarios]
        hot = self.solver == "highs" and self.warm_start
        if hot and self._session is None:
            self._session = HighsSession(**opts)
        rows = []
        for k, one in enumerate(lps):
            res = (solve_lp_sequence([one], "highs", session=self._session)[0] if hot
                   else solve_lp(one, solver=self.solver, **opts))
            rows.append(sweep_row(model, res, one))
            if on_rows is not None:
                on_rows({k: rows[-1]})
            if progress is not None:
                progress(1)
        return rows
