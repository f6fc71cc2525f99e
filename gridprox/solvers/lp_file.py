"""``read_lp``: an MPS or CPLEX-LP file (PyPSA, linopy, Pyomo, GenX exports) read by
HiGHS's parser into a LinearProgram, with variable and row names.

A LinearProgram always minimises.  A model that maximises (by its OBJSENSE, or by
``sense="max"`` for old MPS files that cannot say so) is returned with c and c0
negated, and a warning says so: the LP's optimum is then minus the model's.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram
from ..errors import ModelingError
from .highs import _highspy, new_highs


def _read(path: str, free_format: bool):
    highspy = _highspy()
    h = new_highs()
    h.setOptionValue("mps_parser_type_free", free_format)
    ok = h.readModel(path) != highspy.HighsStatus.kError
    return h if ok else None


def read_lp(path, sense: str | None = None, relax_integrality: bool = False) -> LinearProgram:
    """Read ``path`` (.mps, .lp, optionally gzipped) into a LinearProgram.

    sense: None keeps the file's objective sense; "min" or "max" overrides it.
    relax_integrality: integer columns raise ModelingError unless this is True, when
    their integrality is dropped (the LP relaxation).  Quadratic objectives are refused.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_lp: no such file {path!r}")
    if sense not in (None, "min", "max"):
        raise ValueError(f"read_lp: sense must be None, 'min' or 'max', got {sense!r}")
    # HiGHS reads free MPS by default; fixed MPS (names with spaces) needs the fixed parser
    h = _read(path, free_format=True) or _read(path, free_format=False)
    if h is None or h.getNumCol() == 0:   # the fixed-MPS parser reads garbage as an empty model
        raise ValueError(f"read_lp: HiGHS could not parse {path!r} as an MPS or LP file with variables")
    highspy = _highspy()
    model = h.getModel()
    lp = model.lp_
    if model.hessian_.dim_ > 0:
        raise ModelingError(f"read_lp: {path!r} has a quadratic objective; gridprox solves LPs only")
    names = list(lp.col_names_) or None
    integral = np.flatnonzero(np.asarray(lp.integrality_, dtype=int) != 0) if len(lp.integrality_) else []
    if len(integral) and not relax_integrality:
        shown = ", ".join(names[j] if names else str(j) for j in integral[:5])
        raise ModelingError(f"read_lp: {path!r} has {len(integral)} integer columns ({shown}"
                            f"{', ...' if len(integral) > 5 else ''}); gridprox solves LPs only "
                            "(relax_integrality=True reads the LP relaxation)")

    m, n = lp.num_row_, lp.num_col_
    mat = lp.a_matrix_
    parts = (np.asarray(mat.value_, dtype=float), np.asarray(mat.index_), np.asarray(mat.start_))
    if mat.format_ == highspy.MatrixFormat.kColwise:
        A = sp.csc_matrix(parts, shape=(m, n)).tocsr()
    else:
        A = sp.csr_matrix(parts, shape=(m, n))
    c, c0 = np.asarray(lp.col_cost_, dtype=float), float(lp.offset_)
    maximise = lp.sense_ == highspy.ObjSense.kMaximize if sense is None else sense == "max"
    if maximise:
        warnings.warn(f"read_lp: {path!r} maximises; the LinearProgram minimises the negated "
                      "objective, so its optimum is minus the model's", stacklevel=2)
        c, c0 = -c, -c0
    return LinearProgram(c=c, A=A, lc=np.asarray(lp.row_lower_, dtype=float),
                         uc=np.asarray(lp.row_upper_, dtype=float), lx=np.asarray(lp.col_lower_, dtype=float),
                         ux=np.asarray(lp.col_upper_, dtype=float), c0=c0, var_names=names,
                         row_names=list(lp.row_names_) or None)
