"""Running many scenarios: batched on one device, or spread over a Dask cluster."""
from .runner import run_sweep  # noqa: F401
from .scenarios import expand, parse_param, scenario_key  # noqa: F401
from .store import SweepStore  # noqa: F401
