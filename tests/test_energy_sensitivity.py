"""Sensitivities by the envelope theorem equal central finite differences of re-solved (HiGHS)
objectives — for model inputs (CO2 cap, demand scale, a fuel price, technology costs), for the
demand Parameter hour by hour — and ``lp_objective`` is a torch layer whose gradients with
respect to c and the row/variable bounds match finite differences (single LP and a batch)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from energy_toy import toy_system
from gridprox.compile.lp import LinearProgram
from gridprox.energy import CapacityExpansion
from gridprox.energy import lp_objective
from gridprox.solvers import solve_lp

BASE = {"co2_cap": 3.0e5, "gas_price": 30.0}     # gas_price given: both gas plants at 30


@pytest.fixture(scope="module")
def model():
    return CapacityExpansion(toy_system(48, voll=3000.0), co2_cap=3.0e5)


@pytest.fixture(scope="module")
def result(model):
    res = model.solve("highs", inputs=BASE)
    assert res.status == "optimal"
    return res


def _central(model, name, x0, rel=1e-6):
    h = rel * abs(x0)
    f = [model.solve("highs", inputs={**BASE, name: x0 + s * h}).objective for s in (1, -1)]
    return (f[0] - f[1]) / (2 * h)


@pytest.mark.parametrize("name,x0", [("co2_cap", 3.0e5), ("demand_scale", 1.0), ("gas_price", 30.0),
                                     ("gas_capex", 48_000.0), ("solar_capex", 560_000.0),
                                     ("wind_marginal_cost", 0.5), ("wind_availability_scale", 1.0)])
def test_input_sensitivity_matches_finite_differences(model, name, x0):
    g = model.solve("highs", inputs={**BASE, name: x0}).sensitivity(name)   # at the point we difference
    assert isinstance(g, float)
    fd = _central(model, name, x0)
    assert g == pytest.approx(fd, rel=1e-3)
    assert abs(g) > 1e-3          # a real derivative, not a trivially zero one


def test_co2_price_is_minus_the_cap_sensitivity(result):
    assert result.sensitivity("co2_cap") < 0    # one more tonne allowed is worth money


def test_demand_parameter_sensitivity_per_hour(model, result):
    grad = result.sensitivity("demand")
    demand = model.parameter("demand")
    assert grad.shape == demand.shape
    base = demand.value.copy()
    prices = result.prices.pivot(index="snapshot", columns="zone", values="price")
    w = model.time.w
    try:
        for t, j in ((4, 0), (20, 1), (41, 0)):
            h = 1e-3
            f = []
            for s in (1, -1):
                bumped = base.copy()
                bumped[t, j] += s * h
                demand.value = bumped
                f.append(model.solve("highs").objective)
            assert grad[t, j] == pytest.approx((f[0] - f[1]) / (2 * h), rel=1e-3)
            assert grad[t, j] == pytest.approx(prices.iloc[t, j] * w[t], rel=1e-9)
    finally:
        model.set_inputs(BASE)


def test_sensitivity_errors(result):
    with pytest.raises(KeyError, match="nuclear_capex"):
        result.sensitivity("nuclear_capex")


# ------------------------------------------------------------------ the torch layer
def _lp_data(seed: int):
    rng = np.random.default_rng(seed)
    m, n = 5, 8
    A = sp.csr_matrix(rng.normal(size=(m, n)))
    x0 = rng.uniform(0.2, 0.8, n)
    lc = A @ x0 - rng.uniform(0.1, 1, m)
    uc = A @ x0 + rng.uniform(0.1, 1, m)
    lc[0] = uc[0] = (A @ x0)[0]                  # one equality row
    return A, [rng.normal(size=n), lc, uc, np.zeros(n), np.ones(n)]


def _objective(A, arrays):
    return solve_lp(LinearProgram(arrays[0], A, *arrays[1:]), solver="highs").objective


def _fd_gradients(A, arrays, h=1e-6):
    """Central differences for every entry; an equality row moves lc and uc together (reported in lc)."""
    grads = []
    for k in range(5):
        g = np.zeros_like(arrays[k])
        for i in range(arrays[k].size):
            if k == 2 and i == 0:
                continue                         # equality row: counted in lc
            plus, minus = [a.copy() for a in arrays], [a.copy() for a in arrays]
            plus[k][i] += h
            minus[k][i] -= h
            if k == 1 and i == 0:
                plus[2][0] += h
                minus[2][0] -= h
            g[i] = (_objective(A, plus) - _objective(A, minus)) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("seed", [3, 11])
def test_lp_objective_gradients_match_finite_differences(seed):
    torch = pytest.importorskip("torch")
    A, arrays = _lp_data(seed)
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    value = lp_objective(*tensors, A)
    assert float(value.detach()) == pytest.approx(_objective(A, arrays), rel=1e-9)
    value.backward()
    got = [t.grad.numpy().copy() for t in tensors]
    got[1][0] += got[2][0]                        # d/d(equality right-hand side)
    got[2][0] = 0.0
    for g, fd in zip(got, _fd_gradients(A, arrays)):
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)
    assert np.abs(got[0]).sum() > 0 and np.abs(got[4]).sum() > 0


def test_lp_objective_batch_and_chain_rule():
    torch = pytest.importorskip("torch")
    A, arrays = _lp_data(3)
    c = torch.tensor(np.stack([arrays[0], 0.5 * arrays[0]]), dtype=torch.float64, requires_grad=True)
    rest = [torch.tensor(np.stack([a, a]), dtype=torch.float64) for a in arrays[1:]]
    values = lp_objective(c, *rest, A)
    assert values.shape == (2,)
    (values * torch.tensor([1.0, 3.0], dtype=torch.float64)).sum().backward()
    x = solve_lp(LinearProgram(arrays[0], A, *arrays[1:]), solver="highs").x
    np.testing.assert_allclose(c.grad[0].numpy(), x, atol=1e-8)       # d value / d c = x (weight 1)
    np.testing.assert_allclose(c.grad[1].numpy(), 3 * x, atol=1e-8)   # same x at half the cost, weight 3
