"""CapacityExpansion: the planning LP of a ``System`` in gridprox syntax, compiled once.

The formulation follows PyPSA 1.4's linear optimal power flow exactly (so the ``model-energy``
optimum equals ``network.optimize()``'s), with the transport model for lines:

* capacities: one variable per extendable asset (total capacity in ``[*_min, *_max]``); fixed
  assets have ``p_nom`` / ``e_nom``.  Investment cost ``fixed_cost * capacity`` for extendable
  assets; like PyPSA's default objective, the cost of the ``p_nom`` already present on an
  extendable asset is subtracted as a constant (zero for greenfield data);
* generators: ``min_availability[t] * cap <= p[t] <= availability[t] * cap`` (p_min_pu / p_max_pu
  per snapshot), cost ``w[t] * (marginal_cost + fuel_cost / efficiency + co2_price * emission_factor)``;
* storage units (PyPSA StorageUnit): dispatch and store in ``[0, cap]``, ``soc <= max_hours * cap``,
  ``soc[t] = (1 - standing_loss)^d[t] soc[t-1] + d[t] (eta_store store[t] - dispatch[t] / eta_dispatch)``
  with ``d`` the snapshot duration, cyclic within each period (or starting from the initial level);
* stores (PyPSA Store): ``e <= cap``, injection ``((1 - standing_loss)^d e[t-1] - e[t]) / d``;
* links: ``p_min_pu * cap <= p <= p_max_pu * cap``, bus0 gives ``p``, bus1 gets ``efficiency * p``
  (bus2 / bus3 of a multi-port link ``efficiency2`` / ``efficiency3`` times it);
* lines: a flow each way in ``[0, s_max_pu * cap]``, the receiving bus gets ``efficiency`` times it;
  lines with a reactance ``x`` obey Kirchhoff's voltage law over a cycle basis
  (``Σ_l C[c, l] x_l (forward - backward)_l = 0``, ``network.py``), at fixed ``x`` when extended;
* load shedding at ``voll`` where the system gives one: ``0 <= shed <= demand`` per bus;
* one balance per bus and snapshot (its dual / weight is the price), and the options: CO2 cap
  (dual = CO2 price) or CO2 price, renewable share, planning reserve margin, min/max build per
  carrier, ramp limits (per hour, times the duration, within each period).

Every input a user sweeps is a ``gridprox.Parameter`` (demand, availability, marginal and fuel
costs, fixed costs, CO2 cap and price, VOLL, renewable target, reserve requirement), so a sweep
refills numbers and never recompiles.  With ``stochastic=True`` a system's scenarios become a
two-stage stochastic model (shared capacities, one operation block per scenario weighted by its
probability), PyPSA's ``set_scenarios`` semantics.

The LP's parts are built in ``builders.py`` (one function per component family), named inputs
are read in ``inputs.py``, and sweeps run through ``gridprox.sweep.batch``.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import modeling as gp
from .builders import SHEDDING, build, renewable_carriers
from .inputs import POLICY_INPUTS, InputEditor, check_overrides
from .layout import Time
from .system import System
from .timeseries import apply_resolution

__all__ = ["CapacityExpansion", "SHEDDING"]


class CapacityExpansion:
    """The planning LP of ``system``; see the module docstring for the formulation.

    Time resolution (at most one): ``hours`` (first N snapshots, weights rescaled to the full
    horizon), ``resample`` ("3h": N-hour steps), ``rep_days`` (K representative days by k-means,
    storage cyclic per day).  Policies (``None`` keeps the system's ``policies``): ``co2_cap``
    (t over the horizon), ``co2_price`` (currency/t), ``renewable_share`` (of weighted demand,
    met by ``renewable_carriers``; default: generator carriers without emissions, shedding
    excluded), ``reserve_margin`` (capacity credit at the peak-demand snapshot >= (1 + margin) x
    peak demand), ``ramp_limits`` (use the generators' ramp columns), ``min_build`` /
    ``max_build`` ({carrier: total capacity}).  ``scenario`` applies one of the system's
    scenarios; ``stochastic=True`` builds the two-stage stochastic model over all of them.
    ``power_flow``: "kvl" (lines with a reactance ``x`` obey Kirchhoff's voltage law, the
    linearised power flow) or "transport" (every line only by its capacity); ``kvl``: how that law
    is written, "cycles" (PyPSA's) or "angles" (voltage angles), the same optimum
    (``energy/network.py``; comparisons/kvl_formulation.py measures PDHG on both).
    """

    def __init__(self, system: System, hours: Optional[int] = None, resample=None, rep_days: Optional[int] = None,
                 co2_cap: Optional[float] = None, co2_price: Optional[float] = None,
                 renewable_share: Optional[float] = None, reserve_margin: Optional[float] = None,
                 ramp_limits: bool = True, renewable_carriers: Optional[Sequence[str]] = None,
                 min_build: Optional[Mapping[str, float]] = None, max_build: Optional[Mapping[str, float]] = None,
                 scenario: Optional[str] = None, stochastic: bool = False, seed: int = 0,
                 power_flow: str = "kvl", kvl: str = "cycles"):
        if not isinstance(system, System):
            raise TypeError(f"CapacityExpansion expects a gridprox System, got {type(system).__name__}")
        if power_flow not in ("kvl", "transport"):
            raise ValueError(f"power_flow must be 'kvl' or 'transport', got {power_flow!r}")
        if kvl not in ("cycles", "angles"):
            raise ValueError(f"kvl must be 'cycles' or 'angles', got {kvl!r}")
        self.options = dict(hours=hours, resample=resample, rep_days=rep_days, co2_cap=co2_cap,
                            co2_price=co2_price, renewable_share=renewable_share, reserve_margin=reserve_margin,
                            ramp_limits=ramp_limits, renewable_carriers=renewable_carriers, min_build=min_build,
                            max_build=max_build, scenario=scenario, stochastic=stochastic, seed=seed,
                            power_flow=power_flow, kvl=kvl)
        self.source = system
        t0 = time.perf_counter()
        base = self._with_policies(apply_resolution(system, hours, resample, rep_days, seed=seed))
        self.system, self.systems, self.time = self._blocks(base)
        self.inputs: dict = {}
        self.editor = InputEditor(self)
        self._build()
        self.build_seconds = time.perf_counter() - t0

    def _with_policies(self, base: System) -> System:
        """``base`` (a copy where it is the caller's System) with the policy options in its meta."""
        if base is self.source:
            base = base.copy()
        policies = dict(base.meta.get("policies") or {})
        for key in POLICY_INPUTS:
            value = self.options[key]
            if value is not None:
                if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and value >= 0):
                    raise ValueError(f"{key} must be a non-negative number, got {value!r}")
                policies[key] = float(value)
        base.meta["policies"] = policies
        return base

    def _blocks(self, base: System):
        """The model's System, one System per operation block (scenario) and their snapshots."""
        scenario, stochastic = self.options["scenario"], self.options["stochastic"]
        if stochastic and scenario is not None:
            raise ValueError("choose scenario=NAME (one deterministic scenario) or stochastic=True, not both")
        if not stochastic:
            base = base if scenario is None else base.scenario(scenario)
            return base, [base], Time.build(base, ["base" if scenario is None else scenario], [1.0])
        if base.scenarios.empty:
            raise ValueError(f"stochastic=True but system {self.source.name!r} has no scenarios")
        names = list(base.scenarios.index)
        prob = base.scenarios["weight"].to_numpy(float)
        if not np.isclose(prob.sum(), 1.0):
            raise ValueError(f"scenario weights must sum to 1 for a stochastic model, got {prob.sum():g}")
        check_overrides(base, names)
        return base, [base.scenario(s) for s in names], Time.build(base, names, prob)

    def _build(self):
        b = build(self.system, self.time, self.options)
        self.comp, self.buses, self.emission_factor = b.comp, b.buses, b.emission_factor
        self.vars, self.cons, self.params = b.vars, b.cons, b.params
        self.shed_buses, self.row_scale = b.shed_buses, b.row_scale
        self.problem = gp.Problem(gp.Minimize(b.objective), b.constraints)
        self.set_inputs({})
        self.pp = self.problem.parametric          # compile once

    def renewable_carriers(self) -> list:
        """Carriers counted by renewable_share (option, else policies, else emission-free generators)."""
        return renewable_carriers(self.system, self.options, self.emission_factor)

    def sweepable(self) -> list:
        """Names ``sweep`` accepts: policies, ``demand_scale``, ``voll``, ``<carrier>_capex``
        (overnight cost where the data give one, else annualised capital cost, currency per unit
        of capacity), ``<carrier>_price`` (fuel, currency/MWh_th), ``<carrier>_marginal_cost``
        (currency/MWh), ``<carrier>_availability_scale`` (multiplies that carrier's generator
        profiles: a windier or duller year), and ``scenario`` for systems with scenarios
        (deterministic models).  Carrier names use ``_`` for spaces; every value is >= 0."""
        return self.editor.names()

    def values_for(self, inputs: Mapping) -> dict:
        """{Parameter: value} for named inputs (see ``sweepable``); the rest keep the data's values."""
        return self.editor.values(inputs)

    def set_inputs(self, inputs: Mapping) -> "CapacityExpansion":
        """Set the Parameters for named inputs (e.g. ``{"co2_cap": 1e6}``); ``solve`` uses them."""
        for p, v in self.values_for(inputs).items():
            p.value = v
        self.inputs = dict(inputs)
        return self

    def parameter(self, name: str):
        """The gridprox Parameter called ``name`` (see ``self.params``)."""
        if name not in self.params:
            raise KeyError(f"no Parameter {name!r}; parameters: {', '.join(self.params)}")
        return self.params[name]

    def dual(self, name: str, result, lp) -> list:
        """Duals of the constraints called ``name`` in HiGHS's convention (d objective / d right-hand
        side; a balance's dual is weight x price), one array per constraint, shaped like it."""
        y = np.asarray(result.y, dtype=float)
        z = None if result.z is None else np.asarray(result.z, dtype=float)
        out = []
        for con in self.cons[name]:
            if con.id in self.pp.row_maps:
                start, size = self.pp.row_maps[con.id]
                dual = y[start:start + size]
            else:
                if z is None:
                    z = lp.c - lp.A.T @ y
                dual = -self.pp.bound_maps[con.id].dual(z)
            out.append(dual.reshape(con.shape) * self.row_scale.get(name, 1.0))
        return out

    def describe(self) -> dict:
        """Sizes for the CLI: zones, snapshots, technologies, description, LP shape."""
        info = self.system.describe()
        m, n = self.pp.shape
        return {"zones": info["zones"], "snapshots": self.time.T, "technologies": info["technologies"],
                "description": info["description"], "variables": n, "constraints": m,
                "nonzeros": int(self.pp.A.nnz)}

    def lp(self, inputs: Optional[Mapping] = None):
        """The LinearProgram at the current inputs (or ``inputs`` on top of the data)."""
        if inputs is None:
            return self.pp.lp()
        return self.pp.lp(self.values_for(inputs))

    def batch(self, scenarios: Sequence[Mapping]):
        """One batched LinearProgram for a list of input dicts (A shared where it does not vary)."""
        lp = self.pp.batch([self.values_for(s) for s in scenarios])
        if lp.A_values is not None and np.array_equal(lp.A_values, np.broadcast_to(lp.A_values[:1], lp.A_values.shape)):
            lp = replace(lp, A=sp.csr_matrix((lp.A_values[0].copy(), lp.A.indices, lp.A.indptr), shape=lp.A.shape),
                         A_values=None)
        return lp

    def solve(self, solver: str = "auto", tol: float = 1e-4, device="auto", inputs: Optional[Mapping] = None,
              polish="auto", multilevel="auto", **solver_opts):
        """Solve and return a PlanningResult.  ``solver="auto"`` picks by ``solvers.choose_solver``
        (HiGHS on a CPU, PDHG on a GPU) and says so in the result's message.  ``tol`` is PDHG's
        relative KKT tolerance; HiGHS, Gurobi and cvxpy keep their own (tighter) defaults unless
        given in ``solver_opts``.  ``polish``: "auto" makes a PDHG answer an exact optimal vertex
        with HiGHS's crossover (``solve_lp(polish="crossover")``), so capacities and prices are
        exact; None keeps PDHG's point (within ``tol``).  ``multilevel``: True or coarse steps in
        hours start the solver from the model solved on coarser time grids (``energy.multilevel``):
        PDHG from the prolonged point of each level in turn (True: 24 h then 6 h), HiGHS's simplex
        from the crossover of one level's prolonged optimum (True: 24 h; ``solvers.coarse_start``);
        "auto": HiGHS's simplex from the 24 h grid where ``solver="auto"`` races it (against HiGHS's
        IPM, or PDHG + crossover from 250k nonzeros, which win where that start does not pay) and
        the model has a daily grid coarser than its own, else none; None: none.
        ``result.raw.stages`` has each stage's iterations and seconds."""
        from ..solvers import choose_solver, solve_lp
        from ..sweep.batch import solver_options
        from .results import planning_result

        if inputs is not None:
            model = self._model_for([inputs])
            if model is not self:  # a policy row these inputs need is missing: solve a sibling with it
                return model.solve(solver, tol, device, inputs, polish, multilevel, **solver_opts)
            self.set_inputs(inputs)
        lp = self.pp.lp()
        why, picked = None, solver == "auto"
        if picked:
            solver, chosen, why = choose_solver(False, device, solver_opts.get("threads"), lp.A.nnz)
            solver_opts = {**chosen, **solver_opts}
        if polish == "auto":
            polish = "crossover" if solver == "pdhg" else None
        opts = solver_options(solver, tol, device, solver_opts)
        start = self._multilevel(multilevel, solver, picked, device, opts)
        if start is not None and start.warm_start is not None:
            opts["warm_start"] = start.warm_start
        if start is not None and start.highs is not None:
            opts["start"] = start.highs
        res = solve_lp(lp, solver=solver, polish=polish, **opts)
        if start is not None and start.stages:
            res.stages = {**start.stages, **(res.stages or {"pdhg": {"iterations": res.iterations,
                                                                      "seconds": res.seconds}})}
        if start is not None and start.message:
            why = f"{why}; {start.message}" if why else start.message
        if why is not None:
            res.message = f"{why}; {res.message}" if res.message else why
        return planning_result(self, res, lp, self.inputs)

    def _multilevel(self, levels, solver: str, picked: bool, device, opts: dict):
        """The coarse-grid start ``solve(multilevel=levels)`` asks for (a MultilevelStart), or None."""
        from ..solvers import SolverInputError
        from .multilevel import MultilevelStart, highs_start, multilevel_start

        auto = isinstance(levels, str) and levels == "auto"
        raced = solver == "concurrent" or (solver == "highs" and opts.get("method") == "concurrent")
        if levels is None or levels is False or (auto and not (picked and raced)):
            return None
        if solver in ("highs", "concurrent"):
            try:
                start = highs_start(self, True if auto else levels)
            except ValueError as exc:
                if not auto:        # steps the caller named (a list, a number or a string such as "12h")
                    raise SolverInputError(f"multilevel={levels!r}: {exc}") from None
                return MultilevelStart(message=f"multilevel: none ({exc})")
            return MultilevelStart(highs=start, message=f"HiGHS's simplex from {start.label}")
        if solver != "pdhg":
            raise SolverInputError(f"multilevel={levels!r} is a PDHG or HiGHS start; solver={solver!r} "
                                   "does not take one")
        if "warm_start" in opts:
            raise SolverInputError("multilevel and warm_start are two starts: give one")
        shared = {k: v for k, v in opts.items() if k in ("threads", "native", "dtype", "max_iter", "time_limit")}
        # coarse levels to the fine tol: their iterations are cheap, and a looser start (1e-3) saved
        # the fine solve little on step-constant data (tests/test_multilevel.py)
        return multilevel_start(self, levels=levels, tol=opts["tol"], device=device, **shared)

    def sweep(self, spec, product: bool = True, batch_size: int = 16, out=None, executor=None,
              progress: bool = True, solver: str = "auto", tol: float = 1e-4, device="auto",
              warm_start: bool = True, resume: bool = True, overwrite: bool = False,
              **solver_opts) -> pd.DataFrame:
        """Solve every scenario of ``spec`` (``{"co2_cap": [...], ...}`` or a list of dicts);
        one row per scenario: inputs, status, objective, ``cap_{zone}/{technology}``,
        total_emissions_t, residuals, message.  Compiled once; PDHG iterates ``batch_size``
        scenarios at once, streaming blocks of neighbouring scenarios (``stream_plan``): as
        one finishes, the waiting one nearest to it enters, started from the solved ones
        near it; HiGHS solves the scenarios in that order in one instance, each from the
        last one's basis (where a scenario's optimum is not unique, that may be another
        optimal vertex than a cold solve finds: same objective, other capacities);
        results are written to ``out`` as they finish and a rerun of the same model resumes;
        ``out`` written by another model or solver is refused unless ``overwrite``
        (``gridprox.sweep.run_sweep``).  ``solver="auto"``: HiGHS on a CPU (exact, and on the
        real models measured many times faster than PDHG), PDHG on a GPU (``choose_solver``)."""
        from ..solvers import choose_solver
        from ..sweep import expand, run_sweep
        from ..sweep.batch import SweepBatch, sweep_plan

        if solver == "auto":
            solver = choose_solver(True, device)[0]
        scenarios = expand(spec, product=product)
        model = self._model_for(scenarios)
        solve_batch = SweepBatch(model, solver=solver, tol=tol, device=device, warm_start=warm_start,
                                 solver_opts=solver_opts, width=batch_size)
        plan = sweep_plan(scenarios, solver, warm_start, batch_size)
        return run_sweep(solve_batch, scenarios, batch_size=batch_size, executor=executor, out=out,
                         resume=resume, progress=progress, plan=plan, overwrite=overwrite)

    def _model_for(self, scenarios: Sequence[Mapping]) -> "CapacityExpansion":
        """This model, or a sibling with the policy rows the scenarios need."""
        extra = {}
        for sc in scenarios:
            systems, _ = self.editor.apply(sc)
            for name in self.editor.missing_rows(systems):
                extra.setdefault(name, float(systems[0].policies[name]))
        if not extra:
            return self
        return CapacityExpansion(self.source, **{**self.options, **extra})

    def verify(self, tol: float = 1e-4, device="auto", solver: str = "auto", pdhg: bool = False,
               pdhg_time_limit: float = 60.0, gurobi_max_size: int = 2000, reference: str = "solver") -> dict:
        """Check the answer ``solve(solver, tol, device)`` gives (default: "auto", as ``gridprox
        solve``) against an independent solver: Gurobi where it is installed and its size-limited licence admits the LP, else
        HiGHS's interior point method without crossover (HiGHS simplex when the checked solver is
        neither HiGHS nor the "concurrent" race).  Every measure is recomputed here from the answers' x, not read from the
        solvers.  passed: both optimal; the checked objective is c·x of its own x, within ``tol``
        (relative) of the reference's; every row and bound of its x within ``tol`` of its scale.
        ``reference="kkt"`` solves nothing else: the answer's own duals must certify it, the KKT
        conditions recomputed with numpy (every reduced cost within ``tol`` of its scale, and the
        primal-dual gap, which bounds the objective's error, within ``tol`` relative); for LPs
        whose second solve would take long (a full year: an interior point for tens of minutes).
        ``pdhg=True`` also runs PDHG (``tol``, ``device``, at most ``pdhg_time_limit`` s) and
        reports it as information only.  Returns {"passed", "lines", "results", "checks"}."""
        import importlib.util

        from ..errors import SolverError
        from ..solvers import choose_solver, solve_lp
        from ..sweep.batch import solver_options
        from .results import objective_accuracy, objective_text, percent_text, worst_row

        if reference not in ("solver", "kkt"):
            raise ValueError(f"reference={reference!r}: 'solver' (an independent solve) or 'kkt' (the answer's duals)")
        lp = self.pp.lp()
        m, n = lp.A.shape
        unit = f"{self.system.currency}/a"
        lines = [f"{self.system.name}: {n} variables, {m} constraints, {lp.A.nnz} nonzeros, {self.time.T} snapshots"]
        why, asked = "", solver
        if solver == "auto":
            solver, _, why = choose_solver(False, device, nnz=lp.A.nnz)
        refs = []           # none with reference="kkt": the answer's own duals judge it
        if reference == "solver":
            if solver != "gurobi" and max(m, n) <= gurobi_max_size and importlib.util.find_spec("gurobipy"):
                refs.append(("gurobi", {}, "another vendor's solver"))
            # the reference must not be the checked solver: HiGHS (or a race its simplex may win) is
            # checked against an interior point without crossover, anything else against the simplex
            refs.append(("highs-ipm", {"method": "ipm", "run_crossover": "off"}, "an interior point, no crossover")
                        if solver in ("highs", "concurrent") else ("highs", {"method": "simplex"},
                                                                    "an exact simplex vertex"))
        results, measures = {}, {}

        def bound_rel(x) -> float:   # worst bound violation, relative to 1 + the bound's size
            low, high = np.where(np.isfinite(lp.lx), lp.lx, x), np.where(np.isfinite(lp.ux), lp.ux, x)
            viol = np.maximum(low - x, 0) + np.maximum(x - high, 0)
            return float((viol / (1 + np.maximum(np.abs(low), np.abs(high)))).max(initial=0.0))

        def run(label, backend, solve):
            try:
                res = solve()
            except SolverError as exc:   # a missing optional solver or a licence too small: a line, not a crash
                lines.append(f"  {label} not run: {' '.join(str(exc).split())}")
                return None
            results[label] = res
            ok = res.x is not None and np.all(np.isfinite(res.x))
            duals = ok and res.y is not None and np.all(np.isfinite(res.y))
            mes = lp.residuals(res.x, res.y if duals else None) if ok else {}
            mes["objective"] = lp.objective(res.x) if ok else math.nan
            mes["bound_rel"] = bound_rel(np.asarray(res.x, dtype=float)) if ok else math.nan
            mes.update(objective_accuracy(res.status, res.solver or backend, mes["objective"], res.residuals or {}))
            measures[label] = mes
            obj = mes["objective"]
            shown = (f"{objective_text(obj, mes['error'])} {unit} "
                     f"({'exact' if mes['exact'] else '±' + percent_text(mes['error']) + ' %'})"
                     if math.isfinite(obj) else "none")
            worst = worst_row(self, lp, res.x) if ok else None
            row = f"  worst row {worst[0]:.1e} {worst[2]} ({worst[1]})" if worst and worst[0] > 0 else ""
            lines.append(f"  {label:<10} {res.status:<20} objective {shown}{row}  {res.seconds:.2f} s")
            return res

        lines.append(f"checked     {solver}" + (f"  ({why})" if why else ""))
        checked = run(solver, solver, lambda: self.solve(asked, tol=tol, device=device).raw)
        ref_label = None
        for label, opts, what in refs:
            lines.append(f"reference   {label}  ({what}, independent of the checked solver)")
            if run(label, label.split("-")[0], lambda: solve_lp(lp, solver=label.split("-")[0], **opts)) is not None:
                ref_label = label
                break
        if pdhg and solver != "pdhg":
            lines.append(f"information pdhg at tol {tol:g}, at most {pdhg_time_limit:g} s (not part of PASS/FAIL)")
            run("pdhg", "pdhg", lambda: solve_lp(lp, solver="pdhg", **solver_options(
                "pdhg", tol, device, {"time_limit": pdhg_time_limit})))

        mine, ref = measures.get(solver, {}), measures.get(ref_label, {})
        obj, ref_obj = mine.get("objective", math.nan), ref.get("objective", math.nan)
        reported = checked.objective if checked is not None else math.nan
        own = abs(reported - obj) / max(1.0, abs(obj)) if math.isfinite(obj) else math.nan
        diff = abs(obj - ref_obj) / max(1.0, abs(ref_obj)) if math.isfinite(ref_obj) else math.nan
        checks = [
            (f"{solver} optimal", checked is not None and checked.status == "optimal" and math.isfinite(obj)),
            (f"its objective is c·x of its own x (relative difference {own:.1e})", own <= 1e-9),
            (f"every row within tol of its scale (worst {mine.get('row_rel', math.nan):.1e} relative)",
             mine.get("row_rel", math.inf) <= tol),
            (f"every bound within tol of its scale (worst {mine.get('bound_rel', math.nan):.1e} relative)",
             mine.get("bound_rel", math.inf) <= tol),
        ]
        if reference == "kkt":      # the answer's duals as its certificate: no second solve
            bound = mine.get("gap_abs", math.nan) / max(1.0, abs(obj)) if math.isfinite(obj) else math.nan
            lines.append("reference   kkt  (the answer's own duals, the KKT conditions recomputed with numpy)")
            checks += [
                (f"its duals feasible: every reduced cost within tol of its scale (worst "
                 f"{mine.get('col_rel', math.nan):.1e} relative)", mine.get("col_rel", math.inf) <= tol),
                (f"primal-dual gap within tol, bounding the objective's error (relative {bound:.1e})", bound <= tol),
            ]
        else:
            checks += [
                (f"reference {ref_label or '(none ran)'} optimal, its rows within tol",
                 ref_label is not None and results[ref_label].status == "optimal"
                 and ref.get("row_rel", math.inf) <= tol),
                (f"objective within tol of the reference's (relative difference {diff:.1e})", diff <= tol),
            ]
        lines.append(f"checks (tol {tol:.0e})")
        lines.extend(f"  {'ok  ' if ok else 'FAIL'}  {what}" for what, ok in checks)
        passed = all(ok for _, ok in checks)
        return {"passed": bool(passed), "lines": lines, "results": results, "checks": checks}

    def __repr__(self) -> str:
        m, n = self.pp.shape
        return (f"CapacityExpansion({self.system.name!r}: {self.time.T} snapshots, {len(self.buses)} buses, "
                f"{n} variables, {m} constraints)")
