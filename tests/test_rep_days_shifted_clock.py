"""Representative days on data kept in a shifted clock (three-country starts at 23:30): days
are whole 24-hour blocks from the first snapshot, each one storage period."""
from __future__ import annotations

import pytest

from gridprox import datasets
from gridprox.energy.system import SystemDataError
from gridprox.energy.timeseries import representative_days


def test_three_country_rep_days_are_whole_blocks():
    system = datasets.load_system("three-country")
    reduced = representative_days(system, 6)
    snaps = reduced.snapshots
    assert len(snaps) == 6 * 24 and snaps["weight"].sum() == pytest.approx(8760.0)
    assert (snaps.groupby("period").size() == 24).all() and snaps["period"].nunique() == 6
    assert str(snaps.index[0].time()) == "23:30:00"  # blocks start where the data start
    with pytest.raises(SystemDataError, match="complete days"):
        representative_days(system.first(8760 - 5), 3)
