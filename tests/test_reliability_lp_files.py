"""Adversarial tests of read_lp on MPS files (issue 26 part 4): generated corruptions of the real
files in tests/data (cut off at random points, a number replaced by text, invalid row types,
entries for undeclared rows or columns, sections repeated or out of order) must raise
LPFileError naming the line, and harmless changes (trailing blanks, CRLF, comments, blank lines,
tabs) must read to the same LP.  Never a different model read silently."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import gridprox as gp
from gridprox.errors import LPFileError, ModelingError
from gridprox.solvers import solve_lp

DATA = Path(__file__).parent / "data"
FILES = ["sc50a.mps", "kb2.mps", "murtagh.mps", "samp2.mps"]
SECTION = re.compile(r"^[A-Z]")


def _read(path):
    return gp.read_lp(path, relax_integrality=True)


def _same_lp(a, b):
    assert a.shape == b.shape and a.var_names == b.var_names and a.row_names == b.row_names
    np.testing.assert_array_equal(a.A.toarray(), b.A.toarray())
    for field in ("c", "lc", "uc", "lx", "ux"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.c0 == b.c0


def _sections(lines):
    """{section: [0-based indices of its data lines]} and {section: index of its header}."""
    data, heads, current = {}, {}, None
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("*"):
            continue
        if SECTION.match(line):
            current = line.split()[0]
            heads[current] = i
            data.setdefault(current, [])
        else:
            data[current].append(i)
    return data, heads


def _numeric_fields(line: str, section: str):
    """(start, end) of the numeric fields of a data line."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
    if section == "COLUMNS":
        if "MARKER" in line:
            return []
        return spans[2::2]
    if section in ("RHS", "RANGES"):
        return spans[len(spans) % 2 + 1::2]
    if section == "BOUNDS":
        return spans[3:4] if len(spans) == 4 else []
    return []


def _row_fields(line: str, section: str):
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
    if section == "COLUMNS":
        return [] if "MARKER" in line else spans[1::2]
    if section in ("RHS", "RANGES"):
        return spans[len(spans) % 2::2]
    return []


def _replace(line, span, text):
    return line[:span[0]] + text + line[span[1]:]


BAD_NUMBERS = ["abc", "1.0x", "one", "--5", "1,5", "nan", "NaN", "0x10", "1e", "e5", "1..0", "1.0D+02", "inf"]
BAD_ROW_TYPES = ["X", "LE", "Q", "1", "NN", "GE", "*", "EQ"]


def _generate(name: str, rng: np.random.Generator):
    """(case id, text, expected: 'same' | line number of the error | 'any-line')."""
    text = (DATA / name).read_text()
    lines = text.splitlines()
    data, heads = _sections(lines)
    out = []
    join = lambda ls: "\n".join(ls) + "\n"                                      # noqa: E731
    # cut off: at a line boundary before ENDATA, or in the middle of a line
    end = heads["ENDATA"]
    for k in sorted(set(rng.integers(1, end, 8).tolist())):
        out.append((f"cut-at-line-{k}", join(lines[:k]), "any-line"))
    offsets = rng.integers(1, len(text.split("ENDATA")[0]), 6)
    for off in sorted(set(offsets.tolist())):
        out.append((f"cut-at-byte-{off}", text[:off], "any-line"))
    out.append(("cut-after-endata", join(lines[:end + 1]), "same"))
    # a number replaced by text
    numeric = [(i, sec, sp) for sec in ("COLUMNS", "RHS", "RANGES", "BOUNDS") for i in data.get(sec, [])
               for sp in _numeric_fields(lines[i], sec)]
    for j, k in enumerate(rng.choice(len(numeric), min(len(numeric), 10), replace=False)):
        i, sec, sp = numeric[k]
        bad = BAD_NUMBERS[j % len(BAD_NUMBERS)]
        if bad == "inf" and sec != "COLUMNS":
            bad = "1e400x"
        changed = list(lines)
        changed[i] = _replace(lines[i], sp, bad)
        out.append((f"text-number-{sec}-{i + 1}-{bad}", join(changed), i + 1))
    # invalid row types
    rows = [i for i in data["ROWS"]]
    for j, i in enumerate(rng.choice(rows, min(len(rows), 5), replace=False)):
        changed = list(lines)
        changed[i] = _replace(lines[i], next(re.finditer(r"\S+", lines[i])).span(), BAD_ROW_TYPES[j])
        out.append((f"row-type-{i + 1}-{BAD_ROW_TYPES[j]}", join(changed), i + 1))
    # entries for undeclared rows, bounds of unknown columns
    refs = [(i, sec, sp) for sec in ("COLUMNS", "RHS", "RANGES") for i in data.get(sec, [])
            for sp in _row_fields(lines[i], sec)]
    for k in rng.choice(len(refs), min(len(refs), 5), replace=False):
        i, sec, sp = refs[k]
        changed = list(lines)
        changed[i] = _replace(lines[i], sp, "NOSUCHROW")
        out.append((f"undeclared-row-{sec}-{i + 1}", join(changed), i + 1))
    for i in data.get("BOUNDS", [])[:2]:
        changed = list(lines)
        f = list(re.finditer(r"\S+", lines[i]))
        changed[i] = _replace(lines[i], f[2].span(), "NOSUCHCOL")
        out.append((f"undeclared-column-{i + 1}", join(changed), i + 1))
    # sections repeated (whole, or just the header) or out of order
    for sec in ("ROWS", "COLUMNS", "RHS", "BOUNDS"):
        if sec not in heads:
            continue
        block = [lines[heads[sec]]] + [lines[i] for i in data[sec]]
        changed = lines[:end] + block + lines[end:]
        out.append((f"duplicate-section-{sec}", join(changed), end + 1))
        changed = lines[:end] + [sec] + lines[end:]
        out.append((f"duplicate-header-{sec}", join(changed), end + 1))
    cols = heads["COLUMNS"]
    changed = lines[:heads["ROWS"]] + lines[cols:end] + lines[heads["ROWS"]:cols] + lines[end:]
    out.append(("columns-before-rows", join(changed), heads["ROWS"] + 1))
    changed = list(lines)
    changed.insert(end, "BOGUS")
    out.append(("unknown-section", join(changed), end + 1))
    changed = list(lines)
    i = int(rng.choice(data["COLUMNS"]))
    changed[i] = lines[i].strip()                     # a data line without its leading blank
    out.append((f"unindented-{i + 1}", join(changed), i + 1))
    # harmless
    out.append(("trailing-blanks", join([ln + " " * int(rng.integers(1, 5)) for ln in lines]), "same"))
    out.append(("crlf", "\r\n".join(lines) + "\r\n", "same"))
    out.append(("blank-lines", join([x for ln in lines for x in ([ln, ""] if rng.random() < 0.2 else [ln])]),
                "same"))
    out.append(("comments", join([x for ln in lines for x in (["* note", ln] if rng.random() < 0.2 else [ln])]),
                "same"))
    out.append(("tabs", join([ln if SECTION.match(ln) or not ln.strip() else "\t" + "\t".join(ln.split())
                              for ln in lines]), "same"))
    out.append(("text-after-endata", join(lines + ["whatever follows", "ROWS"]), "same"))
    return out


CASES = [(name, *case) for n, name in enumerate(FILES) for case in _generate(name, np.random.default_rng(260 + n))]


@pytest.fixture(scope="module")
def originals():
    return {name: _read(DATA / name) for name in FILES}


@pytest.mark.parametrize("name,cid,text,expect", CASES, ids=[f"{c[0][:-4]}-{c[1]}" for c in CASES])
def test_corrupted_mps(name, cid, text, expect, originals, tmp_path):
    path = tmp_path / name
    path.write_text(text, newline="")
    if expect == "same":
        _same_lp(_read(path), originals[name])
        return
    with pytest.raises(LPFileError) as info:
        _read(path)
    message = str(info.value)
    assert str(path) in message and message.count("\n") == 0, message
    if expect == "any-line":
        assert re.search(r": line \d+: ", message), message
    else:
        assert f": line {expect}: " in message, message
        assert info.value.line == expect


def test_counts():
    """Enough cases of each kind (generated, so say how many)."""
    kinds = {}
    for _, cid, _, expect in CASES:
        kinds[cid.split("-")[0]] = kinds.get(cid.split("-")[0], 0) + 1
    assert len(CASES) >= 150 and kinds["cut"] >= 40 and kinds["text"] >= 30, kinds


def test_invalid_row_type_is_not_read_as_fixed_mps(tmp_path):
    """The issue's case: the free reader rejected a row type, the fixed retry made another model
    ("optimal 0" where the optimum is 1)."""
    good = ("NAME T\nROWS\n N obj\n G c1\nCOLUMNS\n x obj 1 c1 1\nRHS\n rhs c1 1\nBOUNDS\n LO bnd x 0\nENDATA\n")
    f = tmp_path / "t.mps"
    f.write_text(good)
    assert solve_lp(gp.read_lp(f), solver="highs").objective == pytest.approx(1.0)
    f.write_text(good.replace(" G c1", " X c1"))
    with pytest.raises(LPFileError, match=r"line 4: invalid row type 'X'"):
        gp.read_lp(f)
    assert issubclass(LPFileError, ModelingError) and issubclass(LPFileError, ValueError)


@pytest.mark.parametrize("body,line,what", [
    (" x obj 1 c1 abc\n", 6, "not a number: 'abc'"),
    (" x obj 1 zz 1\n", 6, "row 'zz' is not declared"),
    (" x obj 1 c1 1\n x c1 2\n", 7, "second entry for column 'x' in row 'c1'"),
    (" x obj 1 c1 1\n y c1 1\n x obj 2\n", 8, "column 'x' resumes after other columns"),
    (" x obj 1 c1 1e400\n", 6, "infinite"),
    (" x obj 1 c1\n", 6, "got 4 fields"),
])
def test_messages(tmp_path, body, line, what):
    f = tmp_path / "m.mps"
    f.write_text(f"NAME M\nROWS\n N obj\n G c1\nCOLUMNS\n{body}RHS\n rhs c1 1\nENDATA\n")
    with pytest.raises(LPFileError, match=rf"line {line}: .*{re.escape(what)}"):
        gp.read_lp(f)


def test_cut_off_file(tmp_path):
    f = tmp_path / "m.mps"
    f.write_text(f"NAME M\nROWS\n N obj\n G c1\nCOLUMNS\n x obj 1 c1 1\nRHS\n rhs c1 1\n")
    with pytest.raises(LPFileError, match="line 9: the file ends without ENDATA"):
        gp.read_lp(f)


def test_fixed_mps_with_spaces_in_names(tmp_path):
    """Fixed MPS (names with spaces in their columns) still reads, through HiGHS's fixed parser."""
    def fixed(*fields):                                    # fields at MPS's fixed columns
        line = ""
        for start, field in zip((1, 4, 14, 24, 39, 49), fields):
            line = line.ljust(start) + field
        return line
    text = "\n".join(["NAME          SPACED", "ROWS", fixed("N", "COST"), fixed("G", "LIM 1"), "COLUMNS",
                      fixed("", "X ONE", "COST", "1.0", "LIM 1", "1.0"), "RHS", fixed("", "RHS", "LIM 1", "2.0"),
                      "ENDATA"]) + "\n"
    f = tmp_path / "fixed.mps"
    f.write_text(text)
    lp = gp.read_lp(f)
    assert lp.var_names == ["X ONE"] and lp.row_names == ["LIM 1"]
    assert solve_lp(lp, solver="highs").objective == pytest.approx(2.0)
