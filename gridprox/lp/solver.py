"""Batched, preconditioned, restarted PDHG for linear programs (torch only).

Solves B LPs that share A's sparsity pattern at once:

    minimise c·x + c0   s.t.  lc <= A x <= uc,   lx <= x <= ux

Iterates are column-layout tensors X (n, B), Y (m, B), so each PDHG iteration is one
sparse product with Aᵀ and one with A (SpMM) plus a handful of elementwise passes.
Every scalar of the method (step, primal weight, restart state, Halpern counter,
status) is a (1, B) tensor: each scenario keeps its own state and stops on its own
test; finished scenarios are compacted away at the next check, so they stop costing work.
A streamed solve (``width`` < B) keeps ``width`` scenarios in the iteration and admits a
waiting one, with fresh method state and a start predicted from the solved ones
(``admission.py``), at the check where one finishes.

The method (formulas in ``shared/notes/pdhg-lp.md``; defaults measured, see
``comparisons/lp_speed.py``):

* preconditioning: Ruiz ℓ∞ (10 passes) then Pock–Chambolle (α = 1), shared by the batch
  when A is; cuPDLPx's bound/objective rescaling θ_b, θ_c enters as the equivalent
  initial primal weight ω₀ = θ_b/θ_c = (1+‖c̃‖)/(1+‖b̃‖), so shared data are not copied;
* iteration (``restart="halpern"``, default): reflected Halpern PDHG (cuPDLPx's r²HPDHG)
  with restarts on the fixed-point error (0.3 sufficient / 0.5 necessary + increase /
  0.36 artificial, first check forced); ``restart="kkt"``: plain PDHG with iterate
  averaging and PDLP's adaptive restarts on the weighted KKT error of the average or the
  current point (0.2 / 0.8 / 0.36);
* step (``step="constant"``, default): η = 0.998/‖Ã‖₂ from power iteration;
  ``step="adaptive"``: PDLP's rule η ← min((1−(k+1)^−0.3) η_lim, (1+(k+1)^−0.6) η) with
  η_lim = movement/|interaction|; a rejected step leaves that scenario unchanged for one
  iteration (no inner loop, so the batch stays in lock step);
* primal weight: PID on log(Δy/Δx) at restarts (cuPDLPx, default) or PDLP's 0.5 smoothing;
* termination every ``check_every`` iterations at the PDHG point (x̂, ŷ), in original
  units with the ℓ2 definitions of ``LinearProgram.residuals``: relative primal residual,
  dual residual and gap all <= tol;
* infeasibility: the iterate difference (x̂ − x, ŷ − y) converges to the minimal
  displacement, an infeasibility certificate when the LP has no solution.  A dual ray is
  accepted (status "infeasible") when its objective is positive beyond rounding and its
  unabsorbed reduced costs are <= infeasibility_tol times that objective, at
  ``infeasibility_checks`` consecutive evaluations (made at every ``infeasibility_every``-th
  check, as one costs about five iterations, and at every check once one certifies); a
  primal ray likewise ("unbounded" when the
  current point is primal feasible to tol, else "infeasible_or_unbounded").

Restart and step defaults by measurement (iterations to 1e-4 / 1e-6 on the capacity-
expansion LPs of ``comparisons/capex_lp.py``): Halpern + PID 2240 / 7680 (1 x 720 h),
1344 / 6464 (1 x 2190 h), 5568 at 1e-4 (1 x 8760 h) with cuPDLPx's restart fractions, 2176 /
6848, 1344 / 5696, 4224 with RESTART_SUFFICIENT = 0.3; KKT restarts 3648 / 17664, 2944 /
11456, 4160; PDLP's adaptive step with KKT restarts 3456 on 1 x 8760 h at 1e-4 but each
iteration dearer (43 s vs 15 s); Pock–Chambolle off: 34688 (6x more).

Speed on CPU: the thread count is chosen during the solve by timing its iterations
(``threads.py``; ``threads=N`` fixes it).  The plain iterations of the default method (every
iteration but checks and restart baselines) run in the C kernel of ``native.py`` wherever it
builds (``native=None``; ``native=False`` keeps them eager): each block's sparse products are
followed at once by its rows' updates, in one OpenMP region up to the next check (1 x 8760-h
LP, float64, two threads, AMD EPYC: 0.36 ms against 1.2 ms eager; whole solve 2.4 s against
5.6 s).  A check's step and the sums of its measures come from the kernel too; its decisions,
the infeasibility test and restarts stay in torch.  ``fuse=True`` (where the C kernel is off) runs the plain
iterations of the default method (batches of B > 1) as two ``torch.compile``'d elementwise
kernels around the two sparse products.  It pays where a batch's vectors outgrow the cache
and the iteration is memory-bound: 1 x 8760 h, width 8, 2 threads, 3.75 -> 2.41 ms per
iteration (0.30 ms per scenario-iteration against 0.73 ms for one LP alone), a streamed
32-scenario sweep 77 -> 54 s.  It does not on small, cache-resident LPs (three-country
168 h, width 16: 22-26 s against 18-21 s eager) nor on the 2190-h LP at B = 32 (20.6 vs
16.9 ms per iteration), and compiling costs 5-20 s per process and thread count, so it is
off by default.  A compiler failure falls back to the eager iteration.  On CUDA, where an
iteration is launch-bound, the plain iterations between two checks are replayed as one CUDA
graph instead (``cuda_graph.py``; ``cuda_graphs=False`` keeps them eager).
Checks (every ``check_every``) and the infeasibility test (every ``infeasibility_every``-th
check) are always eager.

Limits: ``max_iter`` / ``time_limit`` return the best checked point with status
"optimal_inaccurate" when all three relative measures are within
``inaccurate_factor``·tol (10x by default), else "iteration_limit" / "time_limit".
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Optional

import torch

from .precondition import bound_objective_weights, precondition
from .native import MAX_WIDTH as NATIVE_MAX_WIDTH
from ..core.sparse import SparseMatrixOperator
from ..core.threads import ThreadTuner, start_threads

INFINITE_BOUND = 1e20          # |bound| >= this is treated as infinite (cuPDLPx's convention)
DEFAULT_MAX_ITER = 1_000_000

# compiled plain-iteration kernels, shared by the solves of a process (see PDHGOptions.fuse)
_FUSED: dict = {}
# a warm start that carries a primal weight keeps it for this many restarts before the PID
# update resumes: near a solution the restart displacements are oscillation, and the PID
# moved ω 6x in two restarts of a same-LP re-solve.  Measured (three-country 168 h, CO2-cap
# sweep of 11 caps, tol 1e-4, sequential warm starts): 52,352 iterations with (x, y) only,
# 54,976 carrying ω with PID from the start, 45,056 keeping it (warm solves there restart
# fewer than 10 times, so 10 leaves the PID as the fallback of long warm solves only)
WARM_WEIGHT_RESTARTS = 10
WARM_WEIGHT_BAND = math.log(10.0)
# PID primal-weight gains (K_P, K_I, integral smoothing; cuPDLPx: 0.99, 0.01, 0.3).  Measured
# (iterations, cold: the 32 year-LP sweep scenarios at 1e-4 plus 1 x 720 h, 1 x 2190 h, 3 x 720 h
# and 1 x 8760 h at 1e-4 and 1e-6): 203,008 with these; K_P 0.7 / 0.5 / 0.3: 207,104 / 214,336 /
# 259,712; PDLP's smoothing 213,824.  With these gains ω swings 50x over the restarts of sweep
# scenario 27 (12,480 iterations; 4,544 at K_P 0.7, but the other LPs lose more than that saves)
PID_GAINS = (0.99, 0.01, 0.3)
# Halpern restart when the fixed-point error fell to this fraction of the epoch's first
# (cuPDLPx: 0.2).  Measured iterations at 1e-6 / 1e-4, capacity-expansion LPs of
# comparisons/capex_lp.py: 1 x 720 h 7680 -> 6848 / 2240 -> 2176, 1 x 2190 h 6464 -> 5696 /
# 1344 -> 1344, 3 x 720 h 16448 -> 14016 / 1792 -> 1728, 1 x 8760 h 28096 -> 21888 /
# 5568 -> 4224 (0.25, 0.35 and 0.4 were each worse than 0.3 on some of them)
RESTART_SUFFICIENT = 0.3
# ... or when it fell to this fraction and rose since the last check (cuPDLPx: 0.5)
RESTART_NECESSARY = 0.5
# ... or when the epoch is this fraction of the scenario's iterations (cuPDLPx 0.36; MPAX and
# HPR-LP 0.2).  0.2 / 0.25 measured against 0.36 (iterations; capex LPs 1 x 720 h, 1 x 2190 h,
# 3 x 720 h, 1 x 8760 h at 1e-4 and 1e-6, three-country 168 h caps 2/10/30/50 and the 64-cap sweep
# at 5e-5, model-energy 168 h at 5e-5, de-stochastic 336 h at 1e-4): 0.2 saved 18% on the 1e-4
# singles but lost 55% on 1 x 2190 h at 1e-6 and 14-16% on model-energy and de-stochastic;
# 0.25 likewise mixed (1 x 2190 h +38% / +72%, model-energy +19%, de-stochastic -52%)
RESTART_ARTIFICIAL = 0.36
# Column-layout batches (rows, W) broadcast shared data (rows, 1) and per-scenario step
# scalars (1, W) in the elementwise ops of every iteration; torch's CPU kernels vectorise
# the innermost dimension in steps of 64 bytes (two AVX2 registers, one AVX512 register:
# 8 doubles / 16 floats), so at other widths those ops run a scalar loop.  Full-width
# copies of the data and step scalars avoid it while they stay in cache.  Measured per
# loop iteration (one thread, median of 4; three-country 168 h, 5.7k rows, float32, AVX2):
# W = 2 / 4 / 8 / 15 341 / 403 / 533 / 774 us broadcast, 226 / 262 / 325 / 516 us full
# width; float64 W = 2 / 4 / 7 1.35-1.45x; none at W = 16 (420 vs 574 us: a multiple of
# the step) nor once an operand outgrows ~0.5 MB (1 x 2190 h, float64, W = 4: 1492 vs
# 1539 us).  AVX512, two threads: float32 W = 4 / 8 / 12 / 24 full width 151-156 /
# 160-169 / 226-229 / 392-415 us against 259-260 / 246 / 309-311 / 422-465 broadcast, but
# W = 16 / 32 268-274 / 457-499 us broadcast against 288-313 / 517-539 full width; float64
# W = 8 / 16 broadcast 237-240 / 438-461 against 254-269 / 501-508 (the step was taken as
# two AVX512 registers before, which copied those widths for nothing)
SIMD_STEP_BYTES = 64
FULL_WIDTH_BYTES = 1 << 19
# plain iterations per call of the C kernel while the thread tuner times them (its windows
# are 12-24 iterations); without a tuner a call runs up to the next check.  Widths above the
# kernel's accumulator size stay eager.
NATIVE_BLOCK = 8

# the attributes a plain iteration (_step, then _advance) reads or writes: cuda_graph.py keeps them in place
GRAPH_TENSORS = ("X", "Y", "X0", "Y0", "XB", "XH", "YH", "ATY", "AXB", "V", "c", "lx", "ux", "lc", "uc",
                 "step_ntau", "step_ninv_sigma", "step_sigma", "k")

OPTIMAL, OPTIMAL_INACCURATE = "optimal", "optimal_inaccurate"
INFEASIBLE, UNBOUNDED, INFEASIBLE_OR_UNBOUNDED = "infeasible", "unbounded", "infeasible_or_unbounded"
ITERATION_LIMIT, TIME_LIMIT = "iteration_limit", "time_limit"


@dataclass
class PDHGOptions:
    """Solver settings (defaults chosen by measurement on capacity-expansion LPs)."""

    tol: float = 1e-4
    max_iter: Optional[int] = None          # None: DEFAULT_MAX_ITER
    time_limit: Optional[float] = None      # seconds
    check_every: int = 64
    restart: str = "halpern"                # "halpern" | "kkt"
    step: str = "constant"                  # "constant" | "adaptive"
    primal_weight: str = "pid"              # "pid" | "smooth"
    reflection: float = 1.0                 # γ of reflected Halpern (1: full reflection)
    ruiz_iters: int = 10
    pc_alpha: Optional[float] = 1.0         # None disables Pock–Chambolle
    infeasibility_tol: float = 1e-8
    infeasibility_checks: int = 3           # consecutive certifying evaluations
    infeasibility_every: int = 4            # evaluate certificates at every 4th check
    inaccurate_factor: float = 10.0
    threads: Optional[int] = None           # CPU threads during the solve; None: chosen by timing (threads.py)
    fuse: bool = False                      # torch.compile'd plain iterations (see module notes)
    native: Optional[bool] = None           # C kernel for plain iterations on CPU (native.py); None: where it builds
    cuda_graphs: Optional[bool] = None      # plain iterations replayed as CUDA graphs (cuda_graph.py); None: on CUDA
    verbose: bool = False

    def __post_init__(self):
        choices = {"restart": ("halpern", "kkt"), "step": ("constant", "adaptive"),
                   "primal_weight": ("pid", "smooth")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"PDHGOptions.{name}={getattr(self, name)!r}: choose one of {allowed}")
        if not self.tol > 0:
            raise ValueError(f"PDHGOptions.tol must be positive, got {self.tol}")
        if self.infeasibility_every < 1:
            raise ValueError(f"PDHGOptions.infeasibility_every must be >= 1, got {self.infeasibility_every}")
        if self.check_every < 2:
            raise ValueError(f"PDHGOptions.check_every must be >= 2, got {self.check_every}")
        if self.fuse not in (True, False):
            raise ValueError(f"PDHGOptions.fuse={self.fuse!r}: choose True or False")
        for name in ("native", "cuda_graphs"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(f"PDHGOptions.{name}={getattr(self, name)!r}: choose None, True or False")
        if not 0 < self.reflection <= 1:
            raise ValueError(f"PDHGOptions.reflection must be in (0, 1], got {self.reflection}")


@dataclass
class LPTensors:
    """An LP or a batch of B LPs as torch tensors in column layout.

    A: SparseMatrixOperator (shared, or per-scenario values);  c: (n, 1|B);
    lc, uc: (m, 1|B);  lx, ux: (n, 1|B);  c0: (B,) or (1,).  ±inf (or |v| >= 1e20) bounds."""

    A: SparseMatrixOperator
    c: torch.Tensor
    lc: torch.Tensor
    uc: torch.Tensor
    lx: torch.Tensor
    ux: torch.Tensor
    c0: torch.Tensor

    @property
    def batch_size(self) -> int:
        widths = {t.shape[-1] for t in (self.c, self.lc, self.uc, self.lx, self.ux, self.c0)}
        widths.add(self.A.batch_values)
        widths.discard(1)
        if len(widths) > 1:
            raise ValueError(f"LPTensors: batch widths disagree: {sorted(widths)}")
        return widths.pop() if widths else 1

    def checked(self) -> "LPTensors":
        """Shapes checked, NaN/inf rejected with the culprit named, huge bounds -> ±inf."""
        m, n = self.A.shape
        want = {"c": n, "lc": m, "uc": m, "lx": n, "ux": n}
        for name, rows in want.items():
            t = getattr(self, name)
            if t.dim() != 2 or t.shape[0] != rows:
                raise ValueError(f"LPTensors.{name} has shape {tuple(t.shape)}, expected ({rows}, 1 or B)")
            if torch.isnan(t).any():
                raise ValueError(f"LPTensors.{name} contains NaN")
        if not torch.isfinite(self.c).all() or not torch.isfinite(self.c0).all():
            raise ValueError("LPTensors.c / c0 must be finite")
        if not torch.isfinite(self.A.values).all():
            raise ValueError("LPTensors.A has a non-finite entry")
        big = INFINITE_BOUND
        lc = torch.where(self.lc <= -big, -math.inf, self.lc)
        uc = torch.where(self.uc >= big, math.inf, self.uc)
        lx = torch.where(self.lx <= -big, -math.inf, self.lx)
        ux = torch.where(self.ux >= big, math.inf, self.ux)
        for lo, hi, what in ((lc, uc, "row"), (lx, ux, "variable")):
            if (lo == math.inf).any() or (hi == -math.inf).any():
                raise ValueError(f"LPTensors: a {what} lower bound is +inf or an upper bound is -inf")
            if (lo > hi).any():
                raise ValueError(f"LPTensors: a {what} lower bound exceeds its upper bound (infeasible bounds)")
        self.batch_size  # noqa: B018 - raises on disagreeing widths
        return LPTensors(self.A, self.c, lc, uc, lx, ux, self.c0.reshape(-1))


@dataclass
class PDHGSolution:
    """Per-scenario results in original units: x (B, n), y (B, m), z = c − Aᵀy (B, n);
    status, iterations, seconds are lists; residuals maps "primal", "dual", "gap",
    "primal_objective", "dual_objective" to (B,) tensors."""

    x: torch.Tensor
    y: torch.Tensor
    z: torch.Tensor
    status: list
    iterations: list
    seconds: list
    residuals: dict
    primal_weight: Optional[torch.Tensor] = None   # (B,) final ω/ω₀, see ``solve``
    threads: Optional[int] = None                  # CPU threads at the end (None: not a CPU solve)


def solve(lp: LPTensors, options: Optional[PDHGOptions] = None, warm_start=None,
          width: Optional[int] = None, coordinates=None, on_finish=None) -> PDHGSolution:
    """Solve an LP or a batch with PDHG.  ``warm_start``: (x, y) in original units, as
    (n,)/(m,) or column-layout (n, B)/(m, B) tensors, optionally with a third entry, the
    primal weight (a float or (B,); NaN or None: the default) as returned in
    ``PDHGSolution.primal_weight``.

    ``width`` < B streams the batch: ``width`` scenarios iterate at once and a waiting one
    enters as one finishes, nearest (by ``coordinates``, (B, d), default the index) to it
    and started from a prediction out of the scenarios solved so far (``admission.py``);
    a scenario's iterations, seconds and limits count from when it entered.
    ``on_finish(count)`` is called as scenarios finish (e.g. a progress bar's update).

    The primal weight is reported relative to the initial ω₀ = θ_b/θ_c, i.e. in the
    bound/objective-rescaled problem of cuPDLPx where ω₀ = 1: that form stays meaningful
    for a neighbouring LP whose c or bounds are scaled (its ω₀ moves with them), while
    the Ruiz/Pock–Chambolle scaling depends on A only and is the same for the scenarios
    of a sweep."""
    lp = lp.checked()
    options = options or PDHGOptions()
    previous = torch.get_num_threads()
    tuner = None
    if lp.A.device.type == "cpu":
        if options.threads is None:                # at most what torch was allowed
            tuner = ThreadTuner(previous, start=start_threads(1))
        else:
            torch.set_num_threads(options.threads)
    try:
        sol = _PDHG(lp, options, warm_start, width, coordinates, on_finish, tuner).run()
        if lp.A.device.type == "cpu":
            sol.threads = torch.get_num_threads()
        _settle_unbounded(lp, options, sol)
    finally:
        if tuner is not None:
            tuner.close()
        torch.set_num_threads(previous)
    return sol


def _unpack_warm(warm_start):
    """(x, y) or (x, y, primal_weight) -> (x, y, primal_weight or None)."""
    try:
        parts = tuple(warm_start)
    except TypeError:
        parts = ()
    if len(parts) not in (2, 3):
        raise ValueError("warm_start must be (x, y) or (x, y, primal_weight)")
    return parts if len(parts) == 3 else (*parts, None)


def _clip(src, lo, hi, out):
    """clamp(src, lo, hi) into ``out``.  torch's clamp is one pass where the bounds have the
    operand's shape (n = 78,841, float64, one column: 45 vs 60 us for a minimum and a
    maximum; n = 17k, W = 4, full-width bounds: 36 vs 50 us) but ~3x slower on CPU than the
    two where they broadcast over a batch (n = 5.7k, W = 16, float32: 160 vs 55 us)."""
    if lo.shape == src.shape and hi.shape == src.shape:
        return torch.clamp(src, lo, hi, out=out)
    torch.minimum(src, hi, out=out)
    return torch.maximum(out, lo, out=out)


def _primal_plain(X, ATY, c, lx, ux, tau, X0, k, XB):
    """x̂ = proj(x − τ(c − Aᵀy)), x̄ = 2x̂ − x into XB; Halpern x ← x0 + w(x̄ − x0) into X,
    w = (k+1)/(k+2).  Written in place: compiled, the kernel then reads each operand once
    and writes XB and X, with no output allocated per call (three-country 168 h, width 16,
    float32, one thread: 67 us against 92 us returning new tensors, 89 us eager)."""
    XB.copy_(2 * torch.clamp(X - tau * (c - ATY), lx, ux) - X)
    X.copy_(X0 + (k + 1) / (k + 2) * (XB - X0))


def _dual_plain(AXB, Y, lc, uc, sigma, Y0, k):
    """ŷ = σ(proj(v) − v) with v = A x̄ − y/σ; Halpern y ← y0 + w(2ŷ − y − y0) into Y."""
    V = AXB - Y / sigma
    Y.copy_(Y0 + (k + 1) / (k + 2) * (2 * sigma * (torch.clamp(V, lc, uc) - V) - Y - Y0))


def _fused_kernels():
    """The compiled (primal, dual) halves of a plain iteration, or None where
    torch.compile is unavailable or has failed before in this process."""
    if "kernels" not in _FUSED and "failed" not in _FUSED:
        try:
            _FUSED["kernels"] = (torch.compile(_primal_plain, dynamic=True),
                                 torch.compile(_dual_plain, dynamic=True))
        except Exception as exc:          # noqa: BLE001 - no compiler: stay eager
            _FUSED["failed"] = repr(exc)
    return None if "failed" in _FUSED else _FUSED.get("kernels")


def _settle_unbounded(lp: LPTensors, options: PDHGOptions, sol: PDHGSolution):
    """A primal ray proves the dual infeasible; the LP is then unbounded if it is primal
    feasible and infeasible otherwise.  Decide with a feasibility solve (c = 0) of those
    scenarios, limited to 4x the iterations spent so far; undecided ones stay
    "infeasible_or_unbounded"."""
    idx = [k for k, s in enumerate(sol.status) if s == INFEASIBLE_OR_UNBOUNDED]
    if not idx:
        return
    B = lp.batch_size
    sel = torch.tensor(idx, device=lp.c.device)
    pick = lambda t: t if t.shape[-1] == 1 or B == 1 else t.index_select(t.dim() - 1, sel)  # noqa: E731
    sub = LPTensors(lp.A.select(sel), torch.zeros_like(pick(lp.c)), pick(lp.lc), pick(lp.uc), pick(lp.lx),
                    pick(lp.ux), torch.zeros_like(pick(lp.c0)))
    spent = max(sol.iterations[k] for k in idx)
    feas = _PDHG(sub, replace(options, max_iter=4 * spent + 1000, verbose=False), None).run()
    for j, k in enumerate(idx):
        if feas.status[j] == OPTIMAL:
            sol.status[k] = UNBOUNDED
        elif feas.status[j] == INFEASIBLE:
            sol.status[k] = INFEASIBLE


def _project_dual(Y, lc_fin, uc_fin):
    """Project onto the dual sign domain: y <= 0 without a finite lower row bound,
    y >= 0 without a finite upper one (so y = 0 on free rows); ``*_fin``: finite masks."""
    Y = torch.where(lc_fin, Y, Y.clamp(max=0.0))
    return torch.where(uc_fin, Y, Y.clamp(min=0.0))


def _col(t: torch.Tensor) -> torch.Tensor:
    """(n,) -> (n, 1); (B, n) row-layout stays for the caller to transpose."""
    return t[:, None] if t.dim() == 1 else t


def _vnorm(t: torch.Tensor) -> torch.Tensor:
    """ℓ2 norm of each column as a (1, W) row."""
    return torch.linalg.vector_norm(t, dim=0, keepdim=True)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(0, keepdim=True)


class _PDHG:
    """One solve: scaled data, iterate buffers and per-scenario state, all (·, W) with W
    the number of scenarios in the iteration: all B of the batch from the start, or, in a
    streamed solve, up to ``width`` of them, a waiting one admitted as one finishes
    (``Admission``).  Finished scenarios are compacted away at the check that finds them."""

    # data of every scenario, scaled once ("pool"); the active columns are gathered from it
    _DATA = ("c", "lc", "uc", "lx", "ux", "lxz", "uxz", "lcz", "ucz", "lx_fin", "ux_fin", "lc_fin", "uc_fin",
             "g_lo", "g_hi", "c0", "d_row", "d_col", "lx_orig", "ux_orig", "bnorm", "cnorm", "thetas", "omega0")
    # per-scenario iterate and method state of the active columns (compacted, appended)
    _STATE = ("X", "Y", "X0", "Y0", "AX", "AX0", "XS", "YS", "WS", "eta", "omega", "omega_point", "kept",
              "omega_best", "best_balance", "pid_int", "k", "fpe0", "fpe_prev", "kkt0", "kkt_prev",
              "pinf_count", "dinf_count", "best_score", "XBEST", "YBEST", "best_metrics", "need_baseline",
              "born", "ids")
    # scratch of one iteration, reallocated when the width changes
    _SCRATCH = (("XH", "n"), ("XB", "n"), ("ATY", "n"), ("YH", "m"), ("V", "m"), ("AXB", "m"),
                ("AXH", "m"), ("ATYH", "n"))

    def __init__(self, lp: LPTensors, opt: PDHGOptions, warm_start, width: Optional[int] = None,
                 coordinates=None, on_finish=None, tuner=None):
        self.opt = opt
        self.on_finish = on_finish
        self.tuner = tuner
        self.start = time.perf_counter()
        A = lp.A
        dev, dt = A.device, A.dtype
        B = lp.batch_size
        self.B, (self.m, self.n) = B, A.shape
        self.fdt = fdt = dict(dtype=dt, device=dev)

        # --- preconditioning (shared when A is) and scaled data of all B scenarios
        self.A_pool, d_row, d_col = precondition(A, opt.ruiz_iters, opt.pc_alpha)
        pool = {"d_row": d_row, "d_col": d_col, "c": d_col * lp.c, "lc": d_row * lp.lc, "uc": d_row * lp.uc,
                "lx": lp.lx / d_col, "ux": lp.ux / d_col, "lx_orig": lp.lx, "ux_orig": lp.ux}
        pool["lx_fin"], pool["ux_fin"] = torch.isfinite(pool["lx"]), torch.isfinite(pool["ux"])
        pool["lc_fin"], pool["uc_fin"] = torch.isfinite(pool["lc"]), torch.isfinite(pool["uc"])
        zero = torch.zeros((), **fdt)
        for name, src, fin in (("lxz", "lx", pool["lx_fin"]), ("uxz", "ux", pool["ux_fin"]),
                               ("lcz", "lc", pool["lc_fin"]), ("ucz", "uc", pool["uc_fin"])):
            pool[name] = torch.where(fin, pool[src], zero)
        # the reduced costs a finite variable bound absorbs: g⁺ where l_x is finite, g⁻ where
        # u_x is, i.e. clamp(g, g_lo, g_hi); the rest is the dual residual
        pool["g_lo"] = torch.where(pool["ux_fin"], -math.inf, zero)
        pool["g_hi"] = torch.where(pool["lx_fin"], math.inf, zero)
        pool["c0"] = lp.c0.to(**fdt).reshape(1, -1).expand(1, B).clone()

        # --- norms for the relative criteria, original units (LinearProgram.residuals)
        theta_b, theta_c = bound_objective_weights(lp.c, lp.lc, lp.uc)
        pool["bnorm"] = (1.0 / theta_b - 1.0).reshape(1, -1).expand(1, B).clone()
        pool["cnorm"] = (1.0 / theta_c - 1.0).reshape(1, -1).expand(1, B).clone()
        # scaled-problem θ's: initial primal weight and the gap weight of the KKT error
        tb, tc = bound_objective_weights(pool["c"], pool["lc"], pool["uc"])
        tb = tb.reshape(1, -1).expand(1, B)
        tc = tc.reshape(1, -1).expand(1, B)
        pool["thetas"] = (tb * tc).clone()
        pool["omega0"] = (tb / tc).clone()       # ω₀ = θ_b/θ_c; ω/ω₀ is cuPDLPx's ω (see solve)
        self.pool = pool

        # --- step size: 0.998/‖Ã‖₂ (power iteration), one per distinct matrix
        sv = self.A_pool.singular_values()
        eta = torch.where(sv > 0, 0.998 / sv.clamp_min(torch.finfo(dt).tiny), torch.ones_like(sv))
        self.eta_pool = eta.reshape(1, -1).expand(1, B).clone()

        # --- given starts of every scenario (scaled; zeros: cold) and their primal weights
        self.start_X = torch.zeros(self.n, B, **fdt)
        self.start_Y = torch.zeros(self.m, B, **fdt)
        self.start_weight = torch.full((1, B), math.nan, **fdt)
        if warm_start is not None:
            x0, y0, weight = _unpack_warm(warm_start)
            self.start_X = self.start_X + _col(torch.as_tensor(x0, **fdt)) / d_col
            self.start_Y = self.start_Y + _col(torch.as_tensor(y0, **fdt)) / d_row
            if weight is not None:
                self.start_weight = torch.as_tensor(weight, **fdt).reshape(1, -1).expand(1, B).clone()

        # --- outputs (original units), filled as scenarios finish
        self.out_x = torch.zeros(B, self.n, **fdt)
        self.out_y = torch.zeros(B, self.m, **fdt)
        self.out_z = torch.zeros(B, self.n, **fdt)
        self.out_metrics = torch.full((5, B), math.nan, **fdt)
        self.out_weight = torch.full((B,), math.nan, **fdt)
        self.out_status = [None] * B
        self.out_iters = [0] * B
        self.out_seconds = [0.0] * B
        self.admitted_at = [(0, self.start)] * B          # (iteration, time) a scenario entered
        self.iteration = 0
        self.checks = 0
        self.steps = 0                            # step attempts of the adaptive rule

        # --- the first scenarios in the iteration: all, or a stream's first ``width``
        self.admission = None
        if width is not None and width < B:
            from .admission import Admission
            self.admission = Admission(B, width, coordinates)
            self.width, first = width, self.admission.initial
        else:
            self.width, first = B, list(range(B))
        self.ids = torch.arange(0, device=dev)
        self.retired: set[int] = set()            # columns finished at this check (_settle)
        self._admit(first)
        self.native = self._native_kernel()
        self.fused = _fused_kernels() if self.native is None and self._want_fused(self.W) else None
        self.fused_width = None                   # the width the fused kernels last ran at
        self.graphs = self._graphed_blocks()

    # ------------------------------------------------------------------ helpers
    def _plain_halpern(self) -> bool:
        """The default method, whose plain iterations the fused paths implement."""
        opt = self.opt
        return opt.restart == "halpern" and opt.step == "constant" and opt.reflection == 1.0

    def _want_fused(self, B: int) -> bool:
        # one scenario left: torch specialises size-1 dims, so a recompile would follow
        return bool(self.opt.fuse) and self._plain_halpern() and B > 1

    def _graphed_blocks(self):
        """CUDA-graph replay of the plain iterations (``cuda_graph.py``) where it applies: on
        CUDA, constant steps and Halpern restarts (whose plain iterations write only in place)."""
        want = self.opt.cuda_graphs
        applies = (self.fdt["device"].type == "cuda" and self.fused is None
                   and self.opt.restart == "halpern" and self.opt.step == "constant")
        if want and not applies:
            raise ValueError("PDHGOptions.cuda_graphs=True needs a CUDA device, restart='halpern', "
                             "step='constant' and fuse=False")
        if want is False or not applies:
            return None
        from .cuda_graph import GraphedBlocks
        return GraphedBlocks(self._plain_block, self, GRAPH_TENSORS, self._graph_matrix)

    def _plain_block(self, count: int):
        for _ in range(count):
            self._step()
            self._advance()

    def _graph_matrix(self):
        """The matrix tensors of the sparse products (a recorded block reads them in place)."""
        return [t for M in (self.A.A, self.A.AT)
                for t in ((M.crow_indices(), M.col_indices(), M.values()) if M.layout == torch.sparse_csr
                          else (M,))]

    def _plain_count(self, max_iter: int) -> int:
        """How many plain iterations come before the next check (or the iteration limit)."""
        F = self.opt.check_every
        return min(F - 1 - self.iteration % F, max_iter + self.oldest - 1 - self.iteration)

    def _graph_run(self, max_iter: int) -> bool:
        """The plain iterations up to the next check as one replayed CUDA graph."""
        count = self._plain_count(max_iter)
        if not self.graphs.run(count):
            self.graphs = None
            return False
        self.iteration += count
        return True

    def _native_fits(self) -> bool:
        """Whether this iteration goes through the C kernel (it holds at most MAX_WIDTH columns)."""
        return self.native is not None and self.W <= NATIVE_MAX_WIDTH

    def _native_kernel(self):
        """The C kernel of the plain iterations (``native.py``) where it applies and builds."""
        want = self.opt.native
        if want is False or not self._plain_halpern():
            if want:
                raise ValueError("PDHGOptions.native=True needs the default method "
                                 "(restart='halpern', step='constant', reflection=1)")
            return None
        from .native import plain_kernel, unavailable
        kernel = plain_kernel(self.A_pool, self.fdt["dtype"], self.fdt["device"])
        if kernel is None and want:
            raise RuntimeError(f"PDHGOptions.native=True but the C kernel does not apply here "
                               f"({unavailable() or 'not a CPU float32/float64 LP with one shared matrix'})")
        return kernel

    def _want_full_width(self) -> bool:
        """Full-width data and step scalars for this width (see FULL_WIDTH_BYTES): on a CPU,
        W > 1 not a multiple of the SIMD step, operands in cache, constant steps (the
        adaptive rule changes the steps every iteration)."""
        dt, dev = self.fdt["dtype"], self.fdt["device"]
        if dev.type != "cpu" or self.W < 2 or self.opt.step != "constant":
            return False
        cap = torch.backends.cpu.get_cpu_capability()
        step_bytes = SIMD_STEP_BYTES if ("AVX2" in cap or "AVX512" in cap) else SIMD_STEP_BYTES // 2
        itemsize = torch.empty((), dtype=dt).element_size()
        return (self.W % max(1, step_bytes // itemsize) != 0
                and max(self.m, self.n) * self.W * itemsize <= FULL_WIDTH_BYTES)

    @property
    def W(self) -> int:
        return self.ids.numel()

    def _gather(self, t: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Columns ``ids`` of a pool tensor (width 1: shared, returned as is).  All B ids are
        always 0..B-1 in order (the plain batch before any scenario finished; a stream never
        holds all B), so the pool tensor itself serves them."""
        if t.shape[-1] == 1 or ids.numel() == self.B:
            return t
        return t.index_select(t.dim() - 1, ids).contiguous()

    def _activate_data(self):
        """Data and matrix of the active columns, gathered from the pool; scratch buffers."""
        self._set_oldest()
        for name in self._DATA:
            setattr(self, name, self._gather(self.pool[name], self.ids))
        full = self.W == self.B
        self.A = self.A_pool if full else self.A_pool.select(self.ids)
        for name, rows in self._SCRATCH:
            setattr(self, name, torch.empty(self.m if rows == "m" else self.n, self.W, **self.fdt))
        self.full_width = self._want_full_width()
        if self.full_width:
            for name in ("c", "lc", "uc", "lx", "ux"):
                t = getattr(self, name)
                if t.shape[1] != self.W:
                    setattr(self, name, t.expand(-1, self.W).contiguous())
        self._set_steps()

    def _set_oldest(self):
        """The iteration the longest-running active scenario entered at (for max_iter)."""
        self.oldest = min(self.admitted_at[i][0] for i in self.ids.tolist())

    def _admit(self, picks: list[int]):
        """Scenarios ``picks`` enter the iteration as new columns after the others."""
        if not picks:
            return
        fresh = self._fresh_state(picks)
        append = self.W > 0
        for name in self._STATE:
            new, old = fresh[name], getattr(self, name, None)
            if new is not None and append:
                new = torch.cat([old, new], dim=-1)
            setattr(self, name, new)
        self._activate_data()

    def _replace(self, cols: list[int], picks: list[int]):
        """Scenarios ``picks`` take the places of finished columns ``cols``: only those
        columns of the state and data are written, where compacting and appending would
        gather every column of every per-scenario array again (32-scenario 8760-h stream,
        width 4: 1,985 gathers, 1.6 s of 26)."""
        fresh = self._fresh_state(picks)
        at = torch.tensor(cols, device=self.ids.device)
        written = set()
        for name in self._STATE:
            if fresh[name] is None:
                continue
            t = getattr(self, name)
            if t.data_ptr() in written:       # state sharing a tensor (ω_point is ω until a
                t = t.clone()                 # restart) gets its own before its columns change
                setattr(self, name, t)
            written.add(t.data_ptr())
            t[..., at] = fresh[name]
        if self.A_pool.batch_values > 1:      # per-scenario matrix values: select them again
            self._activate_data()
            return
        idx = fresh["ids"]
        for name in self._DATA:
            src = self.pool[name]
            if src.shape[-1] != 1:            # shared data are the same in every column
                getattr(self, name)[..., at] = src.index_select(src.dim() - 1, idx)
        self._set_oldest()
        self._set_steps()

    def _fresh_state(self, picks: list[int]) -> dict:
        """The method state of scenarios ``picks`` entering the iteration, started from their
        given start or, in a stream, from a prediction out of the scenarios solved so far."""
        fdt, dev = self.fdt, self.ids.device
        idx = torch.tensor(picks, device=dev)
        k = len(picks)
        X = self._gather(self.start_X, idx).clone()
        Y = self._gather(self.start_Y, idx).clone()
        weight = self._gather(self.start_weight, idx).expand(1, k).clone()
        if self.admission is not None:
            d_col, d_row = self._gather(self.pool["d_col"], idx), self._gather(self.pool["d_row"], idx)
            for col, j in enumerate(picks):
                src = self.admission.source(j)
                if src is None:
                    continue
                s1, s2, t = src
                x, y = self.out_x[s1], self.out_y[s1]
                if s2 is not None and t != 0.0:
                    x = x + t * (x - self.out_x[s2])
                    y = y + t * (y - self.out_y[s2])
                X[:, col] = x / d_col[:, min(col, d_col.shape[1] - 1)]
                Y[:, col] = y / d_row[:, min(col, d_row.shape[1] - 1)]
                if self.admission.near(j, s1):
                    weight[0, col] = self.out_weight[s1]
        now = self.start if self.iteration == 0 else time.perf_counter()   # the first count setup
        for j in picks:
            self.admitted_at[j] = (self.iteration, now)

        lx, ux = self._gather(self.pool["lx"], idx), self._gather(self.pool["ux"], idx)
        lc_fin, uc_fin = self._gather(self.pool["lc_fin"], idx), self._gather(self.pool["uc_fin"], idx)
        omega0 = self._gather(self.pool["omega0"], idx)
        ok = torch.isfinite(weight) & (weight > 0)
        X = torch.maximum(torch.minimum(X, ux), lx).contiguous()
        Y = _project_dual(Y, lc_fin, uc_fin).contiguous()
        omega = torch.where(ok, weight * omega0, omega0)
        row = lambda v: torch.full((1, k), v, **fdt)  # noqa: E731
        adaptive, kkt = self.opt.step == "adaptive", self.opt.restart == "kkt"
        AX = self.A_pool.select(idx).matmat(X) if adaptive else None
        fresh = {
            "X": X, "Y": Y, "X0": X.clone(), "Y0": Y.clone(),
            "AX": AX,                                                   # A x of the current iterate
            "AX0": AX.clone() if adaptive and not kkt else None,        # A x of the Halpern anchor
            "XS": torch.zeros_like(X) if kkt else None,                 # step-weighted sums (averages)
            "YS": torch.zeros_like(Y) if kkt else None,
            "WS": row(0.0) if kkt else None,
            "eta": self._gather(self.eta_pool, idx).expand(1, k).clone(),
            "omega": omega, "omega_point": omega0.expand(1, k).clone(),
            "kept": torch.where(ok, float(WARM_WEIGHT_RESTARTS), 0.0).to(**fdt),  # restarts keeping a given ω
            "omega_best": omega.clone(), "best_balance": row(math.inf), "pid_int": row(0.0),
            "k": row(0.0),                                              # inner (epoch) iteration count
            "fpe0": row(math.inf), "fpe_prev": row(math.inf), "kkt0": row(math.inf), "kkt_prev": row(math.inf),
            "pinf_count": row(0.0), "dinf_count": row(0.0), "best_score": row(math.inf),
            "XBEST": X.clone(), "YBEST": Y.clone(), "best_metrics": torch.full((5, k), math.nan, **fdt),
            "need_baseline": torch.zeros(1, k, dtype=torch.bool, device=dev),
            "born": row(float(self.iteration)),                         # iteration of admission
            "ids": idx,
        }
        return fresh

    def _set_steps(self):
        self.tau = self.eta / self.omega
        self.sigma = self.eta * self.omega
        # the scalars of _step, full width where that keeps its ops vectorised (FULL_WIDTH_BYTES)
        ntau, ninv_sigma, sigma = -self.tau, -1.0 / self.sigma, self.sigma
        if self.full_width:
            ntau, ninv_sigma, sigma = (ntau.expand(self.n, -1).contiguous(),
                                       ninv_sigma.expand(self.m, -1).contiguous(),
                                       sigma.expand(self.m, -1).contiguous())
        self.step_ntau, self.step_ninv_sigma, self.step_sigma = ntau, ninv_sigma, sigma

    def _project_dual(self, Y):
        return _project_dual(Y, self.lc_fin, self.uc_fin)

    def _metrics(self, XH, YH, AXH, ATYH):
        """Relative primal/dual residuals and gap in original units at (x̂, ŷ), plus the
        scaled absolute residual norms used by the KKT restart rule.  (1, W) rows."""
        R = AXH - torch.maximum(torch.minimum(AXH, self.uc), self.lc)        # scaled row violation
        G = self.c - ATYH                                                     # D2 (c − Aᵀy)
        Dres = G - torch.maximum(torch.minimum(G, self.g_hi), self.g_lo)     # what no bound absorbs
        # dual objective: y⁺ meets l_c, y⁻ u_c, the absorbed G⁺ l_x and G⁻ u_x; lcz ... uxz are
        # zero at infinite bounds, so each term is the product with the bound its sign selects
        sums = (_vnorm(R / self.d_row) ** 2, _vnorm(R) ** 2, _vnorm(Dres / self.d_col) ** 2, _vnorm(Dres) ** 2,
                _dot(self.c, XH), _dot(YH, torch.where(YH > 0, self.lcz, self.ucz)),
                _dot(G, torch.where(G > 0, self.lxz, self.uxz)))
        return self._measures(*sums)

    def _measures(self, sq_rd, sq_r, sq_dd, sq_d, cx, yl, gl):
        """(metrics (5, W), KKT error (1, W)) from the sums of ``_metrics`` (the C kernel's
        check returns the same sums): ‖R/d_row‖², ‖R‖², ‖G'/d_col‖², ‖G'‖², c·x̂ and the
        two bound terms of the dual objective."""
        p_obj = cx + self.c0
        d_obj = yl + gl + self.c0
        rel_p = sq_rd.sqrt() / (1 + self.bnorm)
        rel_d = sq_dd.sqrt() / (1 + self.cnorm)
        gap = (p_obj - d_obj).abs() / (1 + p_obj.abs() + d_obj.abs())
        kkt = torch.sqrt(self.omega * sq_r + sq_d / self.omega + self.thetas * (p_obj - d_obj) ** 2)
        return torch.cat([rel_p, rel_d, gap, p_obj, d_obj]), kkt

    def _fpe(self, dX, dY, AdX):
        """Fixed-point error ‖z − T z‖_P of the PDHG operator, P = [[ω/η, Aᵀ], [A, 1/(ηω)]]."""
        return self._fpe_of(_vnorm(dX) ** 2, _vnorm(dY) ** 2, _dot(AdX, dY))

    def _step_fpe(self, sums=None, AXH=None):
        """The fixed-point error of the step just taken: from the C kernel's check sums, else
        from x̂ − x, ŷ − y and A x̄ − A x̂ (``AXH`` when it is at hand)."""
        if sums is not None:
            return self._fpe_of(*sums[7:10].split(1))
        AXH = self.A.matmat(self.XH) if AXH is None else AXH
        return self._fpe(self.XH - self.X, self.YH - self.Y, self.AXB - AXH)

    def _fpe_of(self, sq_dx, sq_dy, dot_ady):
        q = self.omega * sq_dx + sq_dy / self.omega + 2 * self.eta * dot_ady
        return q.clamp(min=0).sqrt()

    # --------------------------------------------------------------- iteration
    def _step(self):
        """One PDHG step from (X, Y): x̂ → XH, x̄ = 2x̂ − x → XB, A x̄ → AXB, ŷ → YH."""
        A = self.A
        A.rmatmat(self.Y, out=self.ATY)
        torch.sub(self.c, self.ATY, out=self.XH)
        torch.addcmul(self.X, self.XH, self.step_ntau, out=self.XH)
        _clip(self.XH, self.lx, self.ux, out=self.XH)
        torch.lerp(self.X, self.XH, 2.0, out=self.XB)     # x̄ = 2x̂ − x in one pass
        A.matmat(self.XB, out=self.AXB)
        torch.addcmul(self.AXB, self.Y, self.step_ninv_sigma, out=self.V)
        _clip(self.V, self.lc, self.uc, out=self.YH)
        self.YH.sub_(self.V).mul_(self.step_sigma)

    def _adaptive_accept(self):
        """PDLP's adaptive step rule; returns the (1, W) mask of accepted steps and
        updates η for the next attempt."""
        dX = self.XH - self.X
        dY = self.YH - self.Y
        AdX = 0.5 * (self.AXB - self.AX)                  # A(x̂ − x), since x̂ = (x̄ + x)/2
        movement = 0.5 * self.omega * _vnorm(dX) ** 2 + 0.5 * _vnorm(dY) ** 2 / self.omega
        interaction = _dot(AdX, dY).abs()
        limit = torch.where(interaction > 0, movement / interaction.clamp_min(torch.finfo(dX.dtype).tiny),
                            torch.full_like(movement, math.inf))
        accept = self.eta <= limit
        self.steps += 1
        kk = self.steps + 1
        self.eta = torch.minimum((1 - kk ** -0.3) * limit, (1 + kk ** -0.6) * self.eta)
        return accept

    def _advance(self, accept=None):
        """Move to the next iterate (Halpern/reflection or plain PDHG with averaging);
        with ``accept`` (adaptive steps) rejected columns stay where they are."""
        opt = self.opt
        if opt.restart == "halpern":
            w = (self.k + 1) / (self.k + 2)
            if opt.reflection != 1.0:          # γ x̄ + (1 − γ) x  with x̄ = 2x̂ − x
                torch.lerp(self.X, self.XB, opt.reflection, out=self.XB)
            torch.lerp(self.Y, self.YH, 2.0, out=self.V)    # reflected y: 2ŷ − y
            if opt.reflection != 1.0:
                torch.lerp(self.Y, self.V, opt.reflection, out=self.V)
            if accept is None:
                torch.lerp(self.X0, self.XB, w, out=self.X)
                torch.lerp(self.Y0, self.V, w, out=self.Y)
                self.k += 1
            else:
                self.X = torch.where(accept, torch.lerp(self.X0, self.XB, w), self.X)
                self.Y = torch.where(accept, torch.lerp(self.Y0, self.V, w), self.Y)
                # A x of the new iterate: A(γ x̄ + (1−γ) x) lerped with the anchor's
                AXr = torch.lerp(self.AX, self.AXB, opt.reflection)
                self.AX = torch.where(accept, torch.lerp(self.AX0, AXr, w), self.AX)
                self.k += accept.to(self.k.dtype)
        else:
            if accept is None:
                self.X, self.XH = self.XH, self.X
                self.Y, self.YH = self.YH, self.Y
                self.XS.add_(self.X, alpha=1.0)   # constant step: plain averages
                self.YS.add_(self.Y, alpha=1.0)
                self.WS += 1.0
                self.k += 1
            else:
                a = accept.to(self.X.dtype)
                self.AX = torch.where(accept, 0.5 * (self.AXB + self.AX), self.AX)
                self.X = torch.where(accept, self.XH, self.X)
                self.Y = torch.where(accept, self.YH, self.Y)
                wgt = a * self.eta_used
                self.XS.addcmul_(self.X, wgt)
                self.YS.addcmul_(self.Y, wgt)
                self.WS += wgt
                self.k += a

    def _iterate(self, mode: str):
        """One iteration; ``mode`` "check" evaluates termination/restarts/infeasibility
        at (x̂, ŷ), "baseline" records the fixed-point error after a restart."""
        if mode == "plain" and self.fused is not None and self._fused_iteration():
            return
        sums = None
        if mode != "plain" and self._native_fits():
            sums = self.native.check(self)       # the step and the sums of the check's measures
        else:
            self._step()
        accept = None
        if self.opt.step == "adaptive":
            self.eta_used = self.eta
            accept = self._adaptive_accept()
        if mode == "baseline":
            fpe = self._step_fpe(sums)
            self.fpe0 = torch.where(self.need_baseline, fpe, self.fpe0)
            self.need_baseline.zero_()
        if mode == "check":
            restart, cand = self._check(sums)
            self.omega_point = self.omega       # the ω that produced the checked point
            pre = (self.X0, self.Y0)
            self._advance(accept)
            self._restart(restart, cand, pre, sums)
        else:
            self._advance(accept)
        if accept is not None:
            self._set_steps()

    def _fused_iteration(self) -> bool:
        """A plain reflected-Halpern iteration as two compiled elementwise kernels around
        the two sparse products (x̂, ŷ are not stored: only checks need them).  Returns
        False, and stays eager from then on, if compilation fails."""
        primal, dual = self.fused
        try:
            if self.fused_width != self.W:
                # the kernels write in place: compile both for this width on copies first,
                # so that a compiler failure never leaves a half-done iteration behind
                primal(self.X.clone(), self.ATY, self.c, self.lx, self.ux, self.tau, self.X0, self.k,
                       self.XB.clone())
                dual(self.AXB.clone(), self.Y.clone(), self.lc, self.uc, self.sigma, self.Y0, self.k)
                self.fused_width = self.W
            self.A.rmatmat(self.Y, out=self.ATY)
            primal(self.X, self.ATY, self.c, self.lx, self.ux, self.tau, self.X0, self.k, self.XB)
            self.A.matmat(self.XB, out=self.AXB)
            dual(self.AXB, self.Y, self.lc, self.uc, self.sigma, self.Y0, self.k)
        except Exception as exc:          # noqa: BLE001 - any compiler failure: fall back
            _FUSED["failed"] = repr(exc)
            self.fused = None
            return False
        self.k += 1
        return True

    # -------------------------------------------------------------------- checks
    def _check(self, sums=None):
        """Termination, infeasibility and restart decisions at a check iteration.
        ``sums``: the C kernel's (SUMS, W) sums (it wrote A x̂ and Aᵀŷ into AXH, ATYH).
        Returns (restart mask, candidate (X, Y, AX) to restart from)."""
        opt = self.opt
        A = self.A
        XH, YH = self.XH, self.YH
        if sums is None:
            AXH, ATYH = A.matmat(XH), A.rmatmat(YH)
            metrics, kkt = self._metrics(XH, YH, AXH, ATYH)
        else:
            AXH, ATYH = self.AXH, self.ATYH
            metrics, kkt = self._measures(*sums[:7].split(1))
        cand_metrics, cand, kkt_c = metrics, (XH, YH, AXH), kkt
        if opt.restart == "kkt" and bool((self.WS > 0).all()):
            XA, YA = self.XS / self.WS, self.YS / self.WS
            AXA, ATYA = A.matmat(XA), A.rmatmat(YA)
            m_avg, kkt_avg = self._metrics(XA, YA, AXA, ATYA)
            use_avg = kkt_avg < kkt
            cand_metrics = torch.where(use_avg, m_avg, metrics)
            kkt_c = torch.where(use_avg, kkt_avg, kkt)
            cand = (torch.where(use_avg, XA, XH), torch.where(use_avg, YA, YH), torch.where(use_avg, AXA, AXH))
        self.metrics = cand_metrics

        # --- restart decision
        age = self.iteration - self.born                # iterations since each scenario entered
        artificial = self.k >= RESTART_ARTIFICIAL * age
        if opt.restart == "halpern":
            fpe = self._step_fpe(sums, AXH)
            first = age <= opt.check_every
            restart = (first | (fpe <= RESTART_SUFFICIENT * self.fpe0)
                       | ((fpe <= RESTART_NECESSARY * self.fpe0) & (fpe > self.fpe_prev))
                       | artificial)
            self.fpe_prev = torch.where(restart, torch.full_like(fpe, math.inf), fpe)
        else:
            restart = ((kkt_c <= 0.2 * self.kkt0) | ((kkt_c <= 0.8 * self.kkt0) & (kkt_c > self.kkt_prev))
                       | artificial | torch.isinf(self.kkt0))
            self.kkt_prev = torch.where(restart, torch.full_like(kkt_c, math.inf), kkt_c)
            self.kkt0 = torch.where(restart, kkt_c, self.kkt0)

        # --- infeasibility certificates from the iterate difference (costs ~5 iterations,
        # so at every ``infeasibility_every``-th check, and at every check while one is pending)
        self.checks += 1
        if self.checks % opt.infeasibility_every == 0 or bool((self.pinf_count + self.dinf_count > 0).any()):
            # ŷ lies in the dual sign cone already (it is a prox output), so Aᵀŷ serves its ray test
            self._infeasibility(((XH - self.X, YH - self.Y, None), (XH, YH, ATYH)))

        # --- best point so far (for limit statuses)
        score = cand_metrics[:3].amax(0, keepdim=True)
        better = score < self.best_score
        if bool(better.any()):               # full-size copies only when a column improved
            self.best_score = torch.where(better, score, self.best_score)
            self.best_metrics = torch.where(better, cand_metrics, self.best_metrics)
            cols = torch.nonzero(better[0]).flatten()
            self._set_columns("XBEST", better, cols, cand[0])
            self._set_columns("YBEST", better, cols, cand[1])
        self.cand_point = cand
        return restart, cand

    def _infeasibility(self, candidates):
        """Count consecutive checks at which some candidate (x, y) certifies primal
        infeasibility (a dual ray) or dual infeasibility (a primal ray).  Candidates, as in
        PDLP: the iterate difference, which converges to the minimal displacement, and the
        PDHG point itself, which grows along the ray when there is one, so its oscillation
        shrinks relative to the ray (48-h toy, zero CO2 cap: the point certified after
        1,664 iterations, ratio 5e-9, while the difference stayed at 1e-6..1e-4 for 137k)."""
        pinf = dinf = None
        for dX, dY, ATdY in candidates:
            p, d = self._dual_ray(dY, ATdY), self._primal_ray(dX)
            pinf = p if pinf is None else pinf | p
            dinf = d if dinf is None else dinf | d
        self.pinf_count = torch.where(pinf, self.pinf_count + 1, torch.zeros_like(self.pinf_count))
        self.dinf_count = torch.where(dinf, self.dinf_count + 1, torch.zeros_like(self.dinf_count))

    def _dual_ray(self, dY, ATdY=None):
        """(1, W) mask: y (projected on the dual sign cone) proves primal infeasibility.
        With r = −Aᵀy, "bad" the part of r that no finite variable bound absorbs and
        obj = l_cᵀy⁺ − u_cᵀy⁻ + l_xᵀr⁺ − u_xᵀr⁻, every feasible x has obj <= |bad|ᵀ|x|
        (scaled units): obj > 0 with bad <= infeasibility_tol · obj leaves feasible points
        only beyond ‖x‖₁ >= 1/infeasibility_tol; obj must also stand out of the rounding
        of its terms (OR-Tools #4874).  ``ATdY``: Aᵀ dY when dY is in the sign cone already."""
        yr = self._project_dual(dY) if ATdY is None else dY
        r = -(self.A.rmatmat(yr) if ATdY is None else ATdY)
        bad = (r - torch.maximum(torch.minimum(r, self.g_hi), self.g_lo)).abs().amax(0, keepdim=True)
        # absorbed r⁺ / r⁻ meet l_x / u_x, which lxz / uxz hold as zeros where they are infinite
        terms = (yr.clamp(min=0) * self.lcz, yr.clamp(max=0) * self.ucz,
                 r.clamp(min=0) * self.lxz, r.clamp(max=0) * self.uxz)
        obj = sum(t.sum(0, keepdim=True) for t in terms)
        mag = sum(t.abs().sum(0, keepdim=True) for t in terms)
        return (obj > 1e-9 * mag) & (obj > 0) & (bad <= self.opt.infeasibility_tol * obj)

    def _primal_ray(self, dX):
        """(1, W) mask: x (projected on the recession cone of the bounds) proves dual
        infeasibility: c·x < 0 and A x in the recession cone of the rows to tolerance."""
        xr = torch.where(self.lx_fin & self.ux_fin, torch.zeros_like(dX), dX)
        xr = torch.where(self.lx_fin, xr.clamp(min=0), xr)
        xr = torch.where(self.ux_fin, xr.clamp(max=0), xr)
        cx = _dot(self.c, xr)
        descent = cx < -1e-9 * _dot(self.c.abs(), xr.abs())
        if not bool(descent.any()):     # no column descends (c ≥ 0 on x ≥ 0 models): no product
            return descent
        Axr = self.A.matmat(xr)
        viol = (torch.where(self.lc_fin, (-Axr).clamp(min=0), 0.0)
                + torch.where(self.uc_fin, Axr.clamp(min=0), 0.0))
        return descent & (viol.amax(0, keepdim=True) <= self.opt.infeasibility_tol * (-cx))

    def _set_columns(self, name, mask, cols, src):
        """Columns ``cols`` (= where ``mask``) of iterate ``name`` from ``src``: copied in place
        when they are few (one restarting scenario of 16 need not rewrite all 16), else by a
        where into a new tensor."""
        dst = getattr(self, name)
        if 4 * cols.numel() < self.W:
            dst[:, cols] = src[:, cols]
        else:
            setattr(self, name, torch.where(mask, src, dst))

    def _restart(self, restart, cand, pre, sums=None):
        """Restart the masked columns from the candidate point and update ω there
        (``sums``: the C kernel's check sums, which hold ‖x̂ − x0‖², ‖ŷ − y0‖²)."""
        opt = self.opt
        if not bool(restart.any()):          # nothing changes (every update below is masked)
            self.need_baseline = restart.clone()
            return
        X0, Y0 = pre
        cx, cy, cax = cand
        if sums is not None:
            dx, dy = sums[10:11].sqrt(), sums[11:12].sqrt()
        else:
            dx, dy = _vnorm(cx - X0), _vnorm(cy - Y0)
        rel_p, rel_d = self.metrics[0:1], self.metrics[1:2]
        ratio = rel_d / rel_p.clamp_min(torch.finfo(rel_p.dtype).tiny)
        ok = (dx > 1e-16) & (dy > 1e-16) & (dx < 1e12) & (dy < 1e12)
        if opt.primal_weight == "pid":
            ok = ok & (ratio > 1e-8) & (ratio < 1e8)
            err = torch.log(dy.clamp_min(1e-300)) - torch.log(dx.clamp_min(1e-300)) - torch.log(self.omega)
            kp, ki, smooth = PID_GAINS
            integral = smooth * self.pid_int + err
            new = torch.where(ok, self.omega * torch.exp(kp * err + ki * integral), self.omega_best)
            self.pid_int = torch.where(restart, torch.where(ok, integral, 0.0), self.pid_int)
            balance = torch.log10(ratio.clamp_min(1e-300)).abs()
            improved = restart & (balance < self.best_balance)
            self.best_balance = torch.where(improved, balance, self.best_balance)
            self.omega_best = torch.where(improved, self.omega, self.omega_best)
        else:
            smoothed = torch.exp(0.5 * torch.log(dy.clamp_min(1e-300) / dx.clamp_min(1e-300))
                                 + 0.5 * torch.log(self.omega))
            new = torch.where(ok, smoothed, self.omega)
        keep = restart & (self.kept > 0) & ((new / self.omega).log().abs() < WARM_WEIGHT_BAND)
        new = torch.where(keep, self.omega, new)
        self.pid_int = torch.where(keep, 0.0, self.pid_int)
        self.kept = torch.where(restart, (self.kept - 1).clamp(min=0), self.kept)
        self.omega = torch.where(restart, new, self.omega)
        cols = torch.nonzero(restart[0]).flatten()
        for name, src in (("X", cx), ("Y", cy), ("X0", cx), ("Y0", cy)):
            self._set_columns(name, restart, cols, src)
        if self.AX is not None:
            self.AX = torch.where(restart, cax, self.AX)
            if self.AX0 is not None:
                self.AX0 = torch.where(restart, cax, self.AX0)
        if self.XS is not None:
            self.XS = torch.where(restart, torch.zeros_like(self.XS), self.XS)
            self.YS = torch.where(restart, torch.zeros_like(self.YS), self.YS)
            self.WS = torch.where(restart, torch.zeros_like(self.WS), self.WS)
        self.k = torch.where(restart, torch.zeros_like(self.k), self.k)
        self.need_baseline = restart.clone()
        self._set_steps()

    # ------------------------------------------------------------------ driver
    def run(self) -> PDHGSolution:
        opt = self.opt
        max_iter = opt.max_iter if opt.max_iter is not None else DEFAULT_MAX_ITER
        F = opt.check_every
        baseline_next = False
        while self.W > 0:
            if self.iteration % F == F - 1 or self.iteration + 1 - self.oldest >= max_iter:
                mode = "check"
            elif baseline_next and opt.restart == "halpern":
                mode = "baseline"
            else:
                mode = "plain"
            if mode == "plain" and self._native_fits():
                self._native_run(max_iter)
                continue
            if mode == "plain" and self.graphs is not None and self._graph_run(max_iter):
                continue
            self.iteration += 1
            self._iterate(mode)
            if self.tuner is not None:
                self.tuner.tick(mode == "plain", self.W)
            baseline_next = False
            if mode != "check":
                continue
            baseline_next = bool(self.need_baseline.any())
            self._finish_converged()
            self._finish_limited(max_iter)
            free = self.width - self.W + len(self.retired)
            self._settle(self.admission.admit(free) if self.admission is not None else [])
        return PDHGSolution(self.out_x, self.out_y, self.out_z, self.out_status, self.out_iters,
                            self.out_seconds,
                            {k: self.out_metrics[i] for i, k in enumerate(
                                ("primal", "dual", "gap", "primal_objective", "dual_objective"))},
                            self.out_weight)

    def _native_run(self, max_iter: int):
        """The plain iterations up to the next check (in blocks of NATIVE_BLOCK while the
        thread tuner times them) through the C kernel."""
        count = self._plain_count(max_iter)
        if self.tuner is not None:
            count = min(count, NATIVE_BLOCK)
        self.native.run(self, count)
        self.iteration += count
        if self.tuner is not None:
            self.tuner.tick(True, self.W, count)

    def _finish_converged(self):
        """Record scenarios that converged or were certified infeasible; they retire."""
        opt = self.opt
        tol = opt.tol
        met = self.metrics
        conv = (met[:3] <= tol).all(0, keepdim=True)
        pinf = self.pinf_count >= opt.infeasibility_checks
        dinf = self.dinf_count >= opt.infeasibility_checks
        flags = torch.cat([conv, pinf & ~conv, dinf & ~conv & ~pinf, met[0:1] <= tol]).cpu()
        if opt.verbose:
            self._log()
        done = flags[:3].any(0)
        if not bool(done.any()):
            return
        cx, cy, _ = self.cand_point
        idx = torch.nonzero(done).flatten().to(self.ids.device)
        statuses = []
        for j in torch.nonzero(done).flatten().tolist():
            if flags[0, j]:
                statuses.append(OPTIMAL)
            elif flags[1, j]:
                statuses.append(INFEASIBLE)
            else:
                statuses.append(UNBOUNDED if flags[3, j] else INFEASIBLE_OR_UNBOUNDED)
        self._record(idx, cx, cy, met, statuses)
        self.retired.update(idx.tolist())

    def _finish_limited(self, max_iter: int):
        """Scenarios at their iteration or time limit (counted from when each entered the
        iteration): record the best checked point, "optimal_inaccurate" when all three
        relative measures are within inaccurate_factor·tol."""
        now, seconds = time.perf_counter(), self.opt.time_limit
        ids = self.ids.tolist()
        limits = [None if c in self.retired
                  else ITERATION_LIMIT if self.iteration - self.admitted_at[i][0] >= max_iter
                  else TIME_LIMIT if seconds is not None and now - self.admitted_at[i][1] >= seconds
                  else None for c, i in enumerate(ids)]
        if not any(limits):
            return
        met = self.best_metrics
        close = (met[:3] <= self.opt.inaccurate_factor * self.opt.tol).all(0).cpu().tolist()
        cols = [c for c, lim in enumerate(limits) if lim]
        statuses = [OPTIMAL_INACCURATE if close[c] else limits[c] for c in cols]
        dev = self.ids.device
        self._record(torch.tensor(cols, device=dev), self.XBEST, self.YBEST, met, statuses)
        self.retired.update(cols)

    def _settle(self, picks: list[int]):
        """After a check: the retired columns leave and scenarios ``picks`` enter, into the
        retired columns' places while there are any, the rest compacted away or appended."""
        free, self.retired = sorted(self.retired), set()
        n = min(len(free), len(picks))
        if n:
            self._replace(free[:n], picks[:n])
        if len(free) > n:
            gone = set(free[n:])
            self._compact(torch.tensor([c for c in range(self.W) if c not in gone], dtype=torch.long,
                                       device=self.ids.device))
        self._admit(picks[n:])

    def _record(self, idx, XS, YS, metrics, statuses):
        """Unscale columns ``idx`` of (XS, YS) to original units into the outputs."""
        d_col = self.d_col if self.d_col.shape[1] == 1 else self.d_col[:, idx]
        d_row = self.d_row if self.d_row.shape[1] == 1 else self.d_row[:, idx]
        pick = lambda t: t if t.shape[1] == 1 else t[:, idx]  # noqa: E731
        Xs, Ys = XS[:, idx], YS[:, idx]
        x = torch.maximum(torch.minimum(d_col * Xs, pick(self.ux_orig)), pick(self.lx_orig))
        y = d_row * Ys
        ATy = self.A.select(idx).rmatmat(Ys) if self.A.batch_values > 1 else self.A.rmatmat(Ys)
        z = (pick(self.c) - ATy) / d_col
        ids = self.ids[idx]
        self.out_x[ids] = x.T
        self.out_y[ids] = y.T
        self.out_z[ids] = z.T
        self.out_metrics[:, ids] = metrics[:, idx]
        self.out_weight[ids] = (self.omega_point / self.omega0)[0, idx]
        now = time.perf_counter()
        for i, s in zip(ids.tolist(), statuses):
            self.out_status[i] = s
            self.out_iters[i] = self.iteration - self.admitted_at[i][0]
            self.out_seconds[i] = now - self.admitted_at[i][1]
        if self.admission is not None:
            self.admission.finished(ids.tolist(), [s == OPTIMAL for s in statuses])
        if self.on_finish is not None:
            self.on_finish(len(statuses))

    def _compact(self, keep):
        """Keep only columns ``keep`` of every per-scenario tensor."""
        if keep.numel() == self.W:
            return
        for name in self._STATE:
            t = getattr(self, name)
            if t is not None:
                setattr(self, name, t.index_select(t.dim() - 1, keep).contiguous())
        if self.W == 0:
            return
        self._activate_data()
        if self.fused is not None and not self._want_fused(self.W):
            self.fused = None             # few scenarios left: eager is faster (and no recompile)

    def _log(self):
        met = self.metrics
        worst = met[:3].amax(1).tolist()
        print(f"[pdhg] it {self.iteration:7d} active {self.W:4d}  max rel primal {worst[0]:.2e} "
              f"dual {worst[1]:.2e} gap {worst[2]:.2e}  omega {float(self.omega.median()):.3g}  "
              f"{time.perf_counter() - self.start:.2f}s")
