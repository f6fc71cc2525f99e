"""PlanningResult I/O round trip and the standard pictures (files written, decodable)."""
import numpy as np
import pandas as pd
import pytest

from gridprox import plots
from gridprox.energy.results import PlanningResult


def fake_result():
    snaps = pd.date_range("2019-01-01", periods=24 * 9, freq="h")
    rng = np.random.default_rng(0)
    rows, dem, lev, pr = [], [], [], []
    for z in ("DE", "FR"):
        d = 50e3 + 5e3 * np.sin(np.arange(len(snaps)) / 24 * 2 * np.pi)
        for tech, share in (("wind", 0.4), ("solar", 0.2), ("gas", 0.4)):
            rows.append(pd.DataFrame({"snapshot": snaps, "zone": z, "technology": tech, "power_mw": share * d}))
        rows.append(pd.DataFrame({"snapshot": snaps, "zone": z, "technology": "battery",
                                  "power_mw": 1e3 * np.sin(np.arange(len(snaps)))}))
        dem.append(pd.DataFrame({"snapshot": snaps, "zone": z, "demand_mw": d}))
        lev.append(pd.DataFrame({"snapshot": snaps, "zone": z, "storage": "battery", "energy_mwh": 4e3 + 0 * d}))
        pr.append(pd.DataFrame({"snapshot": snaps, "zone": z, "price": rng.gamma(2, 30, len(snaps))}))
    cap = pd.DataFrame({"zone": ["DE", "DE", "FR", "DE"], "technology": ["wind", "gas", "solar", "battery"],
                        "kind": ["generator", "generator", "generator", "storage_energy"],
                        "capacity": [30e3, 20e3, 10e3, 8e3], "unit": ["MW", "MW", "MW", "MWh"]})
    empty = pd.DataFrame({"zone": [], "technology": []})
    summary = pd.DataFrame([{"objective": 1.5e9, "status": "optimal", "solver": "highs"}])
    return PlanningResult(capacity=cap, dispatch=pd.concat(rows), demand=pd.concat(dem),
                          storage_level=pd.concat(lev), flows=pd.DataFrame({"snapshot": [], "line": [], "flow_mw": []}),
                          prices=pd.concat(pr), emissions=empty, costs=empty, summary=summary)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_result_roundtrip(tmp_path, fmt):
    res = fake_result()
    getattr(res, f"to_{fmt}")(tmp_path)
    back = PlanningResult.read(tmp_path)
    assert back.objective == 1.5e9 and back.status == "optimal"
    pd.testing.assert_frame_equal(back.capacity, res.capacity)
    assert len(back.dispatch) == len(res.dispatch)
    assert res.capacity_table().loc[("generator", "wind"), "DE"] == 30e3


@pytest.mark.slow
def test_standard_plots_written(tmp_path):
    from PIL import Image
    paths = plots.plot_result(fake_result(), tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{n}.{e}" for n in ("capacity_mix", "dispatch_week", "price_duration") for e in ("png", "svg"))
    for p in paths:
        assert p.stat().st_size > 1000
        if p.suffix == ".png":
            w, h = Image.open(p).size
            assert w > 300 and h > 200


@pytest.mark.slow
def test_sweep_tradeoff_and_colors(tmp_path):
    sweep = pd.DataFrame({"co2_cap": [0, 1, 2, 0, 1, 2], "gas_price": [30] * 3 + [60] * 3,
                          "objective": [3e9, 2e9, 1.5e9, 3.2e9, 2.4e9, 2e9], "status": ["optimal"] * 6,
                          "cap_DE/wind": [5e4, 3e4, 2e4] * 2, "cap_DE/gas": [0, 1e4, 2e4] * 2})
    paths = plots.save(plots.sweep_tradeoff(sweep, "co2_cap", hue="gas_price"), tmp_path / "tradeoff")
    assert all(p.exists() for p in paths)
    assert plots.tech_color("wind") == plots.tech_color("Wind") != plots.tech_color("solar")
    assert plots.tech_color("some new tech") == plots.tech_color("some new tech")
