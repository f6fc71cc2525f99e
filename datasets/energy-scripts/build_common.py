"""Steps shared by the build_*.py scripts: write a dataset folder (and check it reads back
identically) and compute PyPSA reference optima for the stored ``reference`` block."""
from __future__ import annotations

import platform
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from gridprox.energy.system import SCHEMA, System, read_system  # noqa: E402

from pypsa_network import pypsa_optimum  # noqa: E402

DATASETS = REPO / "datasets"
TEST_HORIZON = {"model-energy": 730, "de-stochastic": 730, "three-country": 336}


def table_files(*tables: str) -> dict:
    """system.yaml's ``files``: each table in a CSV of its own name."""
    return {t: f"{t}.csv" for t in tables}


def tool_versions() -> str:
    import highspy
    import linopy
    import pypsa
    from importlib.metadata import version

    return (f"PyPSA {pypsa.__version__}, linopy {linopy.__version__}, highspy {version('highspy')}, "
            f"Python {platform.python_version()}")


def write_dataset(system: System, readme: str) -> Path:
    """Replace the dataset folder's tables, write README.md, and check the round trip."""
    folder = system.to_folder(DATASETS / system.name)
    (folder / "README.md").write_text(readme)
    assert_same(system, read_system(folder))
    return folder


def assert_same(a: System, b: System):
    """Two Systems hold identical data (tables, time series, scenarios, metadata)."""
    kw = dict(check_dtype=False, check_column_type=False, check_index_type=False, check_freq=False)
    for name in (*SCHEMA, "snapshots", "demand", "availability"):
        left, right = getattr(a, name), getattr(b, name)
        if name in SCHEMA:
            cols = [c.name for c in SCHEMA[name].columns if c.name in left.columns]
            left, right = left[cols].rename_axis(columns=None), right[cols].rename_axis(columns=None)
        pd.testing.assert_frame_equal(left, right, **kw, obj=name)
    assert a.meta == b.meta, "system.yaml differs"


def truncate(n, first: int):
    """First ``first`` snapshots of a PyPSA network, objective/generator weights rescaled to the
    full horizon and store weights kept: the same operation as ``System.first``."""
    w = n.snapshot_weightings.copy()
    n.set_snapshots(n.snapshots[:first])
    kept = w.iloc[:first]
    for col in ("objective", "generators"):
        n.snapshot_weightings[col] = kept[col] * (w["objective"].sum() / kept["objective"].sum())
    n.snapshot_weightings["stores"] = kept["stores"]
    return n


def optimum(case: str, network, source: str, snapshots: int, scenario=None, solver_options=None) -> dict:
    """Solve ``network`` with PyPSA + HiGHS; the entry stored under reference.optima."""
    res = pypsa_optimum(network, solver_options)
    if res["status"] != "ok":
        raise RuntimeError(f"{case}: PyPSA status {res['status']} ({res['condition']})")
    print(f"  {case}: objective {res['objective']!r} in {res['seconds_total']:.1f} s "
          f"({res['variables']} variables, {res['constraints']} constraints)")
    return {"case": case, "scenario": scenario, "snapshots": snapshots, "source": source,
            "objective": res["objective"], "variables": res["variables"], "constraints": res["constraints"],
            "seconds_pypsa_total": round(res["seconds_total"], 2),
            "seconds_highs": round(res["seconds_solver"], 2),
            "capacities": {k: float(v) for k, v in res["capacities"].items()}}


def fmt_optima(optima: list[dict]) -> str:
    """A Markdown table of reference optima for the READMEs."""
    lines = ["| case | scenario | snapshots | objective | PyPSA build+solve s | HiGHS s |",
             "|---|---|---|---|---|---|"]
    for o in optima:
        lines.append(f"| {o['case']} | {o['scenario'] or '-'} | {o['snapshots']} | {o['objective']:,.6f} | "
                     f"{o['seconds_pypsa_total']} | {o['seconds_highs']} |")
    return "\n".join(lines)
