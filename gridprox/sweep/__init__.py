"""Running many scenarios: batched on one device, or spread over a Dask cluster."""
from .runner import run_sweep  # noqa: F401
from .scenarios import MAX_SCENARIOS, expand, parse_param, scenario_key  # noqa: F401
from .store import (SweepFingerprintError, SweepLockedError, SweepStore, SweepStoreError,  # noqa: F401
                    sweep_fingerprint, system_hash)
