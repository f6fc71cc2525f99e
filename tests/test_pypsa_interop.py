"""System.from_pypsa / to_pypsa / PlanningResult.to_pypsa and the linearised power flow, judged by
PyPSA's own ``n.optimize()`` (HiGHS) on the same network, never by gridprox.

PyPSA's example networks ship in its sdist (examples/networks/, CC-BY-4.0): it is looked for in
$GRIDPROX_PYPSA_SDIST, the cache folder comparisons/real_models.py uses (this user's alone), else
fetched with ``pip download``; the tests that need it skip when none is reachable.
"""
from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pypsa = pytest.importorskip("pypsa")
pytest.importorskip("linopy")

from gridprox import datasets  # noqa: E402
from gridprox.energy import CapacityExpansion, System  # noqa: E402
from gridprox.energy.pypsa_io import UnsupportedPyPSAError  # noqa: E402
from gridprox.energy.system import read_system  # noqa: E402

REL = 1e-6


@functools.lru_cache(maxsize=None)
def _cache() -> Path:
    """$GRIDPROX_PYPSA_CACHE, else real-models in the user's gridprox cache (comparisons/real_models.py's):
    this user's alone, since the networks in it are read."""
    from gridprox.core.private_files import private_folder

    try:
        return private_folder(os.environ.get("GRIDPROX_PYPSA_CACHE"), "real-models")
    except PermissionError as exc:
        pytest.skip(f"no private cache for PyPSA's sdist: {exc}")


@pytest.fixture(autouse=True)
def _quiet():
    for name in ("pypsa", "linopy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def example(name: str, snapshots: int | None = None):
    """PyPSA's example network ``name`` (optionally its first snapshots)."""
    from gridprox.core.private_files import unpack, unpack_sdist

    nc = _cache() / f"pypsa-{pypsa.__version__}" / "examples" / "networks" / name / f"{name}.nc"
    if not nc.is_file():
        wanted = lambda m: m.endswith(f"examples/networks/{name}/{name}.nc")  # noqa: E731
        given = os.environ.get("GRIDPROX_PYPSA_SDIST")
        try:
            if given and Path(given).is_file():
                unpack(Path(given), _cache(), wanted)
            else:
                unpack_sdist("pypsa", pypsa.__version__, _cache(), wanted)
        except LookupError as exc:
            pytest.skip(f"PyPSA's {exc} (its examples/networks hold the networks)")
        if not nc.is_file():
            pytest.skip(f"no example network {name!r} in PyPSA's sdist")
    n = pypsa.Network(str(nc))
    if snapshots is not None:
        n.set_snapshots(n.snapshots[:snapshots])
    return n


def optimum(n) -> float:
    status, _ = n.optimize(solver_name="highs", solver_options={"output_flag": False}, progress=False)
    assert status == "ok"
    return float(n.objective)


@functools.cache
def solved(name: str):
    """PyPSA's example ``name`` and a copy solved by ``n.optimize()``, once per session (the tests
    copy either before changing it)."""
    n = example(name)
    done = n.copy()
    optimum(done)
    return n, done


def ours(system: System, **options) -> float:
    result = CapacityExpansion(system, **options).solve("highs")
    assert result.status == "optimal"
    return result


# ----------------------------------------------------------- PyPSA's examples
@pytest.fixture(scope="module")
def meshed():
    """ac-dc-meshed: AC lines (KVL), DC lines (KVL on r), reversible DC links, a CO2 limit."""
    n, done = solved("ac-dc-meshed")
    system = System.from_pypsa(n)
    return n, system, float(done.objective), done, ours(system)


def test_ac_dc_meshed_objective_equals_pypsa(meshed):
    n, system, reference, _, result = meshed
    assert system.lines["x"].notna().all() and len(system.lines) == len(n.lines)
    assert system.policies["co2_cap"] == pytest.approx(float(n.global_constraints["constant"].iloc[0]))
    assert result.objective == pytest.approx(reference, rel=REL)


def test_round_trip_from_to_pypsa_keeps_the_problem(meshed):
    n, system, reference, _, _ = meshed
    back = system.to_pypsa()
    assert optimum(back.copy()) == pytest.approx(reference, rel=REL)
    again = System.from_pypsa(back)
    for table in ("generators", "storage_units", "stores", "links", "lines"):
        mine, theirs = getattr(system, table), getattr(again, table)
        cols = [c for c in mine.columns if c in theirs.columns and c not in ("length",)]
        pd.testing.assert_frame_equal(mine[cols], theirs.loc[mine.index, cols], check_dtype=False, rtol=1e-12)
    for series in ("availability", "demand"):
        pd.testing.assert_frame_equal(getattr(system, series), getattr(again, series), check_freq=False,
                                      check_column_type=False)


def test_result_written_back_reads_in_pypsa_statistics(meshed):
    n, _, _, done, result = meshed
    written = result.to_pypsa(n.copy())
    pd.testing.assert_series_equal(written.lines["s_nom_opt"], done.lines["s_nom_opt"], rtol=1e-6)
    pd.testing.assert_series_equal(written.links["p_nom_opt"], done.links["p_nom_opt"], rtol=1e-6)
    assert written.statistics.capex().sum() == pytest.approx(done.statistics.capex().sum(), rel=1e-6)
    assert written.statistics.opex().sum() == pytest.approx(done.statistics.opex().sum(), rel=1e-6)
    prices = written.buses_t.marginal_price[done.buses_t.marginal_price.columns]
    np.testing.assert_allclose(prices, done.buses_t.marginal_price, atol=1e-6)
    flows = written.lines_t.p0[done.lines_t.p0.columns]
    np.testing.assert_allclose(flows, done.lines_t.p0, atol=1e-5)


@pytest.mark.slow
def test_ac_dc_meshed_pdhg_within_its_gap_of_pypsa(meshed):
    """PDHG's own point (no crossover) on the KVL model, polished: its objective is within the
    gap it reports of PyPSA's optimum, and so within 2 tol (PDLP's gap ≤ tol bounds |p − d| by
    tol (1 + |p| + |d|)); measured 1.4e-4 relative, gap_abs 490 against an error of 487."""
    _, system, reference, _, _ = meshed
    result = CapacityExpansion(system).solve("pdhg", tol=1e-4, polish=None, device="cpu", time_limit=300)
    assert result.status == "optimal"
    error = abs(result.objective - reference)
    assert error <= 1.05 * result.raw.residuals["gap_abs"] and error <= 2e-4 * abs(reference)


def test_transmission_volume_and_cost_limits_equal_pypsa(meshed):
    """PyPSA's transmission_volume_expansion_limit and transmission_expansion_cost_limit, both
    binding at 70 % of what the unconstrained optimum builds."""
    n, _, _, done, _ = meshed
    n = n.copy()
    n.lines["length"] = n.links["length"] = 0.0
    n.lines["length"] = np.linspace(100.0, 400.0, len(n.lines))
    n.links.loc["DC link", "length"] = 600.0
    volume = (done.lines["s_nom_opt"] * n.lines["length"]).sum() + 600.0 * done.links.loc["DC link", "p_nom_opt"]
    cost = (done.lines.eval("capital_cost * s_nom_opt")).sum() + done.links.eval("capital_cost * p_nom_opt").sum()
    n.add("GlobalConstraint", "volume", type="transmission_volume_expansion_limit", carrier_attribute="AC, DC",
          sense="<=", constant=0.7 * volume)
    n.add("GlobalConstraint", "cost", type="transmission_expansion_cost_limit", carrier_attribute="AC,DC",
          sense="<=", constant=0.7 * cost)
    system = System.from_pypsa(n)
    assert [limit["kind"] for limit in system.transmission_limits] == ["volume", "cost"]
    reference = optimum(n.copy())
    assert reference > done.objective + 1e3            # the limits bind
    assert ours(system).objective == pytest.approx(reference, rel=REL)


@pytest.mark.slow
def test_model_energy_example_objective_equals_pypsa():
    """Stores behind links, a storage unit, 3-hourly weightings (first 48 snapshots)."""
    n = example("model-energy", 48)
    system = System.from_pypsa(n)
    assert ours(system).objective == pytest.approx(optimum(n), rel=REL)


# the meshed real grid (scigrid-de, 585 buses) is tests/test_kvl_formulations.py's, both ways of KVL


def test_network_file_loads_like_a_bundled_system():
    example("ac-dc-meshed")          # makes sure the file is there
    path = _cache() / f"pypsa-{pypsa.__version__}" / "examples" / "networks" / "ac-dc-meshed" / "ac-dc-meshed.nc"
    system = datasets.load_system(str(path))
    assert len(system.lines) == 7 and system.name


# --------------------------------------------------------- the bundled systems
@pytest.mark.slow
@pytest.mark.parametrize("name,snapshots", [("three-country", 24), ("model-energy", 48)])
def test_bundled_system_through_pypsa_and_back(name, snapshots):
    """System -> to_pypsa -> from_pypsa keeps PyPSA's optimum (the System itself reaching it is
    tests/test_energy_pypsa.py's)."""
    n = datasets.load_system(name).first(snapshots).to_pypsa()
    assert ours(System.from_pypsa(n)).objective == pytest.approx(optimum(n), rel=REL)


# ------------------------------------------------- Kirchhoff's voltage law
def triangle():
    """Cheap power at a, dear at b, all demand at c; a-c is weak.  With KVL 62.5 % of what a sends
    and 37.5 % of what b sends cross a-c (by reactance), so a-c's 180 MW cap the cheap import at
    270 MW in the 300 MW hour; a transport model routes the rest over a-b-c."""
    n = pypsa.Network()
    n.set_snapshots(pd.date_range("2030-01-01", periods=3, freq="h"))
    n.add("Bus", ["a", "b", "c"])
    n.add("Generator", "cheap", bus="a", p_nom=500, marginal_cost=10)
    n.add("Generator", "dear", bus="b", p_nom=500, marginal_cost=80)
    n.add("Load", "demand", bus="c", p_set=pd.Series([200.0, 250.0, 300.0], index=n.snapshots))
    n.add("Line", ["a-b", "b-c", "a-c"], bus0=["a", "b", "a"], bus1=["b", "c", "c"], x=[0.1, 0.1, 0.1],
          s_nom=[400, 400, 200], s_max_pu=[1.0, 1.0, 0.9])
    n.add("Line", "a-b new", bus0="a", bus1="b", x=0.2, s_nom_extendable=True, capital_cost=1.0)
    return n


@functools.cache
def triangle_optimum() -> float:
    return optimum(triangle())


def test_kvl_changes_the_answer_against_the_transport_model():
    system = System.from_pypsa(triangle())
    kvl = ours(system)
    assert kvl.objective == pytest.approx(triangle_optimum(), rel=REL)
    transport = ours(system, power_flow="transport")
    assert transport.objective < kvl.objective * (1 - 1e-3)
    # KVL holds the cheap import to 270 MW in the 300 MW hour (see triangle); transport takes all
    assert kvl.generators_t.p["cheap"].iloc[2] == pytest.approx(270.0, rel=1e-6)
    assert transport.generators_t.p["cheap"].iloc[2] == pytest.approx(300.0, rel=1e-6)


@pytest.mark.slow
def test_transport_model_equals_pypsa_with_links():
    """The transport model is PyPSA's too: the same lines as controllable links."""
    transport = ours(System.from_pypsa(triangle()), power_flow="transport")
    links = triangle()
    lines = links.lines.copy()
    links.remove("Line", lines.index)
    links.add("Link", lines.index, bus0=lines["bus0"], bus1=lines["bus1"], p_nom=lines["s_nom"],
              p_nom_extendable=lines["s_nom_extendable"], p_max_pu=lines["s_max_pu"], p_min_pu=-lines["s_max_pu"],
              capital_cost=lines["capital_cost"])
    assert transport.objective == pytest.approx(optimum(links), rel=REL)


def test_kvl_flows_split_by_reactance():
    n = triangle()
    result = ours(System.from_pypsa(n))
    p0 = result.lines_t.p0
    a_c, a_b, b_c, new = p0["a-c"], p0["a-b"], p0["b-c"], p0["a-b new"]
    # around the cycle a-b-c-a: 0.1 f_ab + 0.1 f_bc - 0.1 f_ac = 0, and the parallel new line
    np.testing.assert_allclose(0.1 * a_b + 0.1 * b_c - 0.1 * a_c, 0, atol=1e-6)
    np.testing.assert_allclose(0.1 * a_b - 0.2 * new, 0, atol=1e-6)


# -------------------------------------------------------- refused, by name
def test_unsupported_attribute_is_named():
    n = triangle()
    n.generators.loc["dear", "committable"] = True
    with pytest.raises(UnsupportedPyPSAError, match=r"Generator 'dear': committable") as info:
        System.from_pypsa(n)
    assert (info.value.component, info.value.name, info.value.attribute) == ("Generator", "dear", "committable")


def test_varying_series_that_the_system_holds_static_is_named():
    n = triangle()
    n.links_t.p_max_pu = pd.DataFrame(index=n.snapshots)
    n.add("Link", "ab link", bus0="a", bus1="b", p_nom=10, p_max_pu=pd.Series([1.0, 0.5, 1.0], index=n.snapshots))
    with pytest.raises(UnsupportedPyPSAError, match=r"Link 'ab link': p_max_pu varies in time"):
        System.from_pypsa(n)


def test_p_min_pu_series_equals_pypsa():
    """A must-run profile on the dear generator (p_min_pu per snapshot), through PyPSA and back."""
    n = triangle()
    n.generators_t.p_min_pu = pd.DataFrame({"dear": [0.0, 0.1, 0.3]}, index=n.snapshots)
    system = System.from_pypsa(n)
    assert system.min_availability["dear"].tolist() == [0.0, 0.1, 0.3]
    result = ours(system)
    assert result.generators_t.p["dear"].iloc[2] >= 150 - 1e-6
    assert result.objective == pytest.approx(optimum(n), rel=REL)
    assert ours(System.from_pypsa(system.to_pypsa())).objective == pytest.approx(result.objective, rel=REL)


@pytest.mark.slow
def test_storage_hvdc_inflow_and_fixed_state_of_charge_equal_pypsa():
    """storage-hvdc: a storage unit with inflow (and spillage), two with state_of_charge_set (the fast
    tier's check of both is test_varying_inflow_and_fixed_state_of_charge_equal_pypsa)."""
    n = example("storage-hvdc")
    system = System.from_pypsa(n)
    assert system.inflow.to_numpy().max() > 0 and system.state_of_charge_set.notna().any().sum() == 2
    assert ours(system).objective == pytest.approx(optimum(n), rel=REL)


def test_varying_inflow_and_fixed_state_of_charge_equal_pypsa(tmp_path):
    """storage_units_t.inflow: hydro at the dear bus whose inflow arrives mostly in the first hour,
    more than it can store (so some is spilled), its level fixed in the second hour
    (state_of_charge_set); through PyPSA, a system folder and back."""
    n = triangle()
    n.add("StorageUnit", "hydro", bus="b", p_nom=60, max_hours=2, marginal_cost=1.0,
          inflow=pd.Series([200.0, 0.0, 20.0], index=n.snapshots),
          state_of_charge_set=pd.Series([np.nan, 90.0, np.nan], index=n.snapshots))
    system = System.from_pypsa(n)
    assert system.inflow["hydro"].tolist() == [200.0, 0.0, 20.0]
    assert system.state_of_charge_set["hydro"].iloc[1] == 90.0
    result = ours(system)
    assert result.objective == pytest.approx(optimum(n), rel=REL)
    assert result.objective < triangle_optimum() - 1e3                 # the inflow is used
    for again in (System.from_pypsa(system.to_pypsa()), read_system(system.to_folder(tmp_path / "hydro"))):
        for series in ("inflow", "state_of_charge_set"):   # the tables: test_round_trip_from_to_pypsa_...
            pd.testing.assert_frame_equal(getattr(again, series), getattr(system, series), check_freq=False,
                                          check_column_type=False)


def test_scenario_override_of_a_static_inflow_reaches_the_model():
    """A series filled from a static value follows a scenario's override of it; one of its own does not."""
    n = triangle()
    n.add("StorageUnit", ["hydro", "river"], bus="b", p_nom=60, max_hours=2, inflow=[0.0, 10.0])
    n.storage_units_t.inflow = pd.DataFrame({"river": [10.0, 0.0, 10.0]}, index=n.snapshots)
    system = System.from_pypsa(n)
    system.scenarios = pd.DataFrame({"weight": [1.0]}, index=pd.Index(["wet"], name="name"))
    system.scenario_overrides = pd.DataFrame({"scenario": ["wet", "wet"], "table": ["storage_units"] * 2,
                                              "name": ["hydro", "river"], "column": ["inflow"] * 2,
                                              "value": [30.0, 50.0]})
    wet = system.validate().scenario("wet")
    assert wet.inflow["hydro"].tolist() == [30.0] * 3 and wet.inflow["river"].tolist() == [10.0, 0.0, 10.0]
