"""A synthetic multi-zone capacity-expansion LP written once in cvxpy syntax.

``capacity_expansion(cp, ...)`` builds the same model with ``cp = cvxpy`` or
``cp = gridprox``: per zone gas, wind, solar and nuclear generation with capacities,
availability profiles multiplying capacity, a battery with cyclic state of charge (by
slicing or by ``cumsum``), load shedding at VOLL, a transport-model ring of lines and a
CO2 cap.  With ``params=True`` every sweepable input (loads, availability profiles,
costs, the CO2 cap) is a Parameter.  Tests compare the two modelling layers on it and
``comparisons/compile_speed.py`` times them.  The data (profiles, costs) come from
``gridprox.synthetic``, the project's one synthetic generator.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..synthetic import demo_data

TECHS = ("gas", "wind", "solar", "nuclear")


@dataclass
class CEMData:
    load: np.ndarray            # (T, Z) MW
    avail: list                 # Z arrays (T, G): per-unit availability of each tech
    capex: np.ndarray           # (G,) annualised cost per MW
    vom: np.ndarray             # (G,) variable cost per MWh
    emis: np.ndarray            # (G,) t CO2 per MWh
    co2_cap: float
    voll: float = 5000.0
    bat_power_cost: float = 20.0
    bat_energy_cost: float = 15.0
    eta: float = 0.92
    line_cost: float = 10.0
    extra: dict = field(default_factory=dict)


def synthetic_data(T: int, Z: int, seed: int = 0) -> CEMData:
    """The demo's inputs: profiles and costs of ``gridprox.synthetic`` (``demo_data``)."""
    return CEMData(**demo_data(T, Z, seed))


def capacity_expansion(cp, T: int = 48, Z: int = 1, *, params: bool = False, storage: str = "slice",
                       data: CEMData | None = None, seed: int = 0):
    """Build the model with the modelling module ``cp``.  Returns (problem, handles) where
    handles holds the variables, the key constraints (``balance`` per zone, ``co2``) and,
    with ``params=True``, the Parameters by name."""
    d = data if data is not None else synthetic_data(T, Z, seed)
    G = len(TECHS)

    def value(name, v, **kw):
        return cp.Parameter(np.shape(v), name=name, value=v, **kw) if params else v

    load = value("load", d.load, nonneg=True)
    capex = value("capex", d.capex, nonneg=True)
    vom = value("vom", d.vom, nonneg=True)
    co2_cap = value("co2_cap", d.co2_cap, nonneg=True)
    avail = [value(f"avail_{z}", d.avail[z], nonneg=True) for z in range(Z)]
    L = Z if Z > 2 else Z - 1                   # a ring (a single line for two zones)
    K = np.zeros((Z, max(L, 0)))
    for l in range(L):
        K[l, l], K[(l + 1) % Z, l] = 1.0, -1.0

    cons, balance, cost, emissions = [], [], 0, 0
    ones = np.ones((T, 1))
    flow = cp.Variable((T, L), name="flow") if L else None
    line_cap = cp.Variable(L, nonneg=True, name="line_cap") if L else None
    if L:
        cap_t = ones @ cp.reshape(line_cap, (1, L), order="C")
        cons += [flow <= cap_t, -cap_t <= flow]
        cost = cost + d.line_cost * cp.sum(line_cap)
    for z in range(Z):
        cap = cp.Variable(G, nonneg=True, name=f"cap_{z}")
        gen = cp.Variable((T, G), nonneg=True, name=f"gen_{z}")
        ch = cp.Variable(T, nonneg=True, name=f"charge_{z}")
        dis = cp.Variable(T, nonneg=True, name=f"discharge_{z}")
        soc = cp.Variable(T, nonneg=True, name=f"soc_{z}")
        p_bat = cp.Variable(nonneg=True, name=f"bat_power_{z}")
        e_bat = cp.Variable(nonneg=True, name=f"bat_energy_{z}")
        shed = cp.Variable(T, nonneg=True, name=f"shed_{z}")
        cap_t = ones @ cp.reshape(cap, (1, G), order="C")
        cons.append(gen <= cp.multiply(avail[z], cap_t))
        net = d.eta * ch - dis / d.eta
        if storage == "cumsum":
            cons.append(soc == soc[T - 1] + cp.cumsum(net))     # at T-1 this forces sum(net) == 0
        else:
            cons += [soc[1:] == soc[:-1] + net[1:], soc[0] == soc[T - 1] + net[0]]
        cons += [ch <= p_bat, dis <= p_bat, soc <= e_bat]
        supply = cp.sum(gen, axis=1) + dis - ch + shed
        if L:
            supply = supply - flow @ K[z]
        bal = supply == load[:, z]
        balance.append(bal)
        cons.append(bal)
        cost = (cost + capex @ cap + vom @ cp.sum(gen, axis=0) + d.voll * cp.sum(shed)
                + d.bat_power_cost * p_bat + d.bat_energy_cost * e_bat)
        emissions = emissions + d.emis @ cp.sum(gen, axis=0)
    co2 = emissions <= co2_cap
    cons.append(co2)
    prob = cp.Problem(cp.Minimize(cost), cons)
    handles = {"balance": balance, "co2": co2, "flow": flow}
    if params:
        handles["params"] = {p.name(): p for p in prob.parameters()}
    return prob, handles
