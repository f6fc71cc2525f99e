"""Adversarial sweeps (issue 26, part 1), generated cases: a sweep folder written by another
model, horizon, solver or option is refused (and overwrite starts afresh); damaged part files
are set aside with one warning and their scenarios solved again; one sweep per folder at a
time; a huge grid is refused before it is built; an interruption keeps every finished row."""
from __future__ import annotations

import errno
import os
import random
import shutil
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from gridprox import datasets
from gridprox.energy import CapacityExpansion
from gridprox.sweep import SweepStore, expand, parse_param, run_sweep
from gridprox.sweep.store import (KEY, SweepFingerprintError, SweepLockedError, sweep_fingerprint,
                                  system_hash)

from sweep_helpers import solve_lp_batch

try:
    from gridprox.sweep.batch import SweepBatch
except ImportError:  # pragma: no cover - before SweepBatch moved out of energy/model.py
    from gridprox.energy.model import SweepBatch

GRID = {"gas_price": [20.0, 60.0]}


def _scen(n=4):
    return expand({"gas_price": [30.0], "demand": [float(d) for d in range(1, n + 1)]})


class Counting:
    """solve_lp_batch that records the demands it solved."""

    def __init__(self):
        self.seen = []

    def __call__(self, batch):
        self.seen.extend(s["demand"] for s in batch)
        return solve_lp_batch(batch)


# ------------------------------------------------------------------ fingerprints
@pytest.fixture(scope="module")
def system():
    return datasets.load_system("de-stochastic")


@pytest.fixture(scope="module")
def written(system, tmp_path_factory):
    """A finished 24-h HiGHS sweep folder, copied afresh by each test that damages it."""
    out = tmp_path_factory.mktemp("sweep") / "base"
    table = CapacityExpansion(system, hours=24).sweep(GRID, out=out, solver="highs", progress=False)
    assert (table["status"] == "optimal").all()
    return out, table


def _copy(src, tmp_path):
    dst = tmp_path / "out"
    shutil.copytree(src, dst)
    return dst


def _with_capex(system, factor):
    other = system.copy()
    other.generators = other.generators.copy()
    other.generators.loc[other.generators.index[0], "capital_cost"] *= factor
    return other


# Each case: another model, horizon, solver or option than the one that wrote the folder.
# (label, model keyword arguments, sweep keyword arguments, system edit)
MISMATCHES = [
    ("hours", dict(hours=48), {}, None),
    ("hours-short", dict(hours=12), {}, None),
    ("resample", dict(resample="6h"), {}, None),
    ("rep-days", dict(rep_days=2), {}, None),
    ("co2-price", dict(hours=24, co2_price=10.0), {}, None),
    ("co2-cap", dict(hours=24, co2_cap=1e9), {}, None),
    ("reserve", dict(hours=24, reserve_margin=0.1), {}, None),
    ("ramp", dict(hours=24, ramp_limits=False), {}, None),
    ("max-build", dict(hours=24, max_build={"gas": 5.0}), {}, None),
    ("seed", dict(hours=24, seed=3), {}, None),
    ("solver-pdhg", dict(hours=24), dict(solver="pdhg"), None),
    ("solver-cvxpy", dict(hours=24), dict(solver="cvxpy"), None),
    ("tol", dict(hours=24), dict(tol=1e-6), None),
    ("device", dict(hours=24), dict(device="cpu"), None),
    ("warm", dict(hours=24), dict(warm_start=False), None),
    ("solver-option", dict(hours=24), dict(time_limit=30.0), None),
    ("capex-x2", dict(hours=24), {}, 2.0),
    ("capex-x1.000001", dict(hours=24), {}, 1.000001),
    ("other-system", dict(hours=24), {}, "model-energy"),
]


@pytest.mark.parametrize("label,model_kw,sweep_kw,edit", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_resume_from_another_model_is_refused(system, written, tmp_path, label, model_kw, sweep_kw, edit):
    out = _copy(written[0], tmp_path)
    before = SweepStore(out).load()
    src = system
    grid = GRID
    if isinstance(edit, float):
        src = _with_capex(system, edit)
    elif isinstance(edit, str):
        src, grid = datasets.load_system(edit), {"demand_scale": [1.0, 1.1]}
    model = CapacityExpansion(src, **model_kw)
    kw = {"solver": "highs", **sweep_kw}
    t0 = time.perf_counter()
    with pytest.raises(SweepFingerprintError, match="cannot resume") as err:
        model.sweep(grid, out=out, progress=False, **kw)
    assert time.perf_counter() - t0 < 5          # refused before solving anything
    assert "\n" not in str(err.value) and "overwrite=True" in str(err.value)
    pd.testing.assert_frame_equal(SweepStore(out).load(), before)   # the old rows are untouched


def test_the_same_model_resumes_and_overwrite_starts_afresh(system, written, tmp_path):
    out = _copy(written[0], tmp_path)
    again = CapacityExpansion(datasets.load_system("de-stochastic"), hours=24)   # loaded anew: same hash
    parts = sorted(p.name for p in (out / "parts").iterdir())
    table = again.sweep(GRID, out=out, solver="highs", progress=False)
    assert sorted(p.name for p in (out / "parts").iterdir()) == parts            # nothing solved again
    pd.testing.assert_frame_equal(table, written[1])

    longer = CapacityExpansion(system, hours=48)
    fresh = longer.sweep(GRID, out=out, solver="highs", progress=False, overwrite=True) \
        if "overwrite" in CapacityExpansion.sweep.__code__.co_varnames else None
    if fresh is None:        # energy does not pass overwrite through yet: the runner directly
        fresh = run_sweep(SweepBatch(longer, solver="highs"), expand(GRID), out=out, progress=False,
                          overwrite=True)
    assert (fresh["status"] == "optimal").all()
    direct = longer.solve(solver="highs", inputs={"gas_price": 60.0})
    assert fresh.loc[1, "objective"] == pytest.approx(direct.objective, rel=1e-9)
    assert not np.isclose(fresh.loc[1, "objective"], written[1].loc[1, "objective"], rtol=1e-9)
    assert len(SweepStore(out).load()) == 2


def test_system_hash_is_content_only(system, tmp_path):
    copy = tmp_path / "moved"
    system.to_folder(copy)
    assert system_hash(datasets.load_system(copy)) == system_hash(system)
    rng = random.Random(7)
    seen = {system_hash(system)}
    for table in ("generators", "demand", "availability", "carriers"):     # one changed cell each
        for _ in range(2):
            other = system.copy()
            df = getattr(other, table).copy()
            cells = [(r, c) for c in df.columns if pd.api.types.is_float_dtype(df[c])
                     for r in range(min(len(df), 50)) if np.isfinite(df[c].iloc[r])]
            r, c = rng.choice(cells)
            df.iloc[r, df.columns.get_loc(c)] = float(df.iloc[r, df.columns.get_loc(c)]) + rng.uniform(0.01, 1)
            setattr(other, table, df)
            h = system_hash(other)
            assert h not in seen
            seen.add(h)
    other = system.copy()
    other.meta = {**other.meta, "voll": 1000.0}
    assert system_hash(other) not in seen


def test_generated_fingerprints_of_plain_batch_functions(tmp_path):
    """A plain function says nothing about itself: the caller's fingerprint (and gridprox's
    version) decide; every change of either is refused, the same one resumes."""
    rng = random.Random(11)
    for case in range(25):
        out = tmp_path / f"o{case}"
        fp = {"model": rng.choice(["a", "b"]), "hours": rng.choice([24, 48, None]), "tol": rng.choice([1e-4, 1e-6])}
        run_sweep(solve_lp_batch, _scen(2), out=out, progress=False, fingerprint=fp)
        other = dict(fp)
        key = rng.choice(list(fp))
        other[key] = {"model": "c", "hours": 168, "tol": 1e-8}[key]
        with pytest.raises(SweepFingerprintError, match=key):
            run_sweep(solve_lp_batch, _scen(2), out=out, progress=False, fingerprint=other)
        counting = Counting()
        run_sweep(counting, _scen(3), out=out, progress=False, fingerprint=dict(fp))
        assert counting.seen == [3.0]


def test_version_legacy_and_unreadable_fingerprints_are_refused(tmp_path, monkeypatch):
    import gridprox
    out = tmp_path / "v"
    run_sweep(solve_lp_batch, _scen(2), out=out, progress=False)
    monkeypatch.setattr(gridprox, "__version__", "99.0")
    with pytest.raises(SweepFingerprintError, match="gridprox"):
        run_sweep(solve_lp_batch, _scen(2), out=out, progress=False)
    monkeypatch.undo()
    for content in (None, "", "{", "[1, 2]", "\x00\xff garbage"):
        if content is None:
            (out / "fingerprint.json").unlink()          # an older gridprox's folder: rows, no record
        else:
            (out / "fingerprint.json").write_text(content, errors="surrogateescape")
        with pytest.raises(SweepFingerprintError, match="cannot resume"):
            run_sweep(solve_lp_batch, _scen(2), out=out, progress=False)
        counting = Counting()
        table = run_sweep(counting, _scen(2), out=out, progress=False, overwrite=True)
        assert counting.seen == [1.0, 2.0] and len(table) == 2     # overwrite: solved afresh


def test_fingerprint_of_a_model_batch_leaves_out_swept_names_and_batch_size(system):
    model = CapacityExpansion(system, hours=24, co2_cap=5.0)
    a = sweep_fingerprint(SweepBatch(model, solver="highs", width=4), swept={"co2_cap"})
    b = sweep_fingerprint(SweepBatch(CapacityExpansion(system, hours=24, co2_cap=9.0), solver="highs", width=64),
                          swept={"co2_cap"})
    assert a == b and "co2_cap" not in a["model"]
    assert sweep_fingerprint(SweepBatch(model, solver="highs"), swept=set()) != a


# ------------------------------------------------------------- damaged part files
def _truncate(data, rng):
    return data[:rng.randrange(1, len(data) - 1)]


def _random_bytes(data, rng):
    return bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 64, 4096])))


def _bad_footer(data, rng):      # footer length and magic: a flipped byte there always shows
    b = bytearray(data)
    b[len(b) - rng.randrange(1, 9)] ^= 0xFF
    return bytes(b)


def _foreign_parquet(data, rng):
    import io
    buf = io.BytesIO()
    pd.DataFrame({"x": [rng.random()]}).to_parquet(buf)      # readable, but not a part file
    return buf.getvalue()


def _csv_text(data, rng):
    return b"scenario,objective\n1,2\n"


DAMAGE = [("empty", lambda d, r: b"")] + [(f"truncated-{i}", _truncate) for i in range(4)] + \
         [(f"random-{i}", _random_bytes) for i in range(4)] + [(f"bad-footer-{i}", _bad_footer) for i in range(3)] + \
         [("foreign", _foreign_parquet), ("csv-text", _csv_text), ("zeros", lambda d, r: bytes(len(d)))]


@pytest.mark.parametrize("label,damage", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_part_is_reported_once_and_recomputed(tmp_path, label, damage):
    rng = random.Random(label)
    out = tmp_path / "d"
    run_sweep(solve_lp_batch, _scen(4), batch_size=2, out=out, progress=False)
    store = SweepStore(out)
    (part,) = store._part_files()               # compacted to one part at the end
    table = store.load()
    # split it back into two parts, and damage the second
    keep, lose = table.iloc[:2], table.iloc[2:]
    part.unlink()
    store.write(keep.to_dict("records"))
    victim = store.write(lose.to_dict("records"))
    victim.write_bytes(damage(victim.read_bytes(), rng))
    counting = Counting()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = run_sweep(counting, _scen(4), batch_size=2, out=out, progress=False)
    damaged = [w for w in caught if "damaged" in str(w.message)]
    assert len(damaged) == 1 and victim.name in str(damaged[0].message)
    assert sorted(counting.seen) == sorted(lose["demand"])
    assert list(again["status"]) == ["optimal"] * 4
    assert (victim.parent / (victim.name + ".damaged")).exists()      # kept for a look, never read again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(SweepStore(out).load()) == 4


def test_failed_write_leaves_no_temporary_and_keeps_earlier_parts(tmp_path, monkeypatch):
    out = tmp_path / "full"
    calls = []
    real = pd.DataFrame.to_parquet

    def disk_full(self, path, *a, **k):
        calls.append(path)
        if len(calls) == 2:
            with open(path, "wb") as f:
                f.write(b"PAR1 half")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    with pytest.raises(OSError, match="No space"):
        run_sweep(solve_lp_batch, _scen(4), batch_size=2, out=out, progress=False)
    monkeypatch.undo()
    assert not [p for p in (out / "parts").iterdir() if p.name.endswith(".tmp")]
    assert len(SweepStore(out).load()) == 2
    counting = Counting()
    run_sweep(counting, _scen(4), batch_size=2, out=out, progress=False)
    assert counting.seen == [3.0, 4.0]


# ------------------------------------------------------------------------ locking
def test_a_second_sweep_on_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "l"
    inner = []

    def nested(batch):
        try:
            run_sweep(solve_lp_batch, _scen(2), out=out, progress=False)
        except SweepLockedError as exc:
            inner.append(str(exc))
        return solve_lp_batch(batch)

    table = run_sweep(nested, _scen(3), batch_size=1, out=out, progress=False)
    assert len(inner) == 3 and all("another sweep" in m and str(os.getpid()) in m for m in inner)
    assert len(table) == 3
    # released at the end, and after a failure too
    run_sweep(solve_lp_batch, _scen(3), out=out, progress=False)

    def boom(batch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(boom, _scen(5), out=out, progress=False)
    holder = SweepStore(out)
    holder.lock()
    try:
        with pytest.raises(SweepLockedError, match="another sweep"):
            run_sweep(solve_lp_batch, _scen(5), out=out, progress=False)
    finally:
        holder.unlock()
    assert len(run_sweep(solve_lp_batch, _scen(5), out=out, progress=False)) == 5


def test_lock_across_processes(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "p"
    holder = SweepStore(out)
    holder.lock()
    code = ("import sys; from gridprox.sweep import run_sweep\n"
            "try:\n    run_sweep(lambda b: [{}] * len(b), [{'a': 1}], out=sys.argv[1], progress=False)\n"
            "except ValueError as e:\n    print(e); sys.exit(3)\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=120)
    finally:
        holder.unlock()
    assert proc.returncode == 3 and "another sweep" in proc.stdout, proc.stderr


# ------------------------------------------------------------------------ huge grids
@pytest.mark.parametrize("shape", [(1000, 1000, 1000), (10**9,), (2,) * 30, (100001, 11), (1001, 1000)])
def test_huge_grid_is_refused_before_it_is_built(shape):
    spec = {f"p{i}": range(n) for i, n in enumerate(shape)}
    count = int(np.prod([float(n) for n in shape]))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="over the limit of 1,000,000") as err:
        expand(spec)
    assert time.perf_counter() - t0 < 0.5
    assert f"{count:,}" in str(err.value) or "values" in str(err.value)


def test_huge_parameter_ranges_are_refused():
    for text in ("x=0:1:1000000000", "x=0:1:2000001", "x=0:1:99999999999999"):
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match="over the limit"):
            parse_param(text)
        assert time.perf_counter() - t0 < 0.5
    assert len(expand({"a": range(10), "b": range(10)}, limit=100)) == 100    # the limit itself is fine
    with pytest.raises(ValueError, match="101 values"):
        expand({"a": range(101)}, product=False, limit=100)


# ------------------------------------------------------------------- interruptions
class HandsRowsBack:
    """A batch solver that hands each scenario's row back as it finishes and is stopped
    (KeyboardInterrupt or an error) after ``stop`` scenarios in all."""
    reports_rows = True

    def __init__(self, stop=None, exc=KeyboardInterrupt):
        self.stop, self.exc, self.done = stop, exc, 0

    def __call__(self, batch, on_rows):
        rows = []
        for pos, s in enumerate(batch):
            if self.stop is not None and self.done == self.stop:
                raise self.exc("stopped")
            row = solve_lp_batch([s])[0]
            on_rows({pos: row})
            rows.append(row)
            self.done += 1
        return rows


def test_interrupted_sweep_keeps_every_finished_row_generated(tmp_path):
    rng = random.Random(3)
    for case in range(10):
        n = rng.randrange(5, 30)
        k = rng.randrange(0, n)
        out = tmp_path / f"i{case}"
        scen = _scen(n)
        plan = [list(range(n))] if rng.random() < 0.5 else None    # one block holding everything, or batches
        with pytest.raises(KeyboardInterrupt):
            run_sweep(HandsRowsBack(stop=k), scen, batch_size=rng.choice([3, 16, 64]), plan=plan, out=out,
                      progress=False)
        assert len(SweepStore(out).finished_keys()) == k, (n, k)
        counting = Counting()
        table = run_sweep(counting, scen, out=out, progress=False)
        assert len(counting.seen) == n - k and len(table) == n
        assert (table["status"] == "optimal").all()


def test_a_failing_batch_keeps_the_rows_it_handed_back(tmp_path):
    scen = _scen(48)
    table = run_sweep(HandsRowsBack(stop=20, exc=RuntimeError), scen, plan=[list(range(48))], out=tmp_path,
                      progress=False)
    assert list(table["status"][:20]) == ["optimal"] * 20
    assert set(table["status"][20:]) == {"error"} and "stopped" in table.loc[20, "message"]
    counting = Counting()
    run_sweep(counting, scen, out=tmp_path, progress=False)
    assert counting.seen == [float(d) for d in range(21, 49)]


def test_plain_batches_interrupted_at_random_points_keep_finished_batches(tmp_path):
    rng = random.Random(5)
    for case in range(8):
        n, size = rng.randrange(4, 30), rng.randrange(1, 6)
        stop_batch = rng.randrange(0, -(-n // size))
        out = tmp_path / f"b{case}"
        calls = [0]

        def stopping(batch):
            if calls[0] == stop_batch:
                raise KeyboardInterrupt
            calls[0] += 1
            return solve_lp_batch(batch)

        with pytest.raises(KeyboardInterrupt):
            run_sweep(stopping, _scen(n), batch_size=size, out=out, progress=False)
        assert len(SweepStore(out).finished_keys()) == stop_batch * size


def test_rows_handed_back_are_written_at_once_and_compacted_at_the_end(tmp_path):
    written = []

    class Watching(HandsRowsBack):
        def __call__(self, batch, on_rows):
            def spy(rows):
                on_rows(rows)
                written.append(len(SweepStore(tmp_path)._part_files()))
            return super().__call__(batch, spy)

    table = run_sweep(Watching(), _scen(6), plan=[list(range(6))], out=tmp_path, progress=False)
    assert written == [1, 2, 3, 4, 5, 6] and len(table) == 6
    assert len(SweepStore(tmp_path)._part_files()) == 1
    assert set(SweepStore(tmp_path).load()[KEY]) == set(table[KEY])
