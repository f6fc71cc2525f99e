"""Incremental result files for sweeps: every finished batch is written at once, so an
interrupted sweep keeps what it finished and can resume."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable

import pandas as pd

KEY = "scenario_key"
STATUS = "status"
FAILED = "error"  # status of a scenario whose batch raised; re-run on resume


class SweepStore:
    """A folder of part files (one per finished batch) plus consolidated tables.

    ``parts/part-*.parquet`` (CSV when pyarrow is missing) are written atomically
    (temporary name, then rename), so a killed run never leaves a half-written part.
    ``finished_keys()`` says which scenarios need no re-run.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.parts = self.folder / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.fmt = "parquet" if _has_pyarrow() else "csv"

    def write(self, rows: Iterable[dict]) -> Path | None:
        rows = list(rows)
        if not rows:
            return None
        df = pd.DataFrame(rows)
        name = f"part-{pd.Timestamp.now(tz='UTC').strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        final = self.parts / f"{name}.{self.fmt}"
        tmp = self.parts / f".{name}.tmp"
        if self.fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        os.replace(tmp, final)
        return final

    def load(self) -> pd.DataFrame:
        """All rows written so far, the latest row per scenario key."""
        files = sorted(self.parts.glob("part-*.parquet")) + sorted(self.parts.glob("part-*.csv"))
        if not files:
            return pd.DataFrame()
        frames = [pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f) for f in files]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        if KEY in df:
            df = df.drop_duplicates(KEY, keep="last")
        return df.reset_index(drop=True)

    def finished_keys(self) -> set[str]:
        df = self.load()
        if df.empty or KEY not in df:
            return set()
        ok = df[STATUS] != FAILED if STATUS in df else slice(None)
        return set(df.loc[ok, KEY])

    def consolidate(self, df: pd.DataFrame) -> dict[str, Path]:
        """Write the final table as sweep.csv (and sweep.parquet when possible)."""
        out = {"csv": self.folder / "sweep.csv"}
        df.to_csv(out["csv"], index=False)
        if self.fmt == "parquet":
            out["parquet"] = self.folder / "sweep.parquet"
            df.to_parquet(out["parquet"], index=False)
        return out


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
        return True
    except ImportError:
        return False
