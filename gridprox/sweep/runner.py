"""Running a sweep: scenarios go out in batches (one batched solve each), locally or on
an executor (a ``dask.distributed.Client`` or any ``concurrent.futures.Executor``);
rows come back as batches (or, from a solver that hands them back early, single
scenarios) finish, are written at once, and a resumed sweep skips what is already done."""
from __future__ import annotations

import concurrent.futures as cf
import sys
import traceback
from typing import Callable, Mapping, Optional, Sequence

import pandas as pd

from .scenarios import scenario_key
from .store import FAILED, KEY, STATUS, SweepStore, sweep_fingerprint

BatchSolver = Callable[[list], list]
"""solve_batch(list of scenario input dicts) -> list of row dicts, one per scenario, in order.
One whose ``reports_progress`` attribute is true is called as ``solve_batch(list, progress=f)``
in a local sweep and calls ``f(count)`` as scenarios finish inside the batch.  One whose
``reports_rows`` attribute is true is also given ``on_rows=g`` and calls ``g({position: row})``
as scenarios finish (position in the list it was given): those rows are written at once, so
an interruption inside a long batch keeps them."""


def run_sweep(solve_batch: BatchSolver, scenarios: Sequence[dict], *, batch_size: int = 16,
              executor=None, out: Optional[str] = None, resume: bool = True,
              progress: bool = True, retries: int = 2,
              plan: Optional[Sequence[Sequence[int]]] = None, overwrite: bool = False,
              fingerprint: Optional[Mapping] = None) -> pd.DataFrame:
    """Solve ``scenarios`` in batches and return one tidy row per scenario.

    ``out``: folder for incremental results (see SweepStore); with ``resume`` the
    scenarios already finished there are not recomputed.  The folder records what produced
    its rows (``sweep_fingerprint``: system content, model options, solver and its options,
    gridprox version, and ``fingerprint`` when given); a sweep of anything else into it is
    refused (SweepFingerprintError) unless ``overwrite``, which discards those rows first.
    One sweep at a time per folder: a second raises SweepLockedError.  A batch that raises
    gives its scenarios status "error" with the message (those it already handed back
    through ``on_rows`` keep theirs), and the sweep goes on; those are re-run on resume.  On
    a Dask client a batch is retried ``retries`` times (e.g. when its worker dies) before it
    counts as failed.  ``plan``: the batches as lists of indices into ``scenarios``, in
    solving order (default: ``batch_size`` at a time, as given; e.g. ``coarse_to_fine`` so
    that warm starts come from neighbours); the table is in the order of ``scenarios``
    either way.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    scenarios = [dict(s) for s in scenarios]
    keys = [scenario_key(s) for s in scenarios]
    if len(set(keys)) != len(keys):
        seen = {}
        for i, k in enumerate(keys):
            if k in seen:
                raise ValueError(f"scenarios {seen[k]} and {i} have the same inputs: {scenarios[i]}")
            seen[k] = i
    store = SweepStore(out) if out is not None else None
    if store is None:
        return _run(solve_batch, scenarios, keys, None, set(), batch_size, executor, progress, retries, plan)
    swept = {name for s in scenarios for name in s}
    store.lock()
    try:
        store.claim(sweep_fingerprint(solve_batch, swept, fingerprint), overwrite=overwrite)
        done = store.finished_keys() if resume else set()
        return _run(solve_batch, scenarios, keys, store, done, batch_size, executor, progress, retries, plan)
    finally:
        store.unlock()


def _run(solve_batch, scenarios, keys, store, done, batch_size, executor, progress, retries, plan):
    if plan is None:
        todo = [i for i in range(len(scenarios)) if keys[i] not in done]
        batches = [todo[j:j + batch_size] for j in range(0, len(todo), batch_size)]
    else:
        if sorted(i for b in plan for i in b) != list(range(len(scenarios))):
            raise ValueError(f"plan must hold each index of range({len(scenarios)}) once")
        batches = [b for b in ([i for i in b if keys[i] not in done] for b in plan) if b]
        todo = [i for b in batches for i in b]
    rows: dict[int, dict] = {}

    bar = _progress(len(scenarios), len(scenarios) - len(todo), progress)
    shown = [0]               # scenarios of the running batch its solver already reported

    def report(count: int):
        shown[0] += count
        bar.update(count)

    def row_of(i: int, values: Mapping) -> dict:
        row = dict(scenarios[i])
        row.update(values)
        row[KEY] = keys[i]
        row["scenario"] = i
        rows[i] = row
        return row

    delivered: set[int] = set()   # scenarios of the running batch already handed back and written

    def early(batch: list[int], counts: bool):
        def on_rows(found: Mapping[int, Mapping]):
            new = [row_of(batch[int(pos)], r) for pos, r in dict(found).items()
                   if 0 <= int(pos) < len(batch) and batch[int(pos)] not in delivered]
            delivered.update(r["scenario"] for r in new)
            if store is not None:
                store.write(new)
            if counts:
                report(len(new))
        return on_rows

    def finish(batch: list[int], result=None, error: Optional[BaseException] = None):
        if error is None and (not isinstance(result, list) or len(result) != len(batch)):
            error = RuntimeError(f"solve_batch returned {type(result).__name__} of length "
                                 f"{len(result) if hasattr(result, '__len__') else '?'} for a batch of {len(batch)}")
        new = []
        for pos, i in enumerate(batch):
            if i in delivered:
                continue
            if error is None:
                new.append(row_of(i, result[pos]))
            else:
                new.append(row_of(i, {STATUS: FAILED, "message": _one_line(error)}))
        delivered.clear()
        if store is not None:
            store.write(new)
        bar.update(max(len(batch) - shown[0], 0))
        shown[0] = 0

    try:
        if executor is None:
            streams = getattr(solve_batch, "reports_progress", False)
            hands_rows = getattr(solve_batch, "reports_rows", False)
            for batch in batches:
                try:
                    items = [scenarios[i] for i in batch]
                    kwargs = {"progress": report} if streams else {}
                    if hands_rows:
                        kwargs["on_rows"] = early(batch, counts=not streams)
                    result = solve_batch(items, **kwargs)
                except Exception as exc:  # keep going: record the failure, finish the rest
                    finish(batch, error=exc)
                else:
                    finish(batch, result)
        elif _is_dask(executor):
            from distributed import as_completed
            futures = {}
            for batch in batches:
                fut = executor.submit(solve_batch, [scenarios[i] for i in batch], retries=retries, pure=False)
                futures[fut] = batch
            for fut in as_completed(list(futures)):
                _collect(fut, futures[fut], finish)
        elif isinstance(executor, cf.Executor):
            futures = {executor.submit(solve_batch, [scenarios[i] for i in batch]): batch for batch in batches}
            for fut in cf.as_completed(futures):
                _collect(fut, futures[fut], finish)
        else:
            raise TypeError(f"executor must be a dask.distributed.Client or a concurrent.futures.Executor, "
                            f"got {type(executor).__name__}")
    finally:
        bar.close()

    if store is not None:
        table = store.load()
        table = table[table[KEY].isin(keys)] if not table.empty else table
    else:
        table = pd.DataFrame([rows[i] for i in sorted(rows)])
    if not table.empty:
        order = {k: i for i, k in enumerate(keys)}
        table = table.assign(scenario=table[KEY].map(order)).sort_values("scenario").reset_index(drop=True)
        front = ["scenario"] + [c for c in scenarios[0] if c in table] if scenarios else ["scenario"]
        table = table[front + [c for c in table.columns if c not in front]]
        if store is not None:
            store.consolidate(table)
    if store is not None:
        store.compact()
    return table


def _collect(fut, batch, finish):
    try:
        result = fut.result()
    except Exception as exc:
        finish(batch, error=exc)
    else:
        finish(batch, result)


def _is_dask(executor) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed"


def _one_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return " ".join(text.split())


def _progress(total: int, initial: int, enabled: bool):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total, initial=initial, unit="scenario", desc="sweep", file=sys.stderr,
                dynamic_ncols=True)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass
