"""The thread tuner: it moves to a faster count, stays off a slower one at little cost, and
moves back when the machine changes (simulated clock: an iteration's seconds depend on the
thread count torch is set to, as the solver's would)."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

import gridprox as gp
from gridprox.compile.lp import LinearProgram
from gridprox.core import threads as T


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(T.time, "perf_counter", c)
    before = torch.get_num_threads()
    yield c
    torch.set_num_threads(before)


def run(clock, tuner, cost, iterations, width=1, check_every=64):
    """Drive ``tuner`` like the solver; ``cost(threads, i)`` is iteration i's seconds.
    Returns the simulated seconds spent."""
    start = clock.now
    for i in range(iterations):
        clock.now += cost(torch.get_num_threads(), i)
        tuner.tick(i % check_every != check_every - 1, width)
    return clock.now - start


def test_ladder():
    assert T.thread_ladder(1) == [1]
    assert T.thread_ladder(2) == [1, 2]
    assert T.thread_ladder(6) == [1, 2, 4, 6]
    assert T.thread_ladder(8) == [1, 2, 4, 8]


def test_moves_to_the_faster_count_and_climbs(clock):
    tuner = T.ThreadTuner(4)
    assert torch.get_num_threads() == 1
    per_thread = {1: 1.6e-3, 2: 1.0e-3, 4: 0.7e-3}
    spent = run(clock, tuner, lambda th, i: per_thread[th], 4000)
    assert tuner.threads == 4 and torch.get_num_threads() == 4
    assert [th for _, th in tuner.history] == [1, 2, 4]
    assert spent < 4000 * 0.7e-3 * 1.1          # within 10% of the best count throughout


def test_stays_off_a_slower_count_at_little_cost(clock):
    tuner = T.ThreadTuner(2)
    # a loaded machine: two threads cost a scheduler slice on most iterations
    spent = run(clock, tuner, lambda th, i: 2e-4 if th == 1 else 1e-2, 5000)
    assert tuner.threads == 1 and tuner.history == [(0, 1)]
    assert spent < 5000 * 2e-4 * 1.1            # probes cost under 10% of the solve


def test_a_lucky_probe_is_not_confirmed(clock):
    tuner = T.ThreadTuner(2)
    # two threads: fast for a probe's dozen iterations, then slow on every third iteration
    cost = lambda th, i: 2e-4 if th == 1 else (1e-4 if i < 64 or i % 3 else 3e-3)  # noqa: E731
    run(clock, tuner, cost, 3000)
    assert tuner.threads == 1
    assert [th for _, th in tuner.history] == [1, 2, 1]


def test_moves_back_when_the_machine_gets_busy(clock):
    tuner = T.ThreadTuner(2)
    quiet = lambda th, i: 1.6e-3 if th == 1 else 1.0e-3                          # noqa: E731
    busy = lambda th, i: 2.2e-3 if th == 1 else 6.3e-3                           # noqa: E731
    run(clock, tuner, quiet, 6000)
    assert tuner.threads == 2
    run(clock, tuner, busy, 600)                 # within a few hundred iterations of the change
    assert tuner.threads == 1


def test_a_new_width_restarts_the_measurement(clock):
    tuner = T.ThreadTuner(2)
    run(clock, tuner, lambda th, i: 1e-3, 40, width=8)
    assert tuner.window
    tuner.tick(True, 4)
    assert tuner.window == [] and tuner.means == {}


def _lp(n=40, m=30, seed=0):
    rng = np.random.default_rng(seed)
    A = sp.random(m, n, density=0.2, random_state=seed, format="csr") + sp.eye(m, n, format="csr")
    x0 = rng.uniform(0, 1, n)
    b = A @ x0
    return LinearProgram(c=rng.uniform(0.5, 1.5, n), A=A.tocsr(), lc=b - 1, uc=b + 1,
                         lx=np.zeros(n), ux=np.full(n, 10.0))


def test_solver_reports_and_restores_its_threads():
    lp = _lp()
    before = torch.get_num_threads()
    auto = gp.solve_lp(lp, solver="pdhg", tol=1e-6, threads="auto")
    assert torch.get_num_threads() == before
    assert "threads=" in auto.message
    fixed = gp.solve_lp(lp, solver="pdhg", tol=1e-6, threads=1)
    assert fixed.message.split("threads=")[1].startswith("1")
    ref = gp.solve_lp(lp, solver="highs")
    for res in (auto, fixed):
        assert res.status == "optimal"
        assert abs(res.objective - ref.objective) <= 1e-5 * (1 + abs(ref.objective))


@pytest.mark.slow
def test_splitting_solvers_tune_and_restore_threads(monkeypatch):
    """The imaging algorithms time their loop with the tuner and leave torch's thread
    count as they found it, also when a prox raises half-way."""
    import imaging as im
    from gridprox.core import splitting

    rng = np.random.default_rng(0)
    b = np.clip(np.outer(np.hanning(48), np.hanning(48)) + 0.05 * rng.standard_normal((48, 48)), 0, 1)
    before = torch.get_num_threads()
    made = []
    real = splitting.ThreadTuner

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(splitting, "ThreadTuner", recording)
    torch.set_num_threads(2)
    try:
        x = im.denoise_tv(b, 0.1)
        assert torch.get_num_threads() == 2
        assert made and made[-1].ticks > 10, "the loop was not timed"
        assert np.isfinite(x).all() and x.shape == b.shape

        def failing(v, t):
            failing.calls += 1
            if failing.calls > 20:
                raise RuntimeError("prox failed")
            return v
        failing.calls = 0
        from gridprox.core.finite_diff import Gradient
        x0 = torch.as_tensor(b)
        term = splitting.ProxTerm(op=Gradient(x0.shape), prox=failing)
        monkeypatch.setattr(T, "_LAST_CHOICE", [1])     # the tuner starts at one thread
        with pytest.raises(RuntimeError, match="prox failed"):
            splitting.admm(lambda vs, rho, xp: xp + 0.01, [term], x0, rho=1.0, max_iter=200, tol=0.0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_blocks_of_iterations_move_the_count_too(clock):
    """The C kernel ticks once per block of NATIVE_BLOCK iterations: the tuner still finds
    the faster count, and stops judging a block at the iteration that changed the count."""
    from gridprox.lp.backends import Tuned
    NATIVE_BLOCK = Tuned.BLOCK

    tuner = T.ThreadTuner(4)
    per_thread = {1: 1.6e-3, 2: 1.0e-3, 4: 0.7e-3}
    for _ in range(4000 // NATIVE_BLOCK):
        clock.now += NATIVE_BLOCK * per_thread[torch.get_num_threads()]
        tuner.tick(True, 1, NATIVE_BLOCK)
    assert tuner.threads == 4 and [th for _, th in tuner.history] == [1, 2, 4]
    assert tuner.ticks < 4000
