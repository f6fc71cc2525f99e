"""Grid topology for the linearised power flow: an independent cycle basis of the lines.

Kirchhoff's voltage law is written over cycles (PyPSA's default, Hörsch et al., "Linear optimal
power flow using cycle flows", EPSR 158, 2018): per cycle c and snapshot, Σ_l C[c, l] x_l f_l = 0.
We chose it over voltage angles because it adds no variables (one row per independent cycle,
|L| - |N| + #components of them) and gives the LP PyPSA's ``n.optimize()`` builds, row for row
up to the choice of basis.  The basis here is the fundamental cycles of a breadth-first spanning
forest: each line outside the forest closes one cycle with the forest's path between its ends,
which keeps cycles short on meshed grids."""
from __future__ import annotations

from collections import deque

import numpy as np
import scipy.sparse as sp

__all__ = ["cycle_matrix"]


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
