"""Scenario lists: expanding a sweep specification, parsing ``name=spec`` strings,
and a stable key per scenario so an interrupted sweep can resume."""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Iterable, Mapping, Sequence

import numpy as np

MAX_SCENARIOS = 1_000_000
"""The largest sweep ``expand`` and ``parse_param`` build (each scenario is a dict in memory
and a row in the table: a million is already about a gigabyte)."""


def expand(spec: Mapping[str, Sequence] | Iterable[Mapping], product: bool = True,
           limit: int = MAX_SCENARIOS) -> list[dict]:
    """Turn a sweep specification into a list of scenario dicts.

    ``{"co2_cap": [a, b], "gas_price": [x, y]}`` gives the Cartesian product (4 scenarios)
    with ``product=True`` and the zip (2 scenarios, lists of equal length) otherwise.
    A list of dicts is taken as it is.  More than ``limit`` scenarios raise ValueError
    before any is built.
    """
    if isinstance(spec, Mapping):
        if not spec:
            raise ValueError("a sweep needs at least one parameter to vary")
        names = list(spec)
        values = []
        for name in names:
            vals = spec[name]
            if hasattr(vals, "__len__") and not isinstance(vals, str) and len(vals) > limit:
                raise ValueError(f"sweep parameter {name!r} has {len(vals):,} values, over the limit of "
                                 f"{limit:,} scenarios")
            vals = list(np.atleast_1d(np.asarray(vals, dtype=object)) if np.ndim(vals) <= 1 else vals)
            if not vals:
                raise ValueError(f"sweep parameter {name!r} has no values")
            values.append([_plain(v) for v in vals])
        if product:
            count = math.prod(len(v) for v in values)
            if count > limit:
                sizes = " x ".join(f"{len(v):,} {name}" for name, v in zip(names, values))
                raise ValueError(f"a sweep of {count:,} scenarios ({sizes}) is over the limit of {limit:,}; "
                                 f"sweep fewer values or split it into several sweeps")
            combos = itertools.product(*values)
        else:
            lengths = {name: len(v) for name, v in zip(names, values)}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"product=False needs equally long value lists, got {lengths}")
            if values and len(values[0]) > limit:
                raise ValueError(f"a sweep of {len(values[0]):,} scenarios is over the limit of {limit:,}")
            combos = zip(*values)
        return [dict(zip(names, combo)) for combo in combos]
    scenarios = [dict(s) for s in spec]
    for i, s in enumerate(scenarios):
        if not s:
            raise ValueError(f"scenario {i} of the sweep is empty")
    return [{k: _plain(v) for k, v in s.items()} for s in scenarios]


def parse_param(text: str) -> tuple[str, list[float]]:
    """Parse ``name=start:stop:num`` (inclusive linspace), ``name=a,b,c`` or ``name=a``.

    Raises ValueError naming the text when it does not match, holds a value that is not a
    finite number, repeats a value, or has more than MAX_SCENARIOS values."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ValueError(f"bad parameter {text!r}: expected NAME=START:STOP:NUM or NAME=V1,V2,...")
    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1:
                raise ValueError
        else:
            values = [float(v) for v in spec.split(",")]
    except ValueError:
        raise ValueError(f"bad parameter {text!r}: expected NAME=START:STOP:NUM (NUM >= 1 integer) "
                         f"or NAME=V1,V2,... with numbers") from None
    if ":" in spec:
        bad = next((v for v in (start, stop) if not math.isfinite(v)), None)
        if bad is not None:
            raise ValueError(f"bad parameter {text!r}: {bad} is not a finite number")
        if num > MAX_SCENARIOS:     # checked before linspace allocates them
            raise ValueError(f"bad parameter {text!r}: {num:,} values is over the limit of "
                             f"{MAX_SCENARIOS:,} scenarios")
        values = [float(v) for v in np.linspace(start, stop, num)]
    bad = next((v for v in values if not math.isfinite(v)), None)
    if bad is not None:     # "1e400" reads as inf: every swept input is a finite number
        raise ValueError(f"bad parameter {text!r}: {bad} is not a finite number")
    seen: set = set()
    for v in values:
        if v in seen:      # two scenarios with the same inputs: the sweep would refuse them later
            raise ValueError(f"bad parameter {text!r}: the value {v:g} is given twice")
        seen.add(v)
    return name, values


def scenario_key(inputs: Mapping) -> str:
    """A short stable hash of a scenario's inputs (order of keys does not matter)."""
    text = json.dumps({str(k): _plain(v) for k, v in inputs.items()}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _plain(v):
    """numpy scalars -> Python scalars, so keys and tables are stable."""
    if isinstance(v, np.generic):
        return v.item()
    return v
