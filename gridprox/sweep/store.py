"""Incremental result files for sweeps: every finished scenario or batch is written at once,
so an interrupted sweep keeps what it finished and can resume — but only into a folder
written by the same model, solver and options (the folder's fingerprint), by one sweep
at a time (a lock), and never from a damaged part file."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np
import pandas as pd

KEY = "scenario_key"
STATUS = "status"
FAILED = "error"  # status of a scenario whose batch raised; re-run on resume
FINGERPRINT = "fingerprint.json"
LOCK = ".lock"


class SweepStoreError(ValueError):
    """The folder cannot take this sweep (another model's results, or another sweep running)."""


class SweepFingerprintError(SweepStoreError):
    """The folder holds results of another model, horizon, solver or option."""


class SweepLockedError(SweepStoreError):
    """Another sweep is writing to the folder right now."""


class SweepStore:
    """A folder of part files (one per finished batch or group of scenarios) plus
    consolidated tables and ``fingerprint.json`` (what produced the rows).

    ``parts/part-*.parquet`` (CSV when pyarrow is missing) are written atomically
    (temporary name, then rename), so a killed run never leaves a half-written part; a
    part damaged some other way is set aside as ``*.damaged`` with one warning, and its
    scenarios count as not done.  ``finished_keys()`` says which scenarios need no re-run.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise SweepStoreError(f"sweep folder {str(self.folder)!r} is a file, not a folder")
        self.parts = self.folder / "parts"
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError, PermissionError) as exc:
            raise SweepStoreError(f"cannot use {str(self.folder)!r} as a sweep folder: "
                                  f"{exc.strerror or exc}") from None
        self.fmt = "parquet" if _has_pyarrow() else "csv"
        self._lock_fd: Optional[int] = None

    # --------------------------------------------------------------- provenance
    def claim(self, fingerprint: Mapping, overwrite: bool = False) -> None:
        """Make this folder the home of a sweep with ``fingerprint``.

        A fresh folder records it; a folder with the same fingerprint is resumed; one with
        another fingerprint (or results but no readable fingerprint) raises
        SweepFingerprintError naming what differs, unless ``overwrite``: then its results are
        removed (only the files this store writes) and the sweep starts afresh."""
        fingerprint = _plain_json(fingerprint)
        old, problem = self._read_fingerprint()
        has_rows = self._has_results()
        if old == fingerprint and problem is None:
            return
        if old is None and problem is None and not has_rows:
            self._write_fingerprint(fingerprint)
            return
        if not overwrite:
            if problem is not None:
                why = problem
            elif old is None:
                why = "it holds results but no record of what produced them (an older gridprox wrote it)"
            else:
                why = "it was written by another model or solver (" + _differences(old, fingerprint) + ")"
            raise SweepFingerprintError(
                f"cannot resume the sweep in {str(self.folder)!r}: {why}; use another folder, "
                f"or overwrite=True (--force) to discard those results and start afresh")
        self.clear()
        self._write_fingerprint(fingerprint)

    def clear(self) -> None:
        """Remove the results this store wrote (parts, consolidated tables, fingerprint)."""
        for f in self.parts.iterdir():
            if f.is_file() and (f.name.startswith(("part-", ".part-")) or f.name.endswith(".tmp")):
                f.unlink()
        for name in ("sweep.csv", "sweep.parquet", FINGERPRINT):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()

    def _read_fingerprint(self):
        path = self.folder / FINGERPRINT
        if not path.exists():
            return None, None
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, UnicodeDecodeError):
            return None, f"its {FINGERPRINT} is unreadable"
        return data, None

    def _write_fingerprint(self, fingerprint: dict) -> None:
        _atomic_write_text(self.folder / FINGERPRINT, json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")

    def _has_results(self) -> bool:
        return any(self._part_files()) or (self.folder / "sweep.csv").exists()

    # --------------------------------------------------------------------- lock
    def lock(self) -> None:
        """Hold the folder for this sweep; a second sweep on it raises SweepLockedError at once."""
        if self._lock_fd is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks, no check
            return
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise SweepLockedError(
                f"another sweep{f' (process {holder})' if holder.isdigit() else ''} is writing to "
                f"{str(self.folder)!r}; wait for it to finish or use another folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            import fcntl
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()

    # -------------------------------------------------------------------- parts
    def write(self, rows: Iterable[dict]) -> Path | None:
        rows = list(rows)
        if not rows:
            return None
        df = pd.DataFrame(rows)
        name = f"part-{pd.Timestamp.now(tz='UTC').strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        final = self.parts / f"{name}.{self.fmt}"
        tmp = self.parts / f".{name}.tmp"
        try:
            if self.fmt == "parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False)
            os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()      # a failed write (disk full) leaves no temporary behind
        return final

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) + sorted(self.parts.glob("part-*.csv"))

    def load(self) -> pd.DataFrame:
        """All rows written so far, the latest row per scenario key.  Damaged parts are
        renamed ``*.damaged`` with one warning, so their scenarios are solved again."""
        frames, damaged = [], []
        for f in self._part_files():
            try:
                df = pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
                if KEY not in df:
                    raise ValueError(f"no {KEY} column")
            except Exception as exc:  # pyarrow, parser and decode errors alike: the file is unusable
                damaged.append((f, exc))
                continue
            if not df.empty:
                frames.append(df)
        if damaged:
            self._set_aside(damaged)
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        df = df.drop_duplicates(KEY, keep="last")
        return df.reset_index(drop=True)

    def _set_aside(self, damaged) -> None:
        for f, _ in damaged:
            with contextlib.suppress(OSError):
                os.replace(f, f.with_name(f.name + ".damaged"))
        first = damaged[0]
        more = f" and {len(damaged) - 1} more" if len(damaged) > 1 else ""
        warnings.warn(f"sweep folder {str(self.folder)!r}: damaged part file {first[0].name}{more} set aside "
                      f"({type(first[1]).__name__}); its scenarios will be solved again", RuntimeWarning,
                      stacklevel=3)

    def finished_keys(self) -> set[str]:
        df = self.load()
        if df.empty or KEY not in df:
            return set()
        ok = df[STATUS] != FAILED if STATUS in df else slice(None)
        return set(df.loc[ok, KEY])

    def compact(self) -> None:
        """Merge the part files into one (a sweep that wrote rows as they finished leaves many)."""
        files = self._part_files()
        if len(files) < 2:
            return
        df = self.load()
        if df.empty:
            return
        self.write(df.to_dict("records"))       # new part first: a kill in between loses nothing
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()

    def consolidate(self, df: pd.DataFrame) -> dict[str, Path]:
        """Write the final table as sweep.csv (and sweep.parquet when possible)."""
        out = {"csv": self.folder / "sweep.csv"}
        df.to_csv(out["csv"], index=False)
        if self.fmt == "parquet":
            out["parquet"] = self.folder / "sweep.parquet"
            df.to_parquet(out["parquet"], index=False)
        return out


# ------------------------------------------------------------------ fingerprints
def sweep_fingerprint(solve_batch, swept: Iterable[str] = (), extra: Optional[Mapping] = None) -> dict:
    """What produced a sweep's rows: gridprox's version, plus what ``solve_batch`` tells.

    A batch solver with a ``fingerprint()`` method gives its own; one carrying ``source``
    (a System) and ``options`` (the model's), like energy's SweepBatch, is described by the
    system's content hash, those options (minus the swept names: their values are per
    scenario), solver, tol, device, warm_start and solver options.  A plain function tells
    nothing; pass ``extra`` for it.  Batch size and executor are left out: they change how,
    not what, is solved."""
    from .. import __version__
    fp: dict = {"gridprox": __version__}
    swept = set(swept)
    own = getattr(solve_batch, "fingerprint", None)
    if callable(own):
        fp.update(own())
    elif hasattr(solve_batch, "source") and hasattr(solve_batch, "options"):
        fp["system"] = system_hash(solve_batch.source)
        fp["model"] = {k: v for k, v in dict(solve_batch.options).items() if k not in swept}
        for name in ("solver", "tol", "device", "warm_start", "solver_opts"):
            if hasattr(solve_batch, name):
                fp[name] = getattr(solve_batch, name)
    if extra:
        fp.update(extra)
    return _plain_json(fp)


def system_hash(system) -> str:
    """A SHA-256 of a System's content: every table (values, index, columns, dtypes) and
    ``meta``, in field order; where it lives on disk (``path``) does not count."""
    h = hashlib.sha256()
    if dataclasses.is_dataclass(system):
        items = [(f.name, getattr(system, f.name)) for f in dataclasses.fields(system)
                 if f.name != "path" and not f.name.startswith("_")]
    else:
        items = [("repr", repr(system))]
    for name, value in items:
        h.update(f"\0{name}\0".encode())
        if isinstance(value, pd.DataFrame):
            _hash_frame(h, value)
        else:
            h.update(json.dumps(_plain_json(value), sort_keys=True).encode())
    return h.hexdigest()


def _hash_frame(h, df: pd.DataFrame) -> None:
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    h.update(json.dumps([str(t) for t in df.dtypes]).encode())
    h.update(json.dumps([str(df.index.name), len(df)]).encode())
    try:
        h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    except TypeError:   # unhashable cells (lists): fall back to the text form
        h.update(df.to_csv().encode())


def _plain_json(value):
    """JSON-ready and canonical: numpy scalars to Python, tuples to lists, NaN/inf to text."""
    text = json.dumps(value, sort_keys=True, default=_default, allow_nan=True)
    return json.loads(text, parse_constant=str)


def _default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (set, frozenset)):
        return sorted(map(str, v))
    return str(v)


def _differences(old: dict, new: dict, prefix: str = "") -> str:
    diffs = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "(unset)"), new.get(key, "(unset)")
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            diffs.append(_differences(a, b, f"{prefix}{key}."))
        elif key == "system":
            diffs.append(f"{prefix}{key}: other data")
        else:
            diffs.append(f"{prefix}{key}: {_short(a)} before, {_short(b)} now")
    return "; ".join(d for d in diffs if d)


def _short(v) -> str:
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
        return True
    except ImportError:
        return False
