"""Kirchhoff's voltage law written over cycles (PyPSA's) and over voltage angles: the same optimum
as PyPSA's own ``n.optimize()`` (HiGHS) either way, and the two matrices describe the same law."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gridprox.energy.network import angle_incidence, cycle_matrix

pytest.importorskip("pypsa")
pytest.importorskip("linopy")

from test_pypsa_interop import REL, _quiet, ours, solved, triangle, triangle_optimum  # noqa: E402,F401

from gridprox.energy import CapacityExpansion, System  # noqa: E402

FORMULATIONS = ("cycles", "angles")


def test_cycles_are_the_angle_differences_null_space():
    """Every cycle sums angle differences to zero (C D = 0) and the two counts add up to the lines:
    cycles + angles = |L|, so both describe the same flows.  A random meshed graph of two parts
    with parallel lines."""
    rng = np.random.default_rng(0)
    bus0 = np.r_[rng.integers(0, 12, 30), rng.integers(14, 20, 10), 3]
    bus1 = np.r_[rng.integers(0, 12, 30), rng.integers(14, 20, 10), bus0[0]]
    keep = bus0 != bus1
    bus0, bus1 = bus0[keep], bus1[keep]
    C, D = cycle_matrix(bus0, bus1, 21), angle_incidence(bus0, bus1, 21)
    assert abs(C @ D).max() == 0
    assert C.shape[0] + D.shape[1] == len(bus0)
    assert np.linalg.matrix_rank(D.toarray()) == D.shape[1]             # references fixed: θ unique
    assert np.linalg.matrix_rank(sp.vstack([C, D.T]).toarray()) == len(bus0)


def test_unknown_formulation_is_refused():
    with pytest.raises(ValueError, match="kvl must be 'cycles' or 'angles'"):
        CapacityExpansion(System.from_pypsa(triangle()), kvl="ptdf")


@pytest.mark.parametrize("kvl", FORMULATIONS)
def test_triangle_equals_pypsa(kvl):
    result = ours(System.from_pypsa(triangle()), kvl=kvl)
    assert result.objective == pytest.approx(triangle_optimum(), rel=REL)
    assert result.generators_t.p["cheap"].iloc[2] == pytest.approx(270.0, rel=1e-6)   # KVL binds (see triangle)


@pytest.fixture(scope="module")
def meshed():
    n, done = solved("ac-dc-meshed")
    return System.from_pypsa(n), float(done.objective)


@pytest.mark.parametrize("kvl", FORMULATIONS)
def test_ac_dc_meshed_equals_pypsa(meshed, kvl):
    """Two AC parts and a DC part: one reference angle per part."""
    system, reference = meshed
    assert ours(system, kvl=kvl).objective == pytest.approx(reference, rel=REL)


@pytest.fixture(scope="module")
def scigrid():
    n, done = solved("scigrid-de")
    system = System.from_pypsa(n)
    assert len(system.buses) == 585 and system.lines["x"].notna().all()
    return system, float(done.objective)


@pytest.mark.slow
@pytest.mark.parametrize("kvl", FORMULATIONS)
def test_scigrid_de_equals_pypsa(scigrid, kvl):
    """A real meshed grid: 585 buses, 852 lines, 96 transformers (types, tap ratios), 24 hours."""
    system, reference = scigrid
    assert ours(system, kvl=kvl).objective == pytest.approx(reference, rel=REL)


@pytest.mark.slow
def test_ac_dc_meshed_pdhg_with_angles_within_1e_4_of_pypsa(meshed):
    """PDHG's own point (no crossover) on the angle rows: measured 1.3e-5 relative, 7,744 iterations
    (cycles: test_pypsa_interop's test_ac_dc_meshed_pdhg_within_1e_4_of_pypsa)."""
    system, reference = meshed
    result = CapacityExpansion(system, kvl="angles").solve("pdhg", tol=1e-4, polish=None, device="cpu",
                                                          time_limit=300)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(reference, rel=1e-4)
