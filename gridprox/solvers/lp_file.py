"""``read_lp``: an MPS or CPLEX-LP file (PyPSA, linopy, Pyomo, GenX exports) read by
HiGHS's parser into a LinearProgram, with variable and row names.

A LinearProgram always minimises.  A model that maximises (by its OBJSENSE, or by
``sense="max"`` for old MPS files that cannot say so) is returned with c and c0
negated, and a warning says so: the LP's optimum is then minus the model's.
"""
from __future__ import annotations

import gzip
import math
import os
import warnings

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram
from ..errors import LPFileError, ModelingError
from .highs import _highspy, new_highs


def _read(path: str, free_format: bool):
    highspy = _highspy()
    h = new_highs()
    h.setOptionValue("mps_parser_type_free", free_format)
    ok = h.readModel(path) != highspy.HighsStatus.kError
    return h if ok else None


# ------------------------------------------------------------------ MPS validation
# HiGHS's MPS readers accept malformed files: text in a numeric field reads as 0, an entry
# for an undeclared row or a file cut off before ENDATA passes, and after the free-format
# reader rejects a file the fixed-format one can make a different model of it.  So the text
# is checked here first, each line as free MPS (whitespace-separated fields) or, where that
# does not fit, as fixed MPS (names in columns, possibly with spaces), and HiGHS reads it in
# the format that fitted; the model it returns must have the rows and columns counted here.
_SECTIONS = {"NAME", "OBJSENSE", "OBJSENS", "OBJNAME", "ROWS", "COLUMNS", "RHS", "RANGES", "BOUNDS", "SOS",
             "QUADOBJ", "QMATRIX", "QSECTION", "QCMATRIX", "CSECTION", "INDICATORS", "ENDATA"}
_UNCHECKED = {"SOS", "QUADOBJ", "QMATRIX", "QSECTION", "QCMATRIX", "CSECTION", "INDICATORS"}
_SENSES = {"MIN", "MAX", "MINIMIZE", "MAXIMIZE", "MINIMISE", "MAXIMISE"}
_ROW_TYPES = {"N", "E", "L", "G"}
_BOUND_WITH_VALUE = {"UP", "LO", "FX", "LI", "UI"}
_BOUND_TYPES = _BOUND_WITH_VALUE | {"FR", "MI", "PL", "BV", "SC"}
_FIXED_FIELDS = ((1, 3), (4, 12), (14, 22), (24, 36), (39, 47), (49, 61))   # MPS's fixed columns, 0-based


class _MpsText:
    """One pass over an MPS file's lines that raises LPFileError at the first malformed one;
    then ``rows`` (constraint rows), ``columns`` and ``fixed`` (some line needed fixed MPS)."""

    def __init__(self, path: str, lines):
        self.path, self.fixed = path, False
        self.row_type: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        self.entries: set = set()
        self.last_col = None
        self.seen: dict[str, int] = {}
        self.checks = {"OBJSENSE": self._objsense, "OBJSENS": self._objsense, "ROWS": self._rows,
                       "COLUMNS": self._columns, "RHS": self._rhs, "RANGES": self._rhs, "BOUNDS": self._bounds}
        section, number = None, 0
        for number, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("*"):
                continue
            if not line[0].isspace():
                section = self.header(number, line)
                if section == "ENDATA":
                    break
                continue
            if section is None or section == "NAME":
                self.fail(number, "data line outside a section")
            if section not in _UNCHECKED and section != "OBJNAME":
                self.data(number, section, line)
        else:
            self.fail(number + 1, "the file ends without ENDATA (cut off?)")
        for needed in ("ROWS", "COLUMNS"):
            if needed not in self.seen:
                self.fail(number, f"no {needed} section")

    def fail(self, line: int, problem: str):
        raise LPFileError(f"read_lp: could not parse {self.path!r}: line {line}: {problem}", self.path, line)

    def header(self, number: int, line: str) -> str:
        words = line.split()
        section = words[0].upper()
        if section not in _SECTIONS:
            self.fail(number, f"unknown section {words[0]!r} (a data line must start with a space)")
        if section in self.seen:
            self.fail(number, f"section {section} appears twice (first on line {self.seen[section]})")
        self.seen[section] = number
        if section in ("COLUMNS", "RHS", "RANGES", "BOUNDS") and "ROWS" not in self.seen:
            self.fail(number, f"section {section} before ROWS")
        if section in ("RHS", "RANGES", "BOUNDS") and "COLUMNS" not in self.seen:
            self.fail(number, f"section {section} before COLUMNS")
        if section in ("OBJSENSE", "OBJSENS") and len(words) > 1 and words[1].upper() not in _SENSES:
            self.fail(number, f"objective sense {words[1]!r} is not MIN or MAX")
        return section

    def data(self, number: int, section: str, line: str):
        """Check a data line read as free MPS, else as fixed MPS; record what it declares."""
        check = self.checks[section]
        free = line.split()
        problem = check(free)
        if problem is None:
            return
        fixed = _fixed_fields(line)
        if fixed is not None and fixed != free:
            second = check(fixed)
            if second is None:
                self.fixed = True
                return
            if problem.startswith("expected"):       # free MPS did not fit: say what fixed MPS found
                problem = second
        self.fail(number, problem)

    # each returns why the fields are malformed, or None when they are not, and records them
    def _objsense(self, f):
        return None if f[0].upper() in _SENSES else f"objective sense {f[0]!r} is not MIN or MAX"

    def _rows(self, f):
        if len(f) != 2:
            return f"expected a row type and a row name, got {len(f)} fields"
        kind, name = f
        if kind.upper() not in _ROW_TYPES:
            return f"invalid row type {kind!r} (N, E, L or G) for row {name!r}"
        if name in self.row_type:
            return f"row {name!r} declared twice"
        self.row_type[name] = kind.upper()

    def _columns(self, f):
        if len(f) >= 3 and f[1].strip("'\"").upper() == "MARKER":
            return None
        if len(f) not in (3, 5):
            return f"expected a column name and (row, value) pairs, got {len(f)} fields"
        if f[0] != self.last_col and f[0] in self.columns:
            return (f"column {f[0]!r} resumes after other columns (line {self.columns[f[0]]}); "
                    "a column's entries must be consecutive")
        rows, entries = self.row_type, self.entries
        for k in (1, 3)[:len(f) // 2]:
            row, value = f[k], f[k + 1]
            if row not in rows:
                return self._row(row)
            try:                                           # the common case, fast
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number) or "_" in value:
                return _number(value, f"coefficient of column {f[0]!r} in row {row!r}", finite=True)
            if (f[0], row) in entries or k == 3 and row == f[1]:
                return f"second entry for column {f[0]!r} in row {row!r}"
        if f[0] != self.last_col:
            self.columns[f[0]], self.last_col = len(self.columns), f[0]
        self.entries.update((f[0], row) for row in f[1::2])

    def _rhs(self, f):
        if len(f) not in (2, 3, 4, 5):
            return f"expected [a set name and] (row, value) pairs, got {len(f)} fields"
        for row, value in zip(f[len(f) % 2::2], f[len(f) % 2 + 1::2]):
            problem = self._row(row) or _number(value, f"value of row {row!r}")
            if problem:
                return problem

    def _bounds(self, f):
        kind = f[0].upper()
        if kind not in _BOUND_TYPES:
            return f"invalid bound type {f[0]!r} ({', '.join(sorted(_BOUND_TYPES))})"
        if kind in _BOUND_WITH_VALUE:          # type [set] column value
            if len(f) not in (3, 4):
                return f"expected a bound type, [a bound set,] a column and a value, got {len(f)} fields"
            column, value = f[-2], f[-1]
        else:                                  # type [set] column [value]
            if len(f) not in (2, 3, 4):
                return f"expected a bound type, [a bound set,] a column, got {len(f)} fields"
            column, value = f[-1], None
            if len(f) == 4 or (len(f) == 3 and f[2] not in self.columns and f[1] in self.columns):
                column, value = f[-2], f[-1]
        if column not in self.columns:
            return f"bound for column {column!r}, which has no entry in COLUMNS"
        return None if value is None else _number(value, f"{kind} bound of column {column!r}")

    def _row(self, row: str):
        return None if row in self.row_type else f"row {row!r} is not declared in ROWS"

    @property
    def rows(self) -> int:
        return sum(kind != "N" for kind in self.row_type.values())


def _fixed_fields(line: str):
    """The fields of a fixed-MPS data line (names may hold spaces), or None where text lies
    outside the fields' columns."""
    gaps = [line[b:a] for (_, b), (a, _) in zip(((0, 1),) + _FIXED_FIELDS, _FIXED_FIELDS + ((61, None),))]
    if "".join(gaps).strip():
        return None
    fields = [line[a:b].strip() for a, b in _FIXED_FIELDS]
    while fields and not fields[-1]:
        fields.pop()
    fields = fields[1:] if fields and not fields[0] else fields     # field 1 holds only row and bound types
    return fields if fields and all(fields) else None


def _number(text: str, what: str, finite: bool = False):
    """Why ``text`` is not a number MPS allows (None when it is)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or "_" in text:
        return f"{what} is not a number: {text!r}"
    if finite and math.isinf(value):
        return f"{what} is infinite: {text!r}"
    return None


def _check_mps(path: str) -> _MpsText:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            return _MpsText(path, fh)
    except (OSError, EOFError) as exc:
        raise LPFileError(f"read_lp: could not parse {path!r}: {exc}", path) from None


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
    mps = _check_mps(path) if path.lower().endswith((".mps", ".mps.gz")) else None
    if mps is None:
        h = _read(path, free_format=True) or _read(path, free_format=False)
    else:       # the format the text fitted (fixed MPS: names with spaces)
        h = _read(path, free_format=not mps.fixed)
    if h is None or h.getNumCol() == 0:   # the fixed-MPS parser reads garbage as an empty model
        raise ValueError(f"read_lp: HiGHS could not parse {path!r} as an MPS or LP file with variables")
    if mps is not None and (h.getNumRow(), h.getNumCol()) != (mps.rows, len(mps.columns)):
        raise LPFileError(f"read_lp: could not parse {path!r}: HiGHS read {h.getNumRow()} rows and "
                          f"{h.getNumCol()} columns where the file declares {mps.rows} and {len(mps.columns)}", path)
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
