"""A round trip through PyPSA, not an independent reference: the optima stored in each dataset's
system.yaml were computed by the build scripts (datasets/energy-scripts/) from the System they
built, converted by the same ``pypsa_network.to_pypsa`` used here.  Rebuilding the PyPSA network
from the CSV files as written and re-solving it must give the stored optimum (1e-6 relative) and
the same numbers of variables and constraints: it catches data lost or changed on the way to and
from the CSV files, and changes in ``to_pypsa`` or in PyPSA/linopy/HiGHS since the build.  It
cannot catch an error in ``to_pypsa`` itself (both sides share it), nor one in the build
scripts' reading of the original sources.  Skipped when pypsa is not installed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pypsa")
pytest.importorskip("linopy")

from gridprox import datasets  # noqa: E402
from gridprox.energy.system import annuity  # noqa: E402

SCRIPTS = Path(__file__).resolve().parents[1] / "datasets" / "energy-scripts"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"energy_scripts_{name}", SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pypsa_network = _module("pypsa_network")

# (system, stored case): the reduced-horizon cases; the full-year optima are stored for reference only
CASES = [("model-energy", "first-730"), ("de-stochastic", "stochastic-first-730"),
         ("de-stochastic", "high-first-730"), ("three-country", "first-336")]


def _case(system, case: str) -> dict:
    return next(o for o in system.reference["optima"] if o["case"] == case)


@pytest.mark.slow
@pytest.mark.parametrize("name,case", CASES)
def test_pypsa_round_trip_of_our_csv_reproduces_the_stored_optimum(name, case):
    system = datasets.load_system(name)
    ref = _case(system, case)
    n = pypsa_network.to_pypsa(system.first(ref["snapshots"]), ref["scenario"])
    res = pypsa_network.pypsa_optimum(n)
    assert res["status"] == "ok"
    assert res["objective"] == pytest.approx(ref["objective"], rel=1e-6)
    assert (res["variables"], res["constraints"]) == (ref["variables"], ref["constraints"])


def test_annuity_matches_pypsa():
    import pypsa

    for rate, life in ((0.07, 25), (0.03, 40), (0.0, 20), (0.05, np.inf), (0.12, 1)):
        assert float(annuity(rate, life)) == pytest.approx(float(pypsa.costs.annuity(rate, life)), rel=1e-14)


def test_stochastic_reference_matches_pypsa_benchmark():
    """The stored stochastic optimum equals PyPSA's own benchmark-sp value (968,918.158)."""
    system = datasets.load_system("de-stochastic")
    assert _case(system, "stochastic")["objective"] == pytest.approx(system.reference["benchmark_sp_objective"],
                                                                     rel=1e-9)
