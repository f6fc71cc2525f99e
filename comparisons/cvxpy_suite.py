"""cvxpy's own tests with ``import cvxpy`` swapped for ``import gridprox`` (issue 27).

    python comparisons/cvxpy_suite.py                    # default files, highs and pdhg
    python comparisons/cvxpy_suite.py --files test_atoms.py,test_problem.py --paths highs

The tests come from the sdist of the installed cvxpy version (looked for in ``--cache``, else
fetched with ``pip download cvxpy==<installed> --no-deps --no-binary :all:``; hypothesis, which
some of the files import, is read from ``<cache>/site`` when installed there with ``pip install
--target``, so the project's environment is left as it is).  Each test file is
copied with its imports rewritten: ``import cvxpy as cp`` -> ``import gridprox as cp``, ``from
cvxpy import ...`` -> ``from gridprox import ...``, and ``from cvxpy.sub.module import names`` ->
``from gridprox import names`` where gridprox has every one of the names (cvxpy's public classes:
Variable, Problem, SOC, ...), ``import cvxpy.error as e`` -> ``from gridprox import error as e`` where
gridprox's namespace has every name the file reads from it, ``from cvxpy.transforms.x import names`` ->
``from gridprox.transforms import names`` where it has them; imports of cvxpy internals (settings,
reductions, base_test) stay.

Three runs of the same files, each one pytest process with a small plugin:
* ``cvxpy``: the tests unchanged, to learn which pass on this machine (the others are "n/a": a
  missing solver or package) and which are not LPs: a test is non-LP when it builds a non-PWL
  atom of a variable, a product of two variable expressions or a division by one, a cone
  constraint, an integer/boolean/PSD/sparse/diag/complex leaf (asked for, even where cvxpy then
  refuses the leaf's arguments), or solves a problem whose ``is_lp()`` is False.
* ``highs`` / ``pdhg``: swapped; every ``solve(solver=...)`` goes to that gridprox backend
  (pdhg at ``--pdhg-tol``), whatever solver the test names, with cvxpy's solver options dropped.
A swapped test counts as "refused" when it ends in ``gridprox.ModelingError`` (or a subclass:
DPPError, ParameterError).

Then cvxpy's 11 standard LP problems (solver_test_helpers.py: lp_0 ... lp_7, lp_bound_attr and
StandardTestInfeasibleProblems' two LP certificate cases) through the swapped helpers on both
paths, and cvxpy's constant-atom table (test_constant_atoms.py: each atom on constant, variable
and parameter arguments), judged against the table's values; a case is LP-representable when
cvxpy's own problem with variable arguments ``is_lp()``.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from real_models import cache_folder     # this script's folder is first on sys.path

DEFAULT_FILES = ("test_atoms.py test_attributes.py test_bounds.py test_constant.py test_constraints.py "
                 "test_convolution.py test_copy.py test_curvature.py test_dpp.py test_errors.py test_examples.py "
                 "test_expression_methods.py test_expressions.py test_grad.py test_kron_canon.py test_labels.py test_linear_cone.py "
                 "test_matrices.py test_monotonicity.py test_nd_matmul.py test_objectives.py "
                 "test_parametric_bounds.py test_problem.py test_shape.py test_sign.py test_zero_sized.py").split()

# -------------------------------------------------------------------------------------- sdist
def tests_folder(cache: Path) -> Path:
    """cvxpy/tests of the installed version's sdist, unpacked in ``cache``."""
    import cvxpy
    from gridprox.core.private_files import unpack_sdist

    version = cvxpy.__version__
    out = cache / f"cvxpy-{version}" / "cvxpy" / "tests"
    if out.exists():
        return out
    # --no-build-isolation: pip reads the sdist's metadata with this environment's setuptools
    # instead of installing cvxpy's build requirements
    try:
        unpack_sdist("cvxpy", version, cache, lambda m: m.startswith(f"cvxpy-{version}/cvxpy/tests/"),
                     ("--no-build-isolation",))
    except LookupError as exc:
        sys.exit(str(exc))
    return out


# ------------------------------------------------------------------------------ import swap
_PUBLIC_MODULES = ("expressions", "atoms", "constraints", "problems", "error")
_NAMESPACES = ("transforms",)       # cvxpy's subpackages gridprox has as namespaces of their own names


def _gridprox_has(names) -> bool:
    """gridprox has every one of ``names`` (dotted: an attribute of a namespace)."""
    import gridprox

    def has(name):
        obj = gridprox
        for part in name.split("."):
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    return all(has(n) for n in names)


def swap_imports(source: str) -> str:
    """``source`` with its cvxpy imports pointed at gridprox (see the module docstring)."""
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(ast.parse(source)):
        pad = " " * getattr(node, "col_offset", 0)
        if isinstance(node, ast.Import) and any(a.name == "cvxpy" for a in node.names):
            if len(node.names) != 1:
                continue
            alias = node.names[0].asname or "cvxpy"
            edits.append((node, f"{pad}import gridprox as {alias}\n"))
        elif isinstance(node, ast.Import) and len(node.names) == 1 and node.names[0].asname and \
                node.names[0].name.count(".") == 1 and node.names[0].name.split(".")[1] in _PUBLIC_MODULES:
            # import cvxpy.error as error: gridprox's namespace of that name, when it has every
            # name the file reads from it
            sub, alias = node.names[0].name.split(".")[1], node.names[0].asname
            used = {n.attr for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute)
                    and isinstance(n.value, ast.Name) and n.value.id == alias}
            if _gridprox_has([sub]) and _gridprox_has([f"{sub}.{u}" for u in used]):
                edits.append((node, f"{pad}from gridprox import {sub} as {alias}\n"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and (
                node.module == "cvxpy" or node.module.startswith("cvxpy.")):
            names = [a.name for a in node.names]
            listed = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
            sub = node.module.split(".")[1] if node.module != "cvxpy" else None
            if sub in _NAMESPACES and _gridprox_has([f"{sub}.{n}" for n in names]):
                # from cvxpy.transforms.partial_optimize import partial_optimize: gridprox.transforms's
                edits.append((node, f"{pad}from gridprox.{sub} import {listed}\n"))
            elif sub is None or (sub in _PUBLIC_MODULES and _gridprox_has(names)):
                edits.append((node, f"{pad}from gridprox import {listed}\n"))
    for node, text in sorted(edits, key=lambda e: -e[0].lineno):
        lines[node.lineno - 1:node.end_lineno] = [text]
    return "".join(lines)


# --------------------------------------------------------------------------- pytest plugin
PLUGIN = r'''
import json, os, signal, sys
import pytest

MODE = os.environ["SUITE_MODE"]
OUT = os.environ["SUITE_OUT"]
LIMIT = int(os.environ.get("SUITE_TIMEOUT", "60"))
records, current = {}, {"id": None}
nonlp = set()


def _flag(why):
    if current["id"] is not None:
        nonlp.add(current["id"])


if MODE == "cvxpy":
    import cvxpy
    from cvxpy.atoms.atom import Atom
    from cvxpy.expressions.leaf import Leaf
    _atom_init, _leaf_init, _solve = Atom.__init__, Leaf.__init__, cvxpy.Problem.solve
    NON_LP_ATTRS = ("integer", "boolean", "PSD", "NSD", "symmetric", "hermitian", "complex", "imag", "diag",
                    "sparsity")

    from cvxpy.atoms.affine.binary_operators import DivExpression, MulExpression, multiply

    def atom_init(self, *args, **kwargs):
        _atom_init(self, *args, **kwargs)
        try:
            if not self.is_constant() and not self.is_pwl():
                _flag(type(self).__name__)
            # cvxpy calls a product of two variable expressions piecewise linear; it is quadratic
            if isinstance(self, (MulExpression, multiply)) and sum(not a.is_constant() for a in self.args) > 1:
                _flag("product")
            if isinstance(self, DivExpression) and not self.args[1].is_constant():
                _flag("division")
        except Exception:
            pass

    def leaf_init(self, *args, **kwargs):
        # asked for, the attribute makes the test non-LP even when cvxpy refuses its arguments
        if any(kwargs.get(a) is not None and kwargs.get(a) is not False for a in NON_LP_ATTRS):
            _flag("leaf")
        _leaf_init(self, *args, **kwargs)
        if any(self.attributes.get(a) not in (None, False) for a in NON_LP_ATTRS) or self.is_complex():
            _flag("leaf")

    def solve(self, *args, **kwargs):
        try:
            if not self.is_lp() or self.is_mixed_integer():
                _flag("problem")
        except Exception:
            _flag("problem")
        return _solve(self, *args, **kwargs)

    Atom.__init__, Leaf.__init__, cvxpy.Problem.solve = atom_init, leaf_init, solve
    for name in ("SOC", "PSD", "ExpCone", "PowCone3D", "PowConeND", "RelEntrConeQuad", "OpRelEntrConeQuad",
                 "FiniteSet"):
        cls = getattr(cvxpy.constraints, name, None)
        if cls is not None:
            def cone_init(self, *a, __init=cls.__init__, **k):
                _flag("cone")
                __init(self, *a, **k)
            cls.__init__ = cone_init
else:
    import gridprox
    import gridprox.problems.problem as P
    _resolve = P.resolve_solver

    def resolve(solver, opts, previous=None):
        # whatever solver the test names, the path under test solves it; cvxpy's options dropped
        keep = {k: v for k, v in opts.items() if k == "warm_start"}
        if MODE == "pdhg":
            keep["tol"] = float(os.environ["SUITE_PDHG_TOL"])
        return _resolve(MODE, keep, previous)

    P.resolve_solver = resolve


def _alarm(signum, frame):
    raise TimeoutError(f"test ran past {LIMIT} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    current["id"] = item.nodeid
    yield
    current["id"] = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)


def pytest_runtest_logreport(report):
    rec = records.setdefault(report.nodeid, {"outcome": "passed", "error": ""})
    if report.failed and rec["outcome"] != "failed":
        rec["outcome"] = "failed"
        exc = getattr(report, "_exc", None)
        rec["error"] = exc or ""
        rec["refused"] = getattr(report, "_refused", False)
    elif report.skipped and rec["outcome"] == "passed":
        rec["outcome"] = "skipped"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        t = call.excinfo.type
        rep._exc = f"{t.__module__}.{t.__qualname__}: {str(call.excinfo.value).splitlines()[0][:160] if str(call.excinfo.value) else ''}"
        # refused: gridprox.ModelingError or one of its kinds (DPPError, ParameterError)
        rep._refused = MODE != "cvxpy" and call.excinfo.errisinstance(gridprox.ModelingError)


def pytest_sessionfinish(session, exitstatus):
    for nid in nonlp:
        if nid in records:
            records[nid]["nonlp"] = True
    with open(OUT, "w") as f:
        json.dump(records, f)
'''


def run_path(mode: str, tests: Path, files, work: Path, opts) -> dict:
    """Outcomes {nodeid: record} of ``files`` run as ``mode`` ("cvxpy", "highs", "pdhg")."""
    folder = work / f"run-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        text = (tests / f).read_text()
        (folder / f).write_text(text if mode == "cvxpy" else swap_imports(text))
    (folder / "conftest.py").write_text(PLUGIN)
    out = work / f"outcomes-{mode}.json"
    env = dict(os.environ, SUITE_MODE=mode, SUITE_OUT=str(out), SUITE_TIMEOUT=str(opts.timeout),
               SUITE_PDHG_TOL=str(opts.pdhg_tol), PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    if opts.site.exists():          # hypothesis, which some of cvxpy's test files import
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(opts.site), os.environ.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder),
           "--continue-on-collection-errors",
           "-W", "ignore", "--tb=no", "-o", "addopts=", *files]
    t0 = time.time()
    run = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    print(f"  {mode}: {time.time() - t0:.0f} s, {run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ''}",
          file=sys.stderr)
    if not out.exists():
        sys.exit(f"pytest ({mode}) wrote no outcomes:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return json.loads(out.read_text())


def classify(ref: dict, got: dict) -> str:
    if got is None:
        return "fail"
    if got["outcome"] == "passed":
        return "pass"
    if got.get("refused"):
        return "refused"
    return "skip" if got["outcome"] == "skipped" else "fail"


def suite_table(files, ref, paths_out) -> tuple[list[str], dict]:
    """Markdown rows per file and the totals."""
    totals = defaultdict(Counter)
    rows = []
    head = "| file | tests | n/a | LP | " + " | ".join(f"LP {p}: pass / refused / fail" for p in paths_out) + \
           " | non-LP | " + " | ".join(f"non-LP {p}: refused / pass / fail" for p in paths_out) + " |"
    rows.append(head)
    rows.append("|" + "---|" * (head.count("|") - 1))
    for f in files:
        ids = [i for i in ref if i.split("::")[0] == f]
        c = defaultdict(Counter)
        for i in ids:
            r = ref[i]
            if r["outcome"] != "passed":
                c["all"]["n/a"] += 1
                continue
            kind = "nonlp" if r.get("nonlp") else "lp"
            c["all"][kind] += 1
            for p, out in paths_out.items():
                c[(kind, p)][classify(r, out.get(i))] += 1
        for k, v in c.items():
            totals[k].update(v)
        rows.append(_row(f, len(ids), c, paths_out))
    rows.append(_row("**all**", sum(totals["all"].values()), totals, paths_out))
    return rows, totals


def _row(name, n, c, paths_out):
    lp = " | ".join(f"{c[('lp', p)]['pass']} / {c[('lp', p)]['refused']} / {c[('lp', p)]['fail'] + c[('lp', p)]['skip']}"
                    for p in paths_out)
    nl = " | ".join(f"{c[('nonlp', p)]['refused']} / {c[('nonlp', p)]['pass']} / "
                    f"{c[('nonlp', p)]['fail'] + c[('nonlp', p)]['skip']}" for p in paths_out)
    return f"| {name} | {n} | {c['all']['n/a']} | {c['all']['lp']} | {lp} | {c['all']['nonlp']} | {nl} |"


# ----------------------------------------------------------------- standard LPs, atom table
def _load(path: Path, name: str, swapped: bool):
    source = path.read_text()
    if swapped:
        source = swap_imports(source)
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def standard_lps(tests: Path, paths, pdhg_tol) -> dict:
    """{problem: {path: "pass" | error}} for cvxpy's 11 standard LP problems."""
    import cvxpy
    helpers = {"cvxpy": _load(tests / "solver_test_helpers.py", "cvxpy_helpers", False),
               "gridprox": _load(tests / "solver_test_helpers.py", "gridprox_helpers", True)}

    def lp_7(H, solver, **kw):    # StandardTestLPs.test_lp_7 needs SDPA's sdpap; the same checks without it
        sth = H.lp_7()
        sth.solve(solver, **kw)
        sth.verify_objective(4)

    cases = {f"lp_{k}": (lambda k: lambda H, solver, **kw: getattr(H.StandardTestLPs, f"test_lp_{k}")(solver, **kw))(k)
             for k in (0, 1, 2, 3, 4, 5, 6)}
    cases["lp_7"] = lp_7
    cases["lp_bound_attr"] = lambda H, solver, **kw: H.StandardTestLPs.test_lp_bound_attr(solver, **kw)
    cases["infeasible_ineq (Farkas)"] = \
        lambda H, solver, **kw: H.StandardTestInfeasibleProblems.test_lp_ineq_constraints(solver)
    cases["infeasible_eq (Farkas)"] = \
        lambda H, solver, **kw: H.StandardTestInfeasibleProblems.test_lp_eq_constraints(solver)
    out = {}
    for name, case in cases.items():
        out[name] = {}
        for path in ("cvxpy", *paths):
            H = helpers["cvxpy" if path == "cvxpy" else "gridprox"]
            solver = {"cvxpy": cvxpy.HIGHS, "highs": "highs", "pdhg": "pdhg"}[path]
            kw = {"tol": pdhg_tol} if path == "pdhg" else {}
            if name.startswith("infeasible"):
                kw = {}
            try:
                case(H, solver, **kw)
                out[name][path] = "pass"
            except Exception as exc:  # noqa: BLE001 - every failure is a row of the table
                out[name][path] = _short(exc)
    return out


def _short(exc) -> str:
    text = str(exc).strip().splitlines()[0][:110] if str(exc).strip() else ""
    kind = "refused" if type(exc).__name__ == "ModelingError" else type(exc).__name__
    return f"{kind}: {text}".replace("|", "/")


def constant_atoms(tests: Path, paths, pdhg_tol) -> dict:
    """Counts per path of cvxpy's constant-atom table cases: pass / refused / fail, for the
    LP-representable cases and the others."""
    import warnings

    import numpy as np
    warnings.simplefilter("ignore")
    import cvxpy
    import gridprox
    ref = _load(tests / "test_constant_atoms.py", "cvxpy_constant_atoms", False)
    try:
        mod = _load(tests / "test_constant_atoms.py", "gridprox_constant_atoms", True)
    except Exception as exc:  # noqa: BLE001
        return {"error": _short(exc)}
    table_ref = ref.atoms_minimize + ref.atoms_maximize
    table = mod.atoms_minimize + mod.atoms_maximize
    counts = defaultdict(Counter)
    failures = defaultdict(list)
    for (info_r, _), (info, sense) in zip(table_ref, table):
        atom_r, size, args, _ = info_r
        atom, _, _, obj_val = info
        variables = [cvxpy.Variable(cvxpy.Constant(a).shape) for a in args]
        try:
            expr = atom_r(*variables)
            is_lp = cvxpy.Problem(cvxpy.Minimize(0), [expr <= 0] if expr.is_convex() else [expr >= 0]).is_lp()
        except Exception:  # noqa: BLE001
            is_lp = False
        kind = "lp" if is_lp else "nonlp"
        for path in paths:
            verdict, why = "pass", ""
            try:
                for indexer in ref.get_indices(size):
                    v = np.asarray(obj_val.value)
                    want = float(v[indexer]) if size else float(v.reshape(-1)[0])
                    for form in ("constant", "variable", "parameter"):
                        if form == "constant":
                            leaves, cons = [gridprox.Constant(a) for a in args], []
                        elif form == "variable":
                            leaves = [gridprox.Variable(gridprox.Constant(a).shape) for a in args]
                            cons = [v == a for v, a in zip(leaves, args)]
                        else:
                            leaves = [gridprox.Parameter(gridprox.Constant(a).shape) for a in args]
                            for p, a in zip(leaves, args):
                                p.value = gridprox.Constant(a).value
                            cons = []
                        e = atom(*leaves)
                        prob = gridprox.Problem(sense(e[indexer] if size else e), cons)
                        kw = {"tol": pdhg_tol} if path == "pdhg" else {}
                        got = prob.solve(solver=path, **kw)
                        if not (prob.status == "optimal" and abs(got - want) <= 1e-6 * (1 + abs(want))):
                            verdict, why = "fail", f"{form}: {prob.status} {got} vs {want}"
                            raise StopIteration
            except StopIteration:
                pass
            except Exception as exc:  # noqa: BLE001
                verdict = "refused" if type(exc).__name__ == "ModelingError" else "fail"
                why = _short(exc)
            counts[(kind, path)][verdict] += 1
            if verdict == "fail" or (verdict == "refused" and kind == "lp"):
                failures[path].append(f"{getattr(atom_r, '__name__', atom_r)} {sense.__name__} {size}: {why}")
    return {"counts": {f"{k[0]} {k[1]}": dict(v) for k, v in counts.items()}, "failures": dict(failures)}


# ------------------------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path,
                    help="where the sdist and the rewritten test copies are kept (default: "
                    "~/.cache/gridprox/cvxpy-suite; this user's alone: its test files run)")
    ap.add_argument("--files", default=",".join(DEFAULT_FILES), help="test files, comma-separated, or 'all'")
    ap.add_argument("--paths", default="highs,pdhg", help="gridprox backends to run the tests on")
    ap.add_argument("--pdhg-tol", type=float, default=1e-8)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per test")
    ap.add_argument("--skip-suite", action="store_true", help="only the standard LPs and the atom table")
    ap.add_argument("--json", type=Path, help="write every outcome here")
    opts = ap.parse_args(argv)
    opts.cache = cache_folder(opts.cache, "cvxpy-suite")     # its test files run: this user's alone
    opts.site = opts.cache / "site"
    if not opts.site.exists() and not opts.skip_suite:
        # without it test_expressions.py and test_shape.py are not collected (1094 tests, not 1262)
        print(f"note: no hypothesis in {opts.site}: files importing it are left out; "
              f"pip install --target {opts.site} hypothesis", file=sys.stderr)
    tests = tests_folder(opts.cache)
    files = sorted(p.name for p in tests.glob("test_*.py")) if opts.files == "all" else opts.files.split(",")
    paths = opts.paths.split(",")
    import cvxpy
    print(f"cvxpy {cvxpy.__version__} tests from its sdist; gridprox paths {paths} (pdhg tol {opts.pdhg_tol})\n")
    dump = {}
    if not opts.skip_suite:
        ref = run_path("cvxpy", tests, files, opts.cache, opts)
        outs = {p: run_path(p, tests, files, opts.cache, opts) for p in paths}
        rows, totals = suite_table(files, ref, outs)
        print("\n".join(rows))
        lp = totals["all"]["lp"]
        for p in paths:
            c = totals[("lp", p)]
            print(f"\n{p}: {c['pass']} of {lp} LP tests pass ({100 * c['pass'] / max(lp, 1):.0f} %), "
                  f"{c['refused']} refused, {c['fail'] + c['skip']} fail; non-LP tests: "
                  f"{totals[('nonlp', p)]['refused']} of {totals['all']['nonlp']} refused with ModelingError")
        common = Counter(outs[paths[0]][i]["error"].split(":")[0] + ": " + outs[paths[0]][i]["error"].split(":", 1)[-1][:70]
                         for i in ref if ref[i]["outcome"] == "passed" and not ref[i].get("nonlp")
                         and classify(ref[i], outs[paths[0]].get(i)) == "fail" and i in outs[paths[0]])
        print(f"\nmost common failures of LP tests ({paths[0]}):")
        for msg, n in common.most_common(25):
            print(f"  {n:3d}  {msg}")
        dump.update(reference=ref, **outs)
    std = standard_lps(tests, paths, opts.pdhg_tol)
    print("\n| cvxpy standard LP | cvxpy (HiGHS) | " + " | ".join(f"gridprox {p}" for p in paths) + " |")
    print("|---|---|" + "---|" * len(paths))
    for name, res in std.items():
        print(f"| {name} | " + " | ".join(res[p] for p in ("cvxpy", *paths)) + " |")
    for p in paths:
        print(f"{p}: {sum(r[p] == 'pass' for r in std.values())} of {len(std)} standard LPs pass")
    atoms = constant_atoms(tests, paths, opts.pdhg_tol)
    print("\ncvxpy's constant-atom table:")
    for key, c in sorted(atoms.get("counts", {}).items()):
        print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    for p, fails in atoms.get("failures", {}).items():
        for f in fails:
            print(f"  {p} failed: {f}")
    if "error" in atoms:
        print("  " + atoms["error"])
    if opts.json:
        opts.json.write_text(json.dumps(dict(dump, standard=std, constant_atoms=atoms), indent=1, default=str))


if __name__ == "__main__":
    main()
