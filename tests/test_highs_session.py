"""HighsSession / solve_lp_sequence: LPs solved one after another in one HiGHS instance, each
from the last basis, give what cold solves give (objective, status, KKT residuals), need far
fewer simplex iterations when neighbours follow each other, and survive a changed matrix and
an infeasible LP in the middle of the sequence."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from energy_toy import toy_system
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp, solve_lp_sequence
from gridprox.solvers.highs import HighsSession
from test_backends import random_lp


def perturbed(lp, seed):
    """The same A; c, finite bounds and c0 moved a little."""
    rng = np.random.default_rng(seed)
    c = lp.c * rng.uniform(0.9, 1.1, lp.c.shape)
    shift_x = rng.uniform(0, 0.05, lp.lx.shape)
    lx = np.where(np.isfinite(lp.lx) & (lp.lx < lp.ux), lp.lx - shift_x, lp.lx)
    shift_r = rng.uniform(0, 0.05, lp.lc.shape)
    uc = np.where(np.isfinite(lp.uc) & (lp.lc < lp.uc), lp.uc + shift_r, lp.uc)
    return replace(lp, c=c, lx=lx, uc=uc, c0=float(lp.c0) + rng.normal())


def assert_same(hot, cold):
    assert hot.status == cold.status
    if cold.status == "optimal":
        assert hot.objective == pytest.approx(cold.objective, rel=1e-9, abs=1e-9)
        for name in ("primal", "dual", "gap"):
            assert hot.residuals[name] < 1e-7, (name, hot.residuals)


def hot_and_cold(lps):
    """The LPs in one HighsSession and each cold (simplex both), checked to agree."""
    session = HighsSession()
    hot = [session.solve(lp) for lp in lps]
    cold = [solve_lp(lp, solver="highs", method="simplex") for lp in lps]
    for h, c in zip(hot, cold):
        assert_same(h, c)
    return hot, cold


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sequence_equals_cold_solves(seed):
    base = random_lp(seed, m=30, n=40)
    lps = [base] + [perturbed(base, 100 * seed + k) for k in range(5)]
    hot = solve_lp_sequence(lps, solver="highs")
    for h, lp in zip(hot, lps):
        assert_same(h, solve_lp(lp, solver="highs"))


@pytest.mark.slow
def test_neighbouring_caps_restart_from_the_basis():
    model = CapacityExpansion(toy_system(96, voll=3000.0), co2_cap=4.0e5)
    lps = [model.lp({"co2_cap": cap}) for cap in np.linspace(4.0e5, 2.0e5, 6)]
    hot, cold = hot_and_cold(lps)
    # after the first, each cap starts from its neighbour's basis
    assert sum(h.iterations for h in hot[1:]) < 0.2 * sum(c.iterations for c in cold[1:])


def test_changed_matrix_and_infeasible_lp_in_the_sequence():
    base = random_lp(3, m=25, n=30)
    other_A = replace(base, A=base.A * 1.5)             # every value changed: passed whole
    few = base.A.copy()
    few.data[:3] *= 1.2                                  # three values changed: entry by entry
    zero = np.zeros_like(base.lx)
    lc, uc = base.lc.copy(), base.uc.copy()
    lc[0] = uc[0] = 1.0                                 # A x = 1 in row 0 with every x fixed at 0
    infeasible = replace(base, lx=zero, ux=zero, lc=lc, uc=uc)
    lps = [base, other_A, infeasible, perturbed(base, 7), replace(base, A=few), base]
    hot = solve_lp_sequence(lps, solver="highs")
    for h, lp in zip(hot, lps):
        assert_same(h, solve_lp(lp, solver="highs"))


def test_swept_availability_changes_matrix_entries_hot():
    """A swept availability scale moves entries of A (the profiles): passed entry by entry, the
    sweep stays hot and equals separate cold solves."""
    model = CapacityExpansion(toy_system(48, voll=3000.0), co2_cap=4.0e5)
    scales = [0.8, 0.9, 1.0, 1.1]
    lps = [model.lp({"wind_availability_scale": v}) for v in scales]
    assert not np.array_equal(lps[0].A.data, lps[1].A.data)
    table = model.sweep({"wind_availability_scale": scales}, solver="highs", progress=False)
    for objective, lp in zip(table["objective"], lps):
        assert objective == pytest.approx(solve_lp(lp, solver="highs").objective, rel=1e-9)
    hot, cold = hot_and_cold(lps)
    assert sum(h.iterations for h in hot[1:]) < 0.5 * sum(c.iterations for c in cold[1:])


def test_batch_and_wrong_method_are_refused():
    from gridprox import LinearProgram, SolverError

    lp = random_lp(4)
    with pytest.raises(SolverError, match="method"):
        HighsSession(method="barrier")
    batch = LinearProgram.stack([lp, lp])
    with pytest.raises(SolverError, match="single LP"):
        HighsSession().solve(batch)
    with pytest.raises(SolverError, match=r"options \['tol'\] given with a session"):
        solve_lp_sequence([lp], solver="highs", session=HighsSession(), tol=1e-6)
