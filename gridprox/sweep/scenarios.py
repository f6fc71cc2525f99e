"""Scenario lists: expanding a sweep specification, parsing ``name=spec`` strings,
and a stable key per scenario so an interrupted sweep can resume."""
from __future__ import annotations

import hashlib
import itertools
import json
from typing import Iterable, Mapping, Sequence

import numpy as np


def expand(spec: Mapping[str, Sequence] | Iterable[Mapping], product: bool = True) -> list[dict]:
    """Turn a sweep specification into a list of scenario dicts.

    ``{"co2_cap": [a, b], "gas_price": [x, y]}`` gives the Cartesian product (4 scenarios)
    with ``product=True`` and the zip (2 scenarios, lists of equal length) otherwise.
    A list of dicts is taken as it is.
    """
    if isinstance(spec, Mapping):
        if not spec:
            raise ValueError("a sweep needs at least one parameter to vary")
        names = list(spec)
        values = []
        for name in names:
            vals = spec[name]
            vals = list(np.atleast_1d(np.asarray(vals, dtype=object)) if np.ndim(vals) <= 1 else vals)
            if not vals:
                raise ValueError(f"sweep parameter {name!r} has no values")
            values.append([_plain(v) for v in vals])
        if product:
            combos = itertools.product(*values)
        else:
            lengths = {name: len(v) for name, v in zip(names, values)}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"product=False needs equally long value lists, got {lengths}")
            combos = zip(*values)
        return [dict(zip(names, combo)) for combo in combos]
    scenarios = [dict(s) for s in spec]
    for i, s in enumerate(scenarios):
        if not s:
            raise ValueError(f"scenario {i} of the sweep is empty")
    return [{k: _plain(v) for k, v in s.items()} for s in scenarios]


def parse_param(text: str) -> tuple[str, list[float]]:
    """Parse ``name=start:stop:num`` (inclusive linspace), ``name=a,b,c`` or ``name=a``.

    Raises ValueError naming the text when it does not match."""
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
            return name, [float(v) for v in np.linspace(start, stop, num)]
        return name, [float(v) for v in spec.split(",")]
    except ValueError:
        raise ValueError(f"bad parameter {text!r}: expected NAME=START:STOP:NUM (NUM >= 1 integer) "
                         f"or NAME=V1,V2,... with numbers") from None


def scenario_key(inputs: Mapping) -> str:
    """A short stable hash of a scenario's inputs (order of keys does not matter)."""
    text = json.dumps({str(k): _plain(v) for k, v in inputs.items()}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _plain(v):
    """numpy scalars -> Python scalars, so keys and tables are stable."""
    if isinstance(v, np.generic):
        return v.item()
    return v
