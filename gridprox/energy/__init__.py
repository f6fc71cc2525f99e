"""Capacity-expansion planning: systems (data), the model builder, results as tables, sweeps."""
from .system import System, SystemDataError, annuity, read_system  # noqa: F401
from .results import PlanningResult  # noqa: F401
from .model import CapacityExpansion  # noqa: F401
from .timeseries import apply_resolution, first_snapshots, representative_days, resample  # noqa: F401
from .sensitivity import lp_objective  # noqa: F401  (torch is imported only when it is called)


def load(name_or_path) -> System:
    """A bundled system by name or a system folder by path (``gridprox.datasets.load_system``)."""
    from ..datasets import load_system
    return load_system(name_or_path)


__all__ = ["CapacityExpansion", "PlanningResult", "System", "SystemDataError", "load", "read_system", "annuity",
           "apply_resolution", "first_snapshots", "resample", "representative_days", "lp_objective"]
