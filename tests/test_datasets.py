"""Bundled energy systems load and validate; corrupted copies fail naming file, column and row."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridprox import datasets
from gridprox.energy.system import SystemDataError, annuity, read_system, schema_markdown

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model_energy():
    return datasets.load_system("model-energy")


@pytest.fixture(scope="module")
def de_stochastic():
    return datasets.load_system("de-stochastic")


@pytest.fixture(scope="module")
def three_country():
    return datasets.load_system("three-country")


# ------------------------------------------------------------------ the datasets
def test_list_systems_and_unknown_name():
    names = datasets.list_systems()
    assert {"model-energy", "de-stochastic", "three-country"} <= set(names)
    with pytest.raises(datasets.UnknownSystemError) as err:
        datasets.load_system("model-energi")
    assert isinstance(err.value, KeyError)
    assert "model-energi" in str(err.value) and "model-energy" in str(err.value) and "three-country" in str(err.value)


def test_load_by_path_equals_load_by_name(model_energy):
    by_path = datasets.load_system(REPO / "datasets" / "model-energy")
    pd.testing.assert_frame_equal(by_path.generators, model_energy.generators)


def test_model_energy_content(model_energy):
    s = model_energy
    assert len(s.snapshots) == 2920 and (s.weights == 3.0).all() and s.weights.sum() == 8760
    assert (s.snapshots["duration"] == 3.0).all()
    assert list(s.buses.index) == ["electricity", "hydrogen"]
    assert s.generators.loc["load shedding", "p_nom"] == 10901.16
    assert not s.generators.loc["load shedding", "p_nom_extendable"]
    assert s.generators.loc["wind", "capital_cost"] == 101644.12332388276
    su = s.storage_units.loc["battery storage"]
    assert (su.max_hours, su.efficiency_store, su.efficiency_dispatch, su.cyclic_state_of_charge) == (3.0, 0.96, 0.96, True)
    assert s.stores.loc["hydrogen storage", "e_cyclic"] and s.stores.loc["hydrogen storage", "bus"] == "hydrogen"
    assert s.links.loc["electrolysis", ["bus0", "bus1", "efficiency"]].tolist() == ["electricity", "hydrogen", 0.6217]
    assert s.links.loc["turbine", "efficiency"] == 0.41
    # fixed cost = stored annualised capital cost (no overnight cost, no FOM)
    assert s.fixed_cost("links")["turbine"] == s.links.loc["turbine", "capital_cost"]
    # time series: demand only on the electricity bus, wind/solar profiles, static 1 for shedding
    assert (s.demand["hydrogen"] == 0).all() and s.demand["electricity"].max() == pytest.approx(10901.16)
    assert s.demand["electricity"].iloc[0] == 5719.26
    assert s.availability["wind"].iloc[0] == 0.1846 and (s.availability["load shedding"] == 1).all()
    ref = {o["case"]: o for o in s.reference["optima"]}
    assert ref["full"]["objective"] == pytest.approx(8078135675.45, rel=1e-9)
    assert (s.describe()["zones"], s.describe()["buses"]) == (1, 2) and s.currency == "EUR" and s.voll is None


def test_de_stochastic_scenarios(de_stochastic):
    s = de_stochastic
    assert s.scenarios["weight"].to_dict() == {"low": 0.4, "med": 0.3, "high": 0.3}
    assert (s.demand["DE"] == 1.0).all() and len(s.snapshots) == 2920
    # gas marginal cost = price / efficiency, exactly PyPSA's values
    assert s.marginal_cost()["gas"] == 40 / 0.6
    for name, price in (("low", 40.0), ("med", 70.0), ("high", 100.0)):
        sc = s.scenario(name)
        assert sc.generators.loc["gas", "fuel_cost"] == price
        assert sc.marginal_cost()["gas"] == price / 0.6
        assert sc.meta["scenario"] == name
    assert s.generators.loc["gas", "fuel_cost"] == 40.0  # scenario() works on a copy
    assert s.emission_factor()["lignite"] == pytest.approx(0.4069 / 0.4)
    ref = {o["case"]: o["objective"] for o in s.reference["optima"]}
    assert ref["stochastic"] == pytest.approx(968918.158, rel=1e-9)
    assert ref["stochastic"] == pytest.approx(s.reference["benchmark_sp_objective"], rel=1e-12)
    with pytest.raises(SystemDataError, match="unknown scenario 'mid'"):
        s.scenario("mid")


def test_three_country_content_and_annuity(three_country):
    s = three_country
    assert len(s.snapshots) == 8760 and s.weights.sum() == 8760
    assert set(s.demand.columns[(s.demand > 0).any()]) == {"DE", "FR", "NL"} and s.describe()["zones"] == 3
    assert s.discount_rate == 0.07 and s.voll == 2000.0
    assert set(s.lines.index) == {"DE-FR", "DE-NL", "FR-NL"} and (s.lines["p_nom"] == 0).all()
    prof = s.availability
    assert 0.1 < prof["DE onwind"].mean() < 0.3 and 0.3 < prof["NL onwind"].mean() < 0.45
    assert 0.05 < prof["FR solar"].mean() < 0.15 and prof["DE solar"].max() <= 1
    # fixed cost by hand: onwind 1035.5613 EUR/kW, 30 a, 7 %, FOM 1.2167 %/a (stored rounded to 1e-6 EUR/MW)
    crf = 0.07 / (1 - 1.07 ** -30)
    assert s.fixed_cost("generators")["DE onwind"] == pytest.approx(1035561.3 * crf + 0.012167 * 1035561.3, rel=1e-9)
    assert s.marginal_cost()["FR CCGT"] == pytest.approx(4.2 + 20.1 / 0.58)
    assert s.emission_factor()["NL OCGT"] == pytest.approx(0.198 / 0.41)
    assert "FR nuclear" in s.generators.index and "DE nuclear" not in s.generators.index


def test_annuity_special_cases():
    assert annuity(0.07, 25) == pytest.approx(0.0858105172206656, rel=1e-12)
    assert annuity(0.0, 20) == 0.05
    assert annuity(0.05, math.inf) == 0.05
    assert annuity(0.0, math.inf) == 0.0


def test_first_rescales_weights_not_durations(model_energy):
    short = model_energy.first(730)
    assert len(short.snapshots) == 730 and short.weights.sum() == pytest.approx(8760)
    assert (short.snapshots["duration"] == 3.0).all() and short.demand.shape == (730, 2)
    assert model_energy.first(730, rescale=False).weights.sum() == 2190
    with pytest.raises(SystemDataError):
        model_energy.first(0)


@pytest.mark.parametrize("name", ["model-energy", "de-stochastic"])
def test_round_trip(tmp_path, name):
    system = datasets.load_system(name)
    back = read_system(system.to_folder(tmp_path / name))
    for table in ("generators", "storage_units", "stores", "links", "carriers", "scenarios", "scenario_overrides"):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(system, table), check_dtype=False,
                                      check_column_type=False, check_index_type=False)
    for ts in ("snapshots", "demand", "availability"):
        pd.testing.assert_frame_equal(getattr(back, ts), getattr(system, ts), check_freq=False)
    assert back.meta == system.meta


def test_readme_documents_the_schema():
    assert schema_markdown() in (REPO / "datasets" / "README.md").read_text()


# ------------------------------------------------------------- corrupted copies
@pytest.fixture()
def folder(tmp_path, model_energy):
    """A small writable copy of model-energy (96 snapshots)."""
    return model_energy.first(96, rescale=False).to_folder(tmp_path / "me")


@pytest.fixture()
def sto_folder(tmp_path, de_stochastic):
    return de_stochastic.first(24, rescale=False).to_folder(tmp_path / "sto")


def edit(path: Path, line: int, old: str, new: str):
    """Replace text on one 1-based line of a file."""
    lines = path.read_text().split("\n")
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines))


def line_of(path: Path, start: str) -> int:
    return next(i for i, text in enumerate(path.read_text().split("\n"), 1) if text.startswith(start))


def fails(folder: Path, file: str, column: str, line=None, row=None) -> SystemDataError:
    with pytest.raises(SystemDataError) as err:
        read_system(folder)
    e, msg = err.value, str(err.value)
    assert e.file == file and file in msg, msg
    assert e.column == column and repr(column) in msg, msg
    if line is not None:
        assert e.line == line and f"line {line}" in msg, msg
    if row is not None:
        assert e.row == row and repr(row) in msg, msg
    return e


def test_malformed_csv_extra_field(folder):
    f = folder / "generators.csv"
    n = line_of(f, "wind,")
    edit(f, n, "wind,", "wind,oops,")
    e = fails(folder, "generators.csv", column=f.read_text().split("\n")[0].split(",")[-1], line=n, row="wind")
    assert "malformed" in str(e)


def test_malformed_csv_missing_field(folder):
    f = folder / "availability.csv"
    edit(f, 5, ",", "")  # the row loses its first separator: one field short
    e = fails(folder, "availability.csv", column="solar", line=5)
    assert "malformed" in str(e)


def test_missing_column(folder):
    f = folder / "generators.csv"
    rows = [r.split(",") for r in f.read_text().strip().split("\n")]
    k = rows[0].index("bus")
    f.write_text("\n".join(",".join(c for j, c in enumerate(r) if j != k) for r in rows) + "\n")
    e = fails(folder, "generators.csv", column="bus")
    assert "missing column" in str(e)


def test_negative_cost(folder):
    f = folder / "generators.csv"
    n = line_of(f, "solar,")
    edit(f, n, "51346.82981964593", "-51346.8")
    e = fails(folder, "generators.csv", column="capital_cost", line=n, row="solar")
    assert "negative" in str(e)


def test_profile_outside_unit_interval(folder):
    f = folder / "availability.csv"
    edit(f, 12, ",0.", ",1.")  # wind value 0.xxxx -> 1.xxxx
    e = fails(folder, "availability.csv", column="wind", line=12, row="2019-01-02 06:00:00")
    assert "outside [0, 1]" in str(e)


def test_unknown_zone(folder):
    f = folder / "stores.csv"
    edit(f, 2, ",hydrogen,", ",hydrogen-bus,")
    e = fails(folder, "stores.csv", column="bus", line=2, row="hydrogen storage")
    assert "unknown bus 'hydrogen-bus'" in str(e) and "electricity" in str(e)


def test_unknown_zone_in_time_series(folder):
    f = folder / "demand.csv"
    edit(f, 1, "electricity", "electric")
    fails(folder, "demand.csv", column="electric", line=1)


def test_nan_value(folder):
    f = folder / "demand.csv"
    text = f.read_text().split("\n")[6]
    edit(f, 7, text.split(",")[1], "NaN")
    e = fails(folder, "demand.csv", column="electricity", line=7, row="2019-01-01 15:00:00")
    assert "NaN" in str(e)


def test_empty_required_cell(folder):
    f = folder / "snapshots.csv"
    edit(f, 4, ",3.0", ",")
    e = fails(folder, "snapshots.csv", column="weight", line=4)
    assert "missing value" in str(e)


def test_not_a_number(folder):
    f = folder / "links.csv"
    edit(f, 3, "0.41", "0.4l")
    e = fails(folder, "links.csv", column="efficiency", line=3, row="turbine")
    assert "not a number: '0.4l'" in str(e)


def test_mismatched_time_index(folder):
    f = folder / "availability.csv"
    edit(f, 8, "2019-01-01 18:00:00", "2019-01-01 19:00:00")
    e = fails(folder, "availability.csv", column="snapshot", line=8, row="2019-01-01 19:00:00")
    assert "does not match snapshots.csv" in str(e)


def test_missing_time_step(folder):
    f = folder / "demand.csv"
    lines = f.read_text().rstrip("\n").split("\n")
    f.write_text("\n".join(lines[:-1]) + "\n")  # drop the last data row
    e = fails(folder, "demand.csv", column="snapshot", line=97)
    assert "96" in str(e) and "95" in str(e)


def test_bad_boolean_and_duplicate_name(folder):
    f = folder / "storage_units.csv"
    edit(f, 2, "True", "Yes please")
    fails(folder, "storage_units.csv", column="p_nom_extendable", line=2, row="battery storage")
    edit(f, 2, "Yes please", "True")
    g = folder / "generators.csv"
    edit(g, line_of(g, "solar,"), "solar,", "wind,")
    fails(folder, "generators.csv", column="name", line=line_of(g, "wind,") + 1, row="wind")


def test_bounds_and_efficiency_ranges(folder):
    f = folder / "storage_units.csv"
    edit(f, 2, "0.96", "1.2")
    e = fails(folder, "storage_units.csv", column="efficiency_store", line=2, row="battery storage")
    assert "<= 1" in str(e)


def test_overnight_cost_needs_discount_rate(folder):
    f = folder / "generators.csv"
    header = f.read_text().split("\n")[0]
    f.write_text(f.read_text().replace(header, header + ",overnight_cost", 1)
                 .replace("\nload shedding,", "\nload shedding,", 1))
    rows = f.read_text().strip().split("\n")
    f.write_text("\n".join([rows[0]] + [r + (",900000" if r.startswith("wind,") else ",") for r in rows[1:]]) + "\n")
    fails(folder, "generators.csv", column="overnight_cost", line=line_of(f, "wind,"), row="wind")


def test_yaml_errors(folder):
    y = folder / "system.yaml"
    y.write_text(y.read_text().replace("co2_cap: null", "co2_kap: 5"))
    e = fails(folder, "system.yaml", column="policies.co2_kap")
    assert "unknown policy" in str(e)


def test_scenario_override_errors(sto_folder):
    f = sto_folder / "scenario_overrides.csv"
    edit(f, 3, "gas", "gaz")
    e = fails(sto_folder, "scenario_overrides.csv", column="name", line=3)
    assert "no row 'gaz'" in str(e)
    edit(f, 3, "gaz", "gas")
    edit(f, 4, "100.0", "-1")
    e = fails(sto_folder, "scenario_overrides.csv", column="value", line=4)
    assert "negative" in str(e) and "fuel_cost" in str(e)
    edit(f, 4, "-1", "100.0")
    edit(f, 2, "low,", "lo,")
    fails(sto_folder, "scenario_overrides.csv", column="scenario", line=2)


def test_in_memory_validation_names_culprit(model_energy):
    bad = model_energy.first(48)
    bad.availability.iloc[5, 1] = -0.2
    with pytest.raises(SystemDataError) as err:
        bad.validate()
    e = err.value
    assert (e.file, e.column, e.line) == ("availability.csv", bad.availability.columns[1], 7)
    assert e.row == str(bad.availability.index[5])
    bad = model_energy.first(48)
    bad.generators.loc["wind", "marginal_cost"] = np.nan
    with pytest.raises(SystemDataError, match=r"generators.csv: column 'marginal_cost', line 3, row 'wind': NaN"):
        bad.validate()


def test_missing_folder_and_files(tmp_path, folder):
    with pytest.raises(FileNotFoundError):
        datasets.load_system(tmp_path / "nowhere")
    (folder / "demand.csv").unlink()
    with pytest.raises(SystemDataError, match="demand.csv: required file is missing"):
        read_system(folder)
    shutil.rmtree(folder)
