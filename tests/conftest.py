"""Fixtures shared by the test files.

``toy``: the two-zone energy toy System (48 h, VOLL 3000) of ``tests/energy_toy.py``;
``toy_co2``: its CapacityExpansion with a CO2-cap Parameter (the PDHG infeasibility and stream
tests vary it); ``_one_thread``: torch on one thread for the test (small FFTs on a shared 2-core
machine: a second OpenMP thread only waits), used by the imaging files through
``pytestmark = pytest.mark.usefixtures("_one_thread")``.

The ``slow`` marker (pyproject.toml) marks the longest tests: ``pytest -m "not slow"`` is the
quick run, CI runs everything."""
import pytest
import torch

from energy_toy import toy_system


@pytest.fixture(scope="module")
def toy():
    return toy_system(48, voll=3000.0)


@pytest.fixture(scope="module")
def toy_co2():
    from gridprox.energy import CapacityExpansion

    return CapacityExpansion(toy_system(48), co2_cap=1e6)


@pytest.fixture
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
