"""The README's cvxpy-syntax example runs as printed and gives cvxpy+HiGHS's optimum."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _run(code: str) -> dict:
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    return scope


def test_cvxpy_example_runs_and_matches_cvxpy(capsys):
    code = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    assert "import gridprox as cp" in code
    ours = _run(code)
    theirs = _run(code.replace("import gridprox as cp", "import cvxpy as cp")
                  .replace('solver="pdhg", tol=1e-6', 'solver="HIGHS"'))
    assert ours["prob"].status == theirs["prob"].status == "optimal"
    assert ours["prob"].value == pytest.approx(theirs["prob"].value, rel=1e-5)
    assert ours["price"].mean() == pytest.approx(theirs["price"].mean(), rel=1e-4)
    assert ours["price"].min() >= -1e-6  # a price, in EUR/MWh
