"""Batched, preconditioned, restarted PDHG for linear programs (torch only).

Solves B LPs that share A's sparsity pattern at once,

    minimise c·x + c0   s.t.  lc <= A x <= uc,   lx <= x <= ux,

with iterates in column layout, (n, W) and (m, W), and every scalar of the method a (1, W)
row, so each scenario keeps its own state and stops on its own test.  ``solve`` below is
the whole method: plain iterations up to a check (``backends``), then at the check the
measures (``measures``), restarts (``method``), termination (``termination``), feasibility
polishing of columns past PDLP's ℓ2 measures (``polish``), and the columns that finished leave
while the schedule's next scenarios enter (``schedule``)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import torch

from .. import logs
from . import backends
from .data import LPTensors, ScaledLP, Scaling, gather
from .measures import METRICS, fixed_point_error, metrics, point_metrics, relative_gap
from .method import advance, restart, restart_due, set_steps
from .options import DEFAULT_MAX_ITER, OPTIMAL, PDHGOptions
from .origin import move_origin, shifted
from . import polish as polish_mod
from .polish import budget_for, polish
from .schedule import AllAtOnce, Stream
from .state import Iterates
from .termination import count_certificates, each_within, finished, keep_best, limited, sides_within


@dataclass
class PDHGSolution:
    """Per-scenario results in original units: x (B, n), y (B, m), z = c − Aᵀy (B, n); status,
    iterations, seconds are lists; residuals maps METRICS' names to (B,) tensors."""

    x: torch.Tensor
    y: torch.Tensor
    z: torch.Tensor
    status: list
    iterations: list
    seconds: list
    residuals: dict
    primal_weight: Optional[torch.Tensor] = None   # (B,) final ω/ω₀ (see ``solve``)
    threads: Optional[int] = None                  # CPU threads at the end (None: not a CPU solve)


def solve(lp: LPTensors, options: Optional[PDHGOptions] = None, warm_start=None,
          width: Optional[int] = None, coordinates=None, on_finish=None,
          scaling: Optional[Scaling] = None, norms=None, weight_norms=None) -> PDHGSolution:
    """Solve an LP or a batch.  ``warm_start``: (x, y) or (x, y, primal_weight) in original
    units, (n,)/(m,) or (n, B)/(m, B); the weight (a float or (B,), NaN/None: the default) is
    relative to ω₀ = θ_b/θ_c as returned in ``primal_weight``, which stays meaningful for a
    neighbouring LP whose c or bounds are scaled.  ``width`` < B streams the batch through
    ``width`` columns (``schedule.Stream``, nearest by ``coordinates`` (B, d)); a scenario's
    iterations, seconds and limits count from when it entered.  ``on_finish(ids, solution)``
    is called as scenarios finish, with their indices and the solution filled so far.  A primal ray with an infeasible point ends as
    "infeasible_or_unbounded" (``solvers.solve_lp`` settles it).  ``scaling``: ``lp.A``'s, made
    by an earlier solve with the same options (polishing reuses its solve's).  ``norms``: (‖b‖, ‖c‖),
    floats or (B,), that the relative measures divide by in place of ``lp``'s own, ``weight_norms``
    those ω₀ is made of (``ScaledLP.build``; ``solvers.solve_lp`` passes a presolved LP's)."""
    lp = lp.checked()
    options = options or PDHGOptions()
    B = lp.batch_size
    schedule = Stream(B, width, coordinates) if width is not None and width < B else AllAtOnce(B)
    previous = torch.get_num_threads()
    threads, tuner = backends.threads_for(lp.A, options)
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        with logs.verbose(options.verbose):
            sol = _Solve(lp, options, warm_start, schedule, on_finish, tuner, scaling, norms, weight_norms).run()
        if lp.A.device.type == "cpu":
            sol.threads = torch.get_num_threads()
    finally:
        if tuner is not None:
            tuner.close()
        torch.set_num_threads(previous)
    return sol


class _Solve:
    """One solve: the scaled data of all B scenarios, the columns iterating now (``s``, with
    their data ``d`` and matrix ``A``), and the outputs, filled as scenarios finish."""

    def __init__(self, lp: LPTensors, opt: PDHGOptions, warm_start, schedule, on_finish, tuner, scaling=None,
                 norms=None, weight_norms=None):
        self.opt, self.schedule, self.on_finish, self.lp = opt, schedule, on_finish, lp
        self.start = time.perf_counter()
        self.B, (self.m, self.n) = B, (m, n) = lp.batch_size, lp.A.shape
        fdt = self.fdt = dict(dtype=lp.A.dtype, device=lp.A.device)
        self.scaling = scaling or Scaling.of(lp.A, opt.ruiz_iters, opt.pc_alpha)
        rows = lambda pair: None if pair is None else tuple(torch.as_tensor(v, **fdt).reshape(-1).expand(B)  # noqa: E731
                                                            for v in pair)
        self.pool, self.A_pool = ScaledLP.build(lp, self.scaling, rows(norms), rows(weight_norms))
        self.moves_origin = lp.A.dtype != torch.float64      # float32: origin.py
        self.start_X, self.start_Y = torch.zeros(n, B, **fdt), torch.zeros(m, B, **fdt)
        self.start_weight = torch.full((1, B), math.nan, **fdt)
        self.warm_started = warm_start is not None
        if warm_start is not None:
            x0, y0, weight = _unpack_warm(warm_start)
            self.start_X = self.start_X + _col(torch.as_tensor(x0, **fdt)) / self.pool.d_col
            self.start_Y = self.start_Y + _col(torch.as_tensor(y0, **fdt)) / self.pool.d_row
            if weight is not None:
                self.start_weight = torch.as_tensor(weight, **fdt).reshape(1, -1).expand(1, B).clone()
        metrics = torch.full((5, B), math.nan, **fdt)
        self.sol = PDHGSolution(torch.zeros(B, n, **fdt), torch.zeros(B, m, **fdt), torch.zeros(B, n, **fdt),
                                [None] * B, [0] * B, [0.0] * B, dict(zip(METRICS, metrics)),
                                torch.full((B,), math.nan, **fdt))
        self.metrics = metrics
        self.entered = [(0, self.start)] * B              # (iteration, time) each scenario entered
        self.polished = [0] * B                           # iterations each spent polishing
        self.capped = [0] * B                             # ... of them on capped problems (see _cap)
        self.iteration = self.checks = 0
        self.progress = logs.Throttle()
        self.s = None
        self._load(schedule.initial)
        self.backend = backends.choose(self.A_pool, opt, tuner)

    def run(self) -> PDHGSolution:
        if self.warm_started:       # a start that meets every test is the answer (a solve's own result)
            self._settle(sorted(self._accept(list(range(self.s.W)), self.s.point0(), self.s.Y)))
        s, opt = self.s, self.opt
        baseline = False
        while s.W > 0:
            n = self._plain_count()
            if baseline and self.moves_origin:
                move_origin(s, s.need_baseline)
                self._shift()
            if n > 0 and baseline:         # the fixed-point error after a restart, its epoch's reference
                self.iteration += 1
                sums = self.backend.check(s, self.dd, self.A)
                s.fpe0 = torch.where(s.need_baseline, fixed_point_error(sums, s), s.fpe0)
                s.need_baseline.zero_()
                advance(s)
                n -= 1
            if n > 0:
                self.backend.run(s, self.dd, self.A, n)
                self.iteration += n
            self.iteration += 1
            sums = self.backend.check(s, self.dd, self.A)
            met = metrics(sums, self.dd)
            due = restart_due(s, sums, self.iteration - s.born, opt.check_every)
            self.checks += 1
            if self.checks % opt.infeasibility_every == 0 or bool((s.pinf_count + s.dinf_count > 0).any()):
                count_certificates(s, self.dd, self.A, opt.infeasibility_tol)
            keep_best(s, met)
            s.omega_point = s.omega
            advance(s)
            restart(s, due, sums, met)
            baseline = bool(s.need_baseline.any())
            if opt.verbose:
                self._log(met)
            sides = self._sides(met)
            done = finished(s, met, opt, sides)
            self._record(done, s.point(), s.YH, met)
            polished = self._polish(met, done, sides) if opt.each_row and opt.feasibility_polishing else {}
            now, best = self._limited({**done, **polished}, met)
            self._record(now, s.point(), s.YH, met)
            self._record(best, s.XBEST, s.YBEST, s.best_metrics)
            self._settle(sorted({**done, **polished, **now, **best}))
        return self.sol

    def _plain_count(self) -> int:
        """Plain iterations before the next check (every check_every-th, or the iteration limit)."""
        F, max_iter = self.opt.check_every, self.opt.max_iter or DEFAULT_MAX_ITER
        return min(F - 1 - self.iteration % F, max_iter + self.oldest - 1 - self.iteration)

    def _limited(self, done: dict, met) -> tuple[dict, dict]:
        """``limited``'s two {column: status}: from the current point, from the best one."""
        s, now = self.s, time.perf_counter()
        spent = [(self._spent(i), now - self.entered[i][1]) for i in s.ids.tolist()]
        each = (lambda tol: each_within(s.point(), s.AXH, s.YH, s.ATYH, self.dd, self._abs_A(), tol)
                ) if self.opt.each_row else None
        return limited(self.s, met, self.opt, *zip(*spent), self.opt.max_iter or DEFAULT_MAX_ITER, done, each)

    def _spent(self, i: int) -> int:
        """Scenario ``i``'s iterations so far, polishing included."""
        return self.iteration - self.entered[i][0] + self.polished[i]

    def _sides(self, met):
        """(rows, columns) of the checked point within tol row by row, (W,) each, where the per-row
        test is on and some column meets PDLP's ℓ2 measures (else None)."""
        s, opt = self.s, self.opt
        if not opt.each_row or not bool((met[:3] <= opt.tol).all(0).any()):
            return None
        return sides_within(s.point(), s.AXH, s.YH, s.ATYH, self.dd, self._abs_A(), opt.tol)

    def _polish(self, met, done: dict, sides) -> dict:
        """Columns that meet PDLP's ℓ2 measures keep each side of the checked point that meets its
        tests (``_keep_sides``); those whose iterations grew POLISH_SPACING-fold since their last
        attempt are polished (``_attempt``).  Where a side improved and the kept pair meets the
        gap test, the pair is judged by every test (``_accept``): {column: status}."""
        s, opt = self.s, self.opt
        met_l2 = (met[:3] <= opt.tol).all(0).tolist()       # per column, as if solved alone
        live = [c for c in range(s.W) if met_l2[c] and c not in done]
        if not live:
            return {}
        improved = torch.zeros(s.W, dtype=torch.bool, device=s.ids.device)
        if sides is not None:
            at = torch.tensor(live, device=s.ids.device)
            improved[at] = self._keep_sides(at, s.point()[:, at], s.YH[:, at], (met[:, at], sides[0][at], sides[1][at]))
        ids, polish_at = s.ids.tolist(), s.polish_at[0].tolist()       # one transfer, not one a column
        due = [c for c in live if self._scheduled(ids[c]) >= polish_at[c]]
        if due:
            improved |= self._attempt(due, [ids[c] for c in due], met)
        b = s.pol_bounds
        pairs = torch.nonzero(improved & torch.isfinite(b).all(0) & (relative_gap(b[0], b[1]) <= opt.tol)).flatten()
        return self._accept(pairs.tolist(), s.XPOL[:, pairs], s.YPOL[:, pairs]) if pairs.numel() else {}

    def _scheduled(self, i: int) -> int:
        """Scenario ``i``'s iterations that set its next attempt: all but the capped problems'."""
        return self._spent(i) - self.capped[i]

    def _attempt(self, cols: list[int], ids: list[int], met) -> torch.Tensor:
        """Columns ``cols`` (scenarios ``ids``) polished (polish.py), within what their limits leave;
        their x' and y' join the kept sides, then ``_cap`` (``met``: the checked point's).  (W,):
        where a side improved."""
        s, opt, d = self.s, self.opt, self.d
        spent = [self._scheduled(i) for i in ids]
        time_left = self._time_left(ids)
        # each problem within what the limits leave (the three together may pass max_iter by two budgets)
        budget = min(budget_for(min(spent), opt.check_every), (opt.max_iter or DEFAULT_MAX_ITER) - max(spent))
        improved = torch.zeros(s.W, dtype=torch.bool, device=s.ids.device)
        if budget <= 0 or (time_left is not None and time_left <= 0):
            return improved
        idx = torch.tensor(cols, device=s.ids.device)
        s.polish_at[:, idx] = polish_mod.POLISH_SPACING * torch.tensor(spent, **self.fdt)
        d_col, d_row = gather(d.d_col, idx, s.W), gather(d.d_row, idx, s.W)
        x, y, its = polish(self.lp, s.ids[idx], d_col * s.point()[:, idx], d_row * s.YH[:, idx],
                           opt, budget, time_left, self.scaling)
        for i, k in zip(ids, its):
            self.polished[i] += k
        improved[idx] = self._keep_sides(idx, x / d_col, y / d_row)
        time_left = self._time_left(ids)
        if time_left is None or time_left > 0:
            improved[idx] |= self._cap(idx, met, budget, time_left)
        _LOG.info(f"pdhg: feasibility polishing at iteration {self.iteration:,}: {len(cols)} scenarios")
        return improved

    def _time_left(self, ids: list[int]) -> float | None:
        """Seconds scenarios ``ids`` have left under the time limit (None: no limit)."""
        limit = self.opt.time_limit
        return None if limit is None else limit - max(time.perf_counter() - self.entered[i][1] for i in ids)

    def _cap(self, idx: torch.Tensor, met, budget: int, time_left: float | None) -> torch.Tensor:
        """Where the kept pair of columns ``idx`` misses only the gap, and the cap (``cap_for`` the
        kept y) lies above both objectives of the checked point ``met`` (they bracket the optimum
        within about tol; below them the capped problem is likely infeasible), the kept x is solved
        again under the cap and joins the kept sides.  Those iterations count but do not move the
        next attempt (``_scheduled``), so the cap cannot delay an attempt that succeeds without it.
        (k,): where a side improved."""
        s, d, tol = self.s, self.d, self.opt.tol
        b = s.pol_bounds[:, idx]
        cap = polish_mod.cap_for(b[1:], tol)
        gap_only = torch.isfinite(b).all(0) & (relative_gap(b[0], b[1]) > tol)
        at = torch.nonzero(gap_only & (cap[0] >= torch.maximum(met[3, idx], met[4, idx]))).flatten()
        improved = torch.zeros(idx.numel(), dtype=torch.bool, device=idx.device)
        if at.numel() == 0:
            return improved
        sub = idx[at]
        scale = gather(d.d_col, sub, s.W)
        x, its = polish_mod.polish_capped(self.lp, s.ids[sub], scale * s.XPOL[:, sub], cap[:, at], self.opt,
                                          budget, time_left)
        for i, k in zip(s.ids[sub].tolist(), its):
            self.polished[i] += k
            self.capped[i] += k
        improved[at] = self._keep_sides(sub, x / scale, s.YPOL[:, sub])
        return improved

    def _judge(self, idx: torch.Tensor, X, Y):
        """Columns ``idx``'s points (X, Y) (scaled): their ``metrics`` and, where the per-row
        test is on, ``sides_within`` (else all true)."""
        A = self.A.select(idx) if self.A.batch_values > 1 else self.A
        AX, ATY, dk = A.matmat(X), A.rmatmat(Y), self.d.columns(idx, self.s.W)
        met = point_metrics(X, Y, AX, ATY, dk)
        if not self.opt.each_row:
            return met, *(torch.ones(idx.numel(), dtype=torch.bool, device=X.device),) * 2
        absA = self._abs_A().select(idx) if self.A.batch_values > 1 else self._abs_A()
        return (met, *sides_within(X, AX, Y, ATY, dk, absA, self.opt.tol))

    def _keep_sides(self, idx: torch.Tensor, X, Y, judged=None) -> torch.Tensor:
        """Points (X, Y) (scaled) of columns ``idx``, polished or checked, are kept side by side:
        x where it passes the primal tests (ℓ2 and each row) and costs less than the kept one, y
        where it passes the dual tests (ℓ2 and each column) with a higher dual objective.  The
        best of each side pair up across checks and attempts, so an attempt need only mend the
        side that failed.  ``judged``: ``_judge``'s answer where known.  (k,): a side improved."""
        s, tol = self.s, self.opt.tol
        met, rows, cols = judged if judged is not None else self._judge(idx, X, Y)
        primal = (met[0] <= tol) & rows & (met[3] < s.pol_bounds[0, idx])
        dual = (met[1] <= tol) & cols & (met[4] > s.pol_bounds[1, idx])
        for side, (ok, P, kept) in enumerate(((primal, X, s.XPOL), (dual, Y, s.YPOL))):
            at = torch.nonzero(ok).flatten()
            kept[:, idx[at]], s.pol_bounds[side, idx[at]] = P[:, at], met[3 + side, at]
        return primal | dual

    def _accept(self, cols: list[int], X, Y) -> dict:
        """Points (X, Y) (scaled, a column each) for columns ``cols`` are judged by every test
        (the ℓ2 measures and each row and column); those that pass are recorded "optimal":
        {column: status}."""
        s, opt = self.s, self.opt
        idx = torch.tensor(cols, device=s.ids.device)
        met, rows, columns = self._judge(idx, X, Y)
        ok = (met[:3] <= opt.tol).all(0) & rows & columns
        at = torch.nonzero(ok).flatten()
        if at.numel() == 0:
            return {}
        XS, YS, metS = s.X.clone(), s.Y.clone(), torch.full((5, s.W), math.nan, **self.fdt)
        XS[:, idx[at]], YS[:, idx[at]], metS[:, idx[at]] = X[:, at], Y[:, at], met[:, at]
        statuses = {cols[j]: OPTIMAL for j in at.tolist()}
        self._record(statuses, XS, YS, metS)
        return statuses

    def _record(self, statuses: dict, XS, YS, met) -> None:
        """Unscale columns ``statuses`` (column -> status) of (XS, YS) into the outputs."""
        if not statuses:
            return
        s, d, sol = self.s, self.d, self.sol
        idx = torch.tensor(list(statuses), device=s.ids.device)
        pick = lambda t: t if t.shape[1] == 1 else t[:, idx]  # noqa: E731
        Xs, Ys = XS[:, idx], YS[:, idx]
        x = torch.maximum(torch.minimum(pick(d.d_col) * Xs, pick(d.ux_orig)), pick(d.lx_orig))
        ATy = self.A.select(idx).rmatmat(Ys) if self.A.batch_values > 1 else self.A.rmatmat(Ys)
        ids = s.ids[idx]
        sol.x[ids], sol.y[ids] = x.T, (pick(d.d_row) * Ys).T
        sol.z[ids] = ((pick(d.c) - ATy) / pick(d.d_col)).T
        self.metrics[:, ids] = met[:, idx]
        sol.primal_weight[ids] = (s.omega_point / d.omega0)[0, idx]
        now = time.perf_counter()
        for i, st in zip(ids.tolist(), statuses.values()):
            sol.status[i], sol.iterations[i] = st, self._spent(i)
            sol.seconds[i] = now - self.entered[i][1]
        self.schedule.finished(ids.tolist(), [st == OPTIMAL for st in statuses.values()])
        if self.on_finish is not None:
            self.on_finish(ids.tolist(), sol)

    def _settle(self, free: list[int]) -> None:
        """Finished columns leave; the schedule's next scenarios take their places, the rest
        of the free columns are dropped or the newcomers appended."""
        picks = self.schedule.admit(self.schedule.width - self.s.W + len(free))
        k = min(len(free), len(picks))
        if k:
            self._replace(free[:k], picks[:k])
        if len(free) > k:
            gone = set(free[k:])
            self.s.keep(torch.tensor([c for c in range(self.s.W) if c not in gone], dtype=torch.long,
                                     device=self.s.ids.device))
            if self.s.W:
                self._activate()
        self._load(picks[k:])

    def _fresh(self, picks: list[int]) -> Iterates:
        """New columns for scenarios ``picks``: their given or predicted starts."""
        idx = torch.tensor(picks, device=self.fdt["device"])
        d = self.pool.columns(idx, self.B)
        X = gather(self.start_X, idx, self.B).clone()
        Y = gather(self.start_Y, idx, self.B).clone()
        weight = gather(self.start_weight, idx, self.B).expand(1, len(picks)).clone()
        for col, j in enumerate(picks):
            guess = self.schedule.predict(j, self.sol.x, self.sol.y, self.sol.primal_weight)
            if guess is not None:
                X[:, col] = guess[0] / d.d_col[:, min(col, d.d_col.shape[1] - 1)]
                Y[:, col] = guess[1] / d.d_row[:, min(col, d.d_row.shape[1] - 1)]
                if guess[2] is not None:
                    weight[0, col] = guess[2]
        now = self.start if self.iteration == 0 else time.perf_counter()
        for j in picks:
            self.entered[j], self.polished[j], self.capped[j] = (self.iteration, now), 0, 0
        return Iterates.fresh(X, Y, weight, d, idx, self.iteration)

    def _load(self, picks: list[int]) -> None:
        if not picks:
            return
        new = self._fresh(picks)
        if self.s is None:
            self.s = new
        else:
            self.s.append(new)
        self._activate()

    def _replace(self, cols: list[int], picks: list[int]) -> None:
        at = torch.tensor(cols, device=self.s.ids.device)
        new = self._fresh(picks)
        self.s.replace_columns(at, new)
        if self.A_pool.batch_values > 1:      # per-scenario matrix values: select them again
            return self._activate()
        self.d.write_columns(at, self.pool, new.ids)
        self._shift()
        self._set_oldest()
        set_steps(self.s)

    def _activate(self) -> None:
        """Data and matrix of the columns iterating now; scratch for their width."""
        s = self.s
        self._set_oldest()
        self.d = self.pool.columns(s.ids, self.B)
        self.A = self.A_pool if s.W == self.B else self.A_pool.select(s.ids)
        self._shift()
        s.allocate_scratch(self.m, self.n)
        set_steps(s)

    def _shift(self) -> None:
        """``dd``: the data the iterations see, bounds shifted by the columns' origins."""
        if not self.moves_origin:
            self.dd = self.d
            return
        if getattr(self, "_A64", (None, None))[0] is not self.A:
            self._A64 = (self.A, self.A.to(dtype=torch.float64))
        self.dd = shifted(self.d, self.s.XOFF, self._A64[1])

    def _abs_A(self):
        """|Ã| of the columns iterating now (made when first asked for this matrix)."""
        if getattr(self, "_abs", (None, None))[0] is not self.A:
            self._abs = (self.A, self.A.with_values(self.A.values.abs()))
        return self._abs[1]

    def _set_oldest(self) -> None:
        self.oldest = min(self.entered[i][0] for i in self.s.ids.tolist())

    def _log(self, met) -> None:
        if not (self.progress() and _LOG.isEnabledFor(20)):     # 20: INFO, at most one line a second
            return
        worst = met[:3].amax(1).tolist()
        _LOG.info(f"pdhg: iteration {self.iteration:,}, {self.s.W} active, worst relative residuals primal "
                  f"{worst[0]:.1e} dual {worst[1]:.1e} gap {worst[2]:.1e}, omega {float(self.s.omega.median()):.3g}, "
                  f"{time.perf_counter() - self.start:.1f} s")


_LOG = logs.get("pdhg")


def _unpack_warm(warm_start):
    """(x, y) or (x, y, primal_weight) -> (x, y, primal_weight or None)."""
    try:
        parts = tuple(warm_start)
    except TypeError:
        parts = ()
    if len(parts) not in (2, 3):
        raise ValueError("warm_start must be (x, y) or (x, y, primal_weight)")
    return parts if len(parts) == 3 else (*parts, None)


def _col(t: torch.Tensor) -> torch.Tensor:
    """(n,) -> (n, 1); (n, B) column layout as it is."""
    return t[:, None] if t.dim() == 1 else t
