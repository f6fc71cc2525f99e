"""A small two-zone System built in memory for the gridprox.energy tests: every component kind
(extendable and fixed generators with fuel, emissions, p_min_pu and ramp limits; a battery; a
hydrogen store with electrolysis and fuel-cell links; a lossless extendable line and a lossy
fixed one), hourly profiles from the smooth deterministic curves of ``gridprox.synthetic.toy_profiles``."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gridprox.energy.system import System
from gridprox.synthetic import toy_profiles


def toy_system(hours: int = 48, voll=None, co2_cap=None, discount_rate: float = 0.07) -> System:
    prof = toy_profiles(hours)
    index = pd.DatetimeIndex(pd.date_range("2030-01-01", periods=hours, freq="h"), name="snapshot")
    wind, solar = prof["wind"], prof["solar"]
    demand = pd.DataFrame({"north": prof["north"], "south": prof["south"], "south H2": 0.0},
                          index=index)
    buses = pd.DataFrame({"carrier": ["electricity", "electricity", "hydrogen"]},
                         index=pd.Index(["north", "south", "south H2"], name="name"))
    carriers = pd.DataFrame({"co2_emissions": [0, 0, 0.2, 0.34, 0, 0, 0, 0, 0, 0]},
                            index=pd.Index(["wind", "solar", "gas", "coal", "battery", "hydrogen", "electrolysis",
                                            "fuel cell", "AC", "DC"], name="name"))
    inf = np.inf
    gens = pd.DataFrame({
        "bus": ["north", "south", "north", "south", "south"],
        "carrier": ["wind", "solar", "gas", "gas", "coal"],
        "p_nom": [0, 0, 0, 0, 40], "p_nom_extendable": [True, True, True, True, False],
        "p_nom_max": [150, 120, inf, inf, inf],
        "capital_cost": [95_000, 0, 48_000, 50_000, 0],
        "overnight_cost": [np.nan, 560_000, np.nan, np.nan, np.nan], "lifetime": [inf, 25, inf, inf, inf],
        "fom_cost": [0, 9_000, 0, 0, 0],
        "marginal_cost": [0.5, 0.2, 3.0, 3.0, 4.0], "fuel_cost": [0, 0, 30, 32, 10],
        "efficiency": [1, 1, 0.5, 0.52, 0.4], "p_min_pu": [0, 0, 0, 0, 0.2],
        "ramp_limit_up": [inf, inf, inf, inf, 0.3], "ramp_limit_down": [inf, inf, inf, inf, 0.3],
    }, index=pd.Index(["wind north", "solar south", "gas north", "gas south", "coal south"], name="name"))
    availability = pd.DataFrame({"wind north": wind, "solar south": solar, "gas north": 1.0, "gas south": 1.0,
                                 "coal south": 1.0}, index=index)
    storage = pd.DataFrame({"bus": ["north"], "carrier": ["battery"], "p_nom_extendable": [True],
                            "capital_cost": [30_000.0], "max_hours": [4.0], "efficiency_store": [0.95],
                            "efficiency_dispatch": [0.95], "standing_loss": [0.001], "marginal_cost": [0.1]},
                           index=pd.Index(["battery north"], name="name"))
    stores = pd.DataFrame({"bus": ["south H2"], "carrier": ["hydrogen"], "e_nom_extendable": [True],
                           "capital_cost": [500.0], "standing_loss": [0.0]},
                          index=pd.Index(["h2 store"], name="name"))
    links = pd.DataFrame({"bus0": ["south", "south H2"], "bus1": ["south H2", "south"],
                          "carrier": ["electrolysis", "fuel cell"], "efficiency": [0.7, 0.5],
                          "p_nom_extendable": [True, True], "capital_cost": [80_000.0, 90_000.0],
                          "marginal_cost": [0.0, 0.5]},
                         index=pd.Index(["electrolyser", "fuel cell"], name="name"))
    lines = pd.DataFrame({"bus0": ["north", "north"], "bus1": ["south", "south"], "carrier": ["AC", "DC"],
                          "p_nom": [0.0, 30.0], "p_nom_extendable": [True, False], "capital_cost": [20_000.0, 0.0],
                          "efficiency": [1.0, 0.95]},
                         index=pd.Index(["north-south AC", "north-south DC"], name="name"))
    snapshots = pd.DataFrame({"weight": np.full(hours, 8760 / hours), "duration": 1.0, "period": "0"}, index=index)
    meta = {"name": "toy", "currency": "EUR", "discount_rate": discount_rate, "voll": voll,
            "policies": {"co2_cap": co2_cap, "co2_price": None}}
    return System(name="toy", buses=buses, carriers=carriers, generators=gens, storage_units=storage, stores=stores,
                  links=links, lines=lines, snapshots=snapshots, demand=demand, availability=availability,
                  meta=meta).validate()
