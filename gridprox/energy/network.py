"""Grid topology for the linearised power flow, one matrix per way of writing Kirchhoff's voltage law
(Hörsch et al., "Linear optimal power flow using cycle flows", EPSR 158, 2018, compare them):

- cycles (PyPSA's ``n.optimize()``): per independent cycle c and snapshot, Σ_l C[c, l] x_l f_l = 0.
  No extra variables, |L| - |N| + #components rows.  ``cycle_matrix`` gives C; its basis is the
  fundamental cycles of a breadth-first spanning forest (each line outside the forest closes one
  cycle with the forest's path between its ends), which keeps cycles short on meshed grids.
- angles: a voltage angle θ per bus and snapshot, x_l f_l = θ_bus0 - θ_bus1 per line; |N| - #components
  extra free variables (one reference bus per connected part stays at 0) and one row per line.
  ``angle_incidence`` gives the (lines, angles) incidence without the reference buses.

PDHG needs 1.8-4.4x fewer iterations with cycles on PyPSA's meshed examples (a tie on the smallest),
and fewer seconds though an angle iteration is cheaper (comparisons/kvl_formulation.py, RESULTS.md
"PyPSA interop"): cycles are the default, angles an option."""
from __future__ import annotations

from collections import deque

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["cycle_matrix", "angle_incidence"]


def cycle_matrix(bus0: np.ndarray, bus1: np.ndarray, n_buses: int) -> sp.csr_matrix:
    """(cycles, lines) matrix of +1/-1/0: +1 where the cycle runs through a line from its bus0 to
    its bus1, -1 against it.  ``bus0``/``bus1``: integer bus positions of each line; parallel
    lines form cycles of two."""
    bus0, bus1 = np.asarray(bus0, dtype=int), np.asarray(bus1, dtype=int)
    adjacent = [[] for _ in range(n_buses)]
    for line, (a, b) in enumerate(zip(bus0, bus1)):
        adjacent[a].append((b, line))
        adjacent[b].append((a, line))
    parent = np.full(n_buses, -1)
    parent_line = np.full(n_buses, -1)
    depth = np.full(n_buses, -1)
    for root in range(n_buses):                  # one breadth-first tree per connected component
        if depth[root] >= 0 or not adjacent[root]:
            continue
        depth[root] = 0
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v, line in adjacent[u]:
                if depth[v] < 0:
                    depth[v], parent[v], parent_line[v] = depth[u] + 1, u, line
                    queue.append(v)
    in_tree = np.zeros(len(bus0), dtype=bool)
    in_tree[parent_line[parent_line >= 0]] = True
    rows, cols, signs = [], [], []
    for c, line in enumerate(np.flatnonzero(~in_tree)):
        u, v = bus0[line], bus1[line]
        path = [(line, 1.0)]                     # u -> v along the line, then v up and down to u
        up, down = [], []
        a, b = v, u
        while a != b:
            if depth[a] >= depth[b]:             # climb from the v side: child -> parent
                up.append((parent_line[a], 1.0 if bus0[parent_line[a]] == a else -1.0))
                a = parent[a]
            else:                                # climb from the u side, walked later parent -> child
                down.append((parent_line[b], 1.0 if bus0[parent_line[b]] == parent[b] else -1.0))
                b = parent[b]
        path += up + down[::-1]
        rows += [c] * len(path)
        cols += [p[0] for p in path]
        signs += [p[1] for p in path]
    n_cycles = int((~in_tree).sum())
    return sp.csr_matrix((signs, (rows, cols)), shape=(n_cycles, len(bus0)))


def angle_incidence(bus0: np.ndarray, bus1: np.ndarray, n_buses: int) -> sp.csr_matrix:
    """(lines, angles) matrix D with D @ θ = θ_bus0 - θ_bus1: +1 at a line's bus0, -1 at its bus1, one
    column per bus that a line touches except the first bus of each connected part, its reference
    (angles are defined up to a constant per part; fixing one keeps the optimum unique in θ)."""
    bus0, bus1 = np.asarray(bus0, dtype=int), np.asarray(bus1, dtype=int)
    lines = np.arange(len(bus0))
    A = sp.csr_matrix((np.r_[np.ones(len(bus0)), -np.ones(len(bus0))], (np.r_[lines, lines], np.r_[bus0, bus1])),
                      shape=(len(bus0), n_buses))
    touched = np.unique(np.r_[bus0, bus1])
    _, part = connected_components(abs(A.T) @ abs(A), directed=False)
    _, first = np.unique(part[touched], return_index=True)      # touched is sorted: lowest bus per part
    keep = np.setdiff1d(touched, touched[first])
    return A[:, keep].tocsr()
