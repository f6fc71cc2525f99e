"""Moved to ``gridprox.synthetic``; kept only while ``tests/test_pdhg_helpers.py`` loads this file by path."""
from gridprox.synthetic import (CAPEX, EMIS, FUEL, HOURLY, capacity_expansion_lp, profiles,  # noqa: F401
                                scenario_inputs, scenario_sweep)
