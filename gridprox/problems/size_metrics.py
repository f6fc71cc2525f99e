"""cvxpy's ``problem.size_metrics``: counts of a problem's scalar variables, data and constraints."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SizeMetrics:
    num_scalar_variables: int = 0
    num_scalar_data: int = 0                 # entries of the constants and parameters
    num_scalar_eq_constr: int = 0
    num_scalar_leq_constr: int = 0
    max_data_dimension: int = 0              # the longest side of a constant or parameter
    max_big_small_squared: float = 0.0       # max of big * small**2 over their sides

    @classmethod
    def of(cls, problem) -> "SizeMetrics":
        m = cls(num_scalar_variables=sum(v.size for v in problem.variables()))
        for data in problem.constants() + problem.parameters():
            big, small = (max(data.shape), min(data.shape)) if data.shape else (1, 1)
            m.num_scalar_data += data.size
            m.max_data_dimension = max(m.max_data_dimension, big)
            m.max_big_small_squared = max(m.max_big_small_squared, float(big) * float(small) ** 2)
        for con in problem.constraints:
            if con.kind == "eq":
                m.num_scalar_eq_constr += con.expr.size
            else:
                m.num_scalar_leq_constr += con.expr.size
        return m
