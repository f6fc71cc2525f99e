"""Synthetic capacity-expansion data and the LP built directly from it (no modelling layer).

The one synthetic generator of the project: ``profiles`` (demand, wind and solar shaped like
real ones: daily/seasonal demand, AR(1) wind, clear-sky solar with clouds; seeded), the cost
tables (``CAPEX``, ``FUEL``, ``EMIS``, ...), and three builders at three levels that use them:

- ``capacity_expansion_lp`` / ``scenario_sweep``: a ``LinearProgram`` assembled with scipy here
  (benchmarks in ``comparisons/`` and the PDHG tests);
- ``gridprox.modeling.demo.capacity_expansion``: the model in cvxpy syntax, from ``demo_data``
  (its own curves and costs, which its tests are tuned to);
- ``tests/energy_toy.py``: a two-zone ``gridprox.energy.System``, from ``toy_profiles``.

``capacity_expansion_lp``: Z zones on a ring of transmission lines, T hours, per zone: wind,
solar, CCGT, OCGT, load shedding and a battery (separate power and energy capacities).  Per
(zone, hour) there are 8 dispatch variables; rows are the nodal balance (equality),
availability limits, battery power/energy limits, the cyclic state-of-charge equation,
optional CCGT ramping, line limits and one system-wide CO2 cap.  1 zone x 8760 h gives 70,086
variables, 78,841 rows and ~228k nonzeros; 7 zones x 8760 h about 552k variables.

Scenario knobs (demand_scale, gas_price, co2_cap) change only c and the bounds, so a sweep
shares A and stacks with ``LinearProgram.stack``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .compile.lp import LinearProgram

# annualised capex + FOM per MW (or MWh for battery energy), marginal cost per MWh
CAPEX = {"wind": 110e3, "solar": 55e3, "ccgt": 95e3, "ocgt": 45e3, "bat_p": 25e3, "bat_e": 12e3,
         "line": 40e3}
FUEL = {"ccgt": 45.0, "ocgt": 85.0}                        # EUR/MWh at gas_price = 1
EMIS = {"ccgt": 0.35, "ocgt": 0.55}                        # t CO2 / MWh
VOLL, BAT_VOM, ETA_C, ETA_D = 3000.0, 0.5, 0.95, 0.95
HOURLY = ("wind", "solar", "ccgt", "ocgt", "shed", "charge", "discharge", "soc")


def profiles(zones: int, hours: int, seed: int = 0):
    """Demand (Z,T) in MW and wind/solar capacity factors (Z,T), deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    day, year = 2 * np.pi * (t % 24) / 24, 2 * np.pi * t / 8760
    base = 1000.0 * rng.uniform(0.6, 1.4, size=(zones, 1))
    demand = base * (1 + 0.18 * np.sin(day - 2.0) + 0.12 * np.cos(year)
                     + 0.03 * rng.standard_normal((zones, hours)))
    # AR(1) wind in logit space: persistent, bounded in (0, 1)
    eps = rng.standard_normal((zones, hours))
    w = np.empty((zones, hours))
    w[:, 0] = eps[:, 0]
    for k in range(1, hours):          # cheap: one vector op per hour, not per element
        w[:, k] = 0.97 * w[:, k - 1] + 0.25 * eps[:, k]
    wind = 1 / (1 + np.exp(-(w - 0.6 + 0.3 * np.cos(year))))
    clouds = np.clip(1 - 0.5 * rng.beta(2, 3, size=(zones, hours // 24 + 1)).repeat(24, axis=1)[:, :hours], 0, 1)
    solar = np.clip(np.sin(day - np.pi / 2), 0, None) * (0.75 - 0.25 * np.cos(year)) * clouds
    return demand, wind, solar


def capacity_expansion_lp(zones: int = 1, hours: int = 8760, *, demand_scale: float = 1.0,
                          gas_price: float = 1.0, co2_cap: float = 0.3, ramp: bool = False,
                          seed: int = 0) -> LinearProgram:
    """The LP described in the module docstring (bitwise stable: benchmarks compare against it).

    ``co2_cap`` is the allowed emissions as a fraction of those of serving all demand
    from CCGT (so 0.3 forces ~70% clean energy).  ``ramp`` adds CCGT ramp rows (20%/h)."""
    Z, T = zones, hours
    demand, wind_cf, solar_cf = profiles(Z, T, seed)
    demand = demand * demand_scale
    L = Z if Z > 2 else Z - 1                                  # ring (or a single line for 2 zones)
    line_from, line_to = np.arange(L), (np.arange(L) + 1) % Z

    # --- column layout: [capacities (Z,6) | line caps (L) | hourly (8,Z,T) | flows (L,T)]
    ncap = 6 * Z
    h0 = ncap + L
    nh = len(HOURLY) * Z * T
    f0 = h0 + nh
    n = f0 + L * T
    cap = lambda k, z: k * Z + z                                     # noqa: E731
    zt = np.arange(Z * T).reshape(Z, T)
    hv = {name: h0 + i * Z * T + zt for i, name in enumerate(HOURLY)}  # (Z,T) column indices
    zz = np.repeat(np.arange(Z)[:, None], T, axis=1)
    flow = f0 + np.arange(L * T).reshape(L, T)

    rows, cols, vals, lo, hi = [], [], [], [], []
    nrow = 0

    def block(nr, entries, lo_b, hi_b):
        """Append nr rows; entries = list of (row_offsets, col_idx, value) arrays."""
        nonlocal nrow
        for r, c, v in entries:
            r, c = np.broadcast_arrays(r, c)
            rows.append(nrow + r.ravel())
            cols.append(c.ravel())
            vals.append(np.broadcast_to(v, r.shape).ravel().astype(float))
        lo.append(np.broadcast_to(lo_b, (nr,)).astype(float))
        hi.append(np.broadcast_to(hi_b, (nr,)).astype(float))
        nrow += nr

    r = zt                                                           # one row per (z, t)
    # nodal balance: gen + discharge - charge + shed - outflow + inflow = demand
    bal = [(r, hv[k], 1.0) for k in ("wind", "solar", "ccgt", "ocgt", "shed", "discharge")]
    bal.append((r, hv["charge"], -1.0))
    lt = np.arange(T)[None, :]
    bal.append((line_from[:, None] * T + lt, flow, -1.0))
    bal.append((line_to[:, None] * T + lt, flow, 1.0))
    block(Z * T, bal, demand.ravel(), demand.ravel())
    # availability: p - cf * Cap <= 0
    for k, name, cf in ((0, "wind", wind_cf), (1, "solar", solar_cf), (2, "ccgt", 0.95), (3, "ocgt", 1.0)):
        block(Z * T, [(r, hv[name], 1.0), (r, cap(k, zz), -np.broadcast_to(cf, (Z, T)))], -np.inf, 0.0)
    # battery: charge, discharge <= P ; soc <= E
    for name, k in (("charge", 4), ("discharge", 4), ("soc", 5)):
        block(Z * T, [(r, hv[name], 1.0), (r, cap(k, zz), -1.0)], -np.inf, 0.0)
    # cyclic state of charge: soc_t - soc_{t-1} - eta_c charge_t + discharge_t / eta_d = 0
    prev = np.roll(hv["soc"], 1, axis=1)
    block(Z * T, [(r, hv["soc"], 1.0), (r, prev, -1.0), (r, hv["charge"], -ETA_C),
                  (r, hv["discharge"], 1.0 / ETA_D)], 0.0, 0.0)
    if ramp:   # -0.2 G <= p_t - p_{t-1} <= 0.2 G, as two one-sided rows
        gprev = np.roll(hv["ccgt"], 1, axis=1)
        for sign in (1.0, -1.0):
            block(Z * T, [(r, hv["ccgt"], sign), (r, gprev, -sign), (r, cap(2, zz), -0.2)], -np.inf, 0.0)
    if L:      # -F <= f <= F
        rl = np.arange(L * T).reshape(L, T)
        lcap = np.repeat(ncap + np.arange(L)[:, None], T, axis=1)
        block(L * T, [(rl, flow, 1.0), (rl, lcap, -1.0)], -np.inf, 0.0)
        block(L * T, [(rl, flow, 1.0), (rl, lcap, 1.0)], 0.0, np.inf)
    # CO2 cap (one dense row)
    cap_t = co2_cap * EMIS["ccgt"] * demand.sum()
    block(1, [(0 * zt, hv["ccgt"], EMIS["ccgt"]), (0 * zt, hv["ocgt"], EMIS["ocgt"])], -np.inf, cap_t)

    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, n))
    A.sum_duplicates()

    c = np.zeros(n)
    for k, name in enumerate(("wind", "solar", "ccgt", "ocgt", "bat_p", "bat_e")):
        c[cap(k, np.arange(Z))] = CAPEX[name]
    c[ncap:ncap + L] = CAPEX["line"]
    c[hv["ccgt"]] = FUEL["ccgt"] * gas_price
    c[hv["ocgt"]] = FUEL["ocgt"] * gas_price
    c[hv["shed"]] = VOLL
    c[hv["charge"]] = BAT_VOM
    c[hv["discharge"]] = BAT_VOM
    c[flow] = 0.1                      # small wheeling charge (removes a flat direction)

    lx = np.zeros(n)
    ux = np.full(n, np.inf)
    ux[cap(0, np.arange(Z))] = 4 * demand.max(axis=1)          # wind potential
    ux[cap(1, np.arange(Z))] = 3 * demand.max(axis=1)          # solar potential
    ux[hv["shed"]] = demand                                    # cannot shed more than demand
    lx[flow] = -np.inf
    return LinearProgram(c=c, A=A, lc=np.concatenate(lo), uc=np.concatenate(hi), lx=lx, ux=ux)


def scenario_inputs(num: int, seed: int = 0) -> np.ndarray:
    """(num, 3) draws of (demand scale 0.9-1.1, gas price 0.7-1.5, CO2 cap 0.1-0.5)."""
    g = np.random.default_rng(seed + 1)
    return np.array([[g.uniform(0.9, 1.1), g.uniform(0.7, 1.5), g.uniform(0.1, 0.5)] for _ in range(num)])


def scenario_sweep(num: int, zones: int = 1, hours: int = 8760, seed: int = 0) -> LinearProgram:
    """``num`` scenarios sharing A, with the inputs of ``scenario_inputs``."""
    lps = [capacity_expansion_lp(zones, hours, demand_scale=d, gas_price=g, co2_cap=c, seed=seed)
           for d, g, c in scenario_inputs(num, seed)]
    return LinearProgram.stack(lps)


def demo_data(hours: int, zones: int, seed: int = 0) -> dict:
    """The inputs of ``gridprox.modeling.demo`` (techs gas, wind, solar, nuclear): load (T, Z) MW,
    avail (Z arrays (T, 4)), capex, vom, emis (4,), co2_cap (20 % of an all-gas system's
    emissions), voll and battery/line costs, annualised costs scaled to the horizon.

    Their own curves and costs rather than ``profiles``/``CAPEX``: with those, nuclear, wind and
    solar undercut gas and the demo's CO2 cap no longer binds, which the modelling tests (CO2
    price against cvxpy) rely on."""
    T, Z = hours, zones
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    daily = np.sin(2 * np.pi * (t % 24 - 6) / 24)
    seasonal = np.cos(2 * np.pi * t / 8760)
    load = np.stack([100 * (1 + 0.2 * z) * (1 + 0.25 * daily + 0.1 * seasonal) + 5 * rng.random(T)
                     for z in range(Z)], axis=1)
    avail = []
    for z in range(Z):
        wind = np.clip(0.4 + 0.25 * np.sin(2 * np.pi * t / (97 + 11 * z)) + 0.2 * rng.standard_normal(T), 0, 1)
        solar = np.clip(np.sin(np.pi * ((t + 2 * z) % 24 - 6) / 12), 0, None) * (0.8 + 0.2 * rng.random(T))
        avail.append(np.stack([np.full(T, 0.95), wind, solar, np.full(T, 0.9)], axis=1))
    year = T / 8760
    return dict(load=load, avail=avail, capex=np.array([60e3, 120e3, 60e3, 500e3]) * year,
                vom=np.array([60.0, 0.5, 0.2, 10.0]), emis=np.array([0.4, 0.0, 0.0, 0.0]),
                co2_cap=0.2 * 0.4 * load.sum(), voll=5000.0, bat_power_cost=20e3 * year,
                bat_energy_cost=15e3 * year, line_cost=10e3 * year)


def toy_profiles(hours: int) -> dict:
    """Smooth deterministic curves of the two-zone energy toy (``tests/energy_toy.py``): wind and
    solar capacity factors and the demand of its zones north and south (MW), each of length
    ``hours``.  Hand-shaped rather than drawn from ``profiles``: the energy tests place their
    policy thresholds (CO2 caps, shares, reserve margins) where each binds on these curves."""
    t = np.arange(hours)
    day = 2 * np.pi * (t % 24) / 24
    return {"wind": np.clip(0.45 + 0.3 * np.sin(2 * np.pi * t / 31 + 1.0) + 0.1 * np.cos(day), 0, 1),
            "solar": np.clip(np.sin(day - np.pi / 2), 0, None) * 0.8,
            "north": 100 + 25 * np.sin(day - 2.0), "south": 80 + 15 * np.cos(day)}


if __name__ == "__main__":
    for Z, T in ((1, 168), (1, 8760), (7, 8760)):
        lp = capacity_expansion_lp(Z, T)
        print(f"{Z} zones x {T} h: vars {lp.num_vars:,} rows {lp.num_rows:,} nnz {lp.A.nnz:,}")
