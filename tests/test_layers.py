"""Imports flow one way (DESIGN.md): every module of gridprox/ and imaging/ is read with
``ast`` and its imports checked against the layers below, so a new upward import or import
cycle fails here rather than in a later, confusing ImportError."""
import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# module (or package prefix) -> layer; the longest matching prefix wins ("gridprox" matches only
# the package itself), and a module that matches none fails test_every_module_has_a_layer, so
# each new module is placed on purpose
LAYER_OF = {
    "gridprox": "api",                      # the package's __init__: the public names, re-exported
    "gridprox.errors": "base",
    "gridprox.logs": "base",                # the "gridprox" logger tree, for every layer
    "gridprox.core": "core",
    "gridprox.lp": "lp",
    "gridprox.modeling": "modeling",
    "gridprox.modeling.demo": "apps",       # an example model (cp = cvxpy or gridprox) on gridprox.synthetic's data
    "gridprox.compile": "compile",
    "gridprox.solvers": "solvers",
    "gridprox.interop.cvxpy_export": "export",
    "gridprox.problems": "problems",
    "gridprox.interop": "interop",
    "gridprox.energy": "apps",
    "gridprox.sweep": "apps",
    "gridprox.synthetic": "apps",
    "gridprox.datasets": "apps",
    "gridprox.plots": "apps",
    "gridprox.cli": "apps",
    "gridprox.__main__": "apps",
    "imaging": "imaging",
}

# layer -> the other layers it may import
_BELOW_APPS = {"base", "core", "lp", "modeling", "compile", "solvers", "export", "problems", "interop"}
MAY_IMPORT = {
    "base": set(),
    "core": {"base"},                                   # torch only
    "lp": {"core", "base"},                             # the LP solver, on core's sparse operators and threads
    "modeling": {"base"},                               # numpy/scipy only
    "compile": {"modeling", "base"},
    "solvers": {"compile", "lp", "core", "base"},       # backends see a LinearProgram, never an expression
    "export": {"modeling", "base"},                     # gridprox -> cvxpy, used by Problem.to_cvxpy
    "problems": {"modeling", "compile", "solvers", "export", "base"},
    "interop": {"problems", "export", "modeling", "compile", "solvers", "base"},
    "apps": _BELOW_APPS,
    "api": _BELOW_APPS | {"apps"},
    "imaging": {"core", "base"},                        # gridprox.core's public names; not the LP solver
}

# third-party packages a low layer may import (stdlib always; higher layers are not limited)
THIRD_PARTY = {
    "base": set(),
    "core": {"torch"},
    "lp": {"torch"},
    "modeling": {"numpy", "scipy"},
    "compile": {"numpy", "scipy"},
    "export": {"numpy", "scipy"},
    "problems": {"numpy", "scipy"},
}

# (importer, imported) -> why; each is an import inside a function, never at module level
EXCEPTIONS = {
    ("gridprox.modeling", "gridprox.problems"):
        "modeling.__getattr__ forwards gridprox.modeling.Problem for energy/, which still builds its "
        "Problem through `from .. import modeling as gp`; remove when energy imports gridprox.problems",
}
LAZY_THIRD_PARTY = {
    ("gridprox.interop.cvxpy_export", "cvxpy"):
        "cvxpy is loaded only when a model is converted, so `import gridprox` does not pay for it",
}

# the one module of gridprox.modeling allowed to import inside functions (cvxpy's cvxtypes pattern)
MODELING_REGISTRY = "gridprox.modeling.cvxtypes"


def _modules():
    out = {}
    for top in ("gridprox", "imaging"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_pkg = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _nearest_module(name):
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


class _Imports(ast.NodeVisitor):
    """(target, in_function, lineno, names) for every import of a module; ``if
    TYPE_CHECKING:`` blocks count as function-level (they never run at import)."""

    def __init__(self, module, is_pkg):
        self.module, self.is_pkg, self.depth, self.found = module, is_pkg, 0, []

    def _nested(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _nested

    def visit_If(self, node):
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            return self._nested(node)
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.found.append((alias.name, self.depth > 0, node.lineno, ()))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.module.split(".")
            base = base if self.is_pkg else base[:-1]
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            target = sub if sub in MODULES else source
            self.found.append((target, self.depth > 0, node.lineno, (alias.name,)))


def _imports():
    """module -> list of (raw target, gridprox/imaging module or None, in_function, lineno, names)."""
    out = {}
    for module, (path, is_pkg) in MODULES.items():
        visitor = _Imports(module, is_pkg)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        out[module] = [(raw, _nearest_module(raw) if raw.split(".")[0] in ("gridprox", "imaging") else None,
                        inner, line, names) for raw, inner, line, names in visitor.found]
    return out


IMPORTS = _imports()


def _layer(module):
    keys = [k for k in LAYER_OF if module == k or (module.startswith(k + ".") and k != "gridprox")]
    return LAYER_OF[max(keys, key=len)] if keys else None


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) is None] == []


def test_no_import_cycles_at_module_level():
    graph = {m: {t for _, t, inner, _, _ in IMPORTS[m] if t and not inner and t != m} for m in MODULES}
    # Tarjan's strongly connected components, iteratively
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == [], "modules that import each other at module level"


def test_no_module_imports_a_higher_layer():
    """Module-level and function-level imports alike; EXCEPTIONS lists the few allowed."""
    bad, used = [], set()
    for module, found in IMPORTS.items():
        layer = _layer(module)
        for _, target, inner, line, names in found:
            if target is None or target == module:
                continue
            if target == "gridprox" and names and all(n.startswith("__") for n in names):
                continue                  # metadata (__version__), not the package's API
            other = _layer(target)
            if other == layer or other in MAY_IMPORT[layer]:
                continue
            key = (module, target)
            if key in EXCEPTIONS and inner:
                used.add(key)
                continue
            bad.append(f"{module}:{line} ({layer}) imports {target} ({other})"
                       + ("" if inner else " at module level"))
    assert bad == []
    assert set(EXCEPTIONS) == used, "an exception no longer needed: remove it"


def test_low_layers_use_only_their_own_third_party_packages():
    std = set(sys.stdlib_module_names) | {"__future__"}
    bad, used = [], set()
    for module, found in IMPORTS.items():
        allowed = THIRD_PARTY.get(_layer(module))
        if allowed is None:
            continue
        for raw, target, inner, line, _ in found:
            top = raw.split(".")[0]
            if target is not None or top in std or top in allowed:
                continue
            if inner and (module, top) in LAZY_THIRD_PARTY:
                used.add((module, top))
                continue
            bad.append(f"{module}:{line} imports {raw}" + ("" if inner else " at module level"))
    assert bad == []
    assert set(LAZY_THIRD_PARTY) == used, "an exception no longer needed: remove it"


def test_modeling_imports_inside_functions_only_through_its_registry():
    """Within gridprox.modeling, the cycle between Expression and the classes its operators
    build is broken in one place (cvxtypes), not by scattered function-level imports."""
    bad = [f"{module}:{line} imports {target} inside a function"
           for module, found in IMPORTS.items() if _layer(module) == "modeling" and module != MODELING_REGISTRY
           for _, target, inner, line, _ in found
           if inner and target is not None and (module, target) not in EXCEPTIONS]
    assert bad == []


def test_imaging_uses_only_public_names_of_gridprox():
    bad = []
    for module, found in IMPORTS.items():
        if _layer(module) != "imaging":
            continue
        aliases = set()
        for raw, target, _, line, names in found:
            if target is None or not target.startswith("gridprox"):
                continue
            if any(part.startswith("_") for part in raw.split(".")) or any(n.startswith("_") for n in names):
                bad.append(f"{module}:{line} imports a private name from {raw}")
        tree = ast.parse(MODULES[module][0].read_text())
        for node in ast.walk(tree):       # names bound to gridprox modules: `from gridprox.core import splitting as S`
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                source = node.module if isinstance(node, ast.ImportFrom) else None
                for alias in node.names:
                    full = f"{source}.{alias.name}" if source else alias.name
                    if full.startswith("gridprox") and full in MODULES:
                        aliases.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")):
                bad.append(f"{module}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert bad == []


def test_import_gridprox_loads_neither_cvxpy_nor_the_application_layers():
    """Problem imports interop.cvxpy_export at load; cvxpy, pandas-based energy models and the
    sweep machinery still wait until they are used."""
    code = ("import sys, gridprox; print(sorted(m for m in ('cvxpy', 'gridprox.energy', 'gridprox.sweep', "
            "'gridprox.interop.cvxpy_solver') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_c_source_is_package_data():
    """The kernels are compiled on first use from their .c files: a file the wheel leaves out
    sends an installed gridprox quietly to the slower torch path."""
    import fnmatch
    import tomllib
    root = pathlib.Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["gridprox"]
    sources = [p.relative_to(root / "gridprox").as_posix() for p in (root / "gridprox").rglob("*.c")]
    assert sources
    assert [s for s in sources if not any(fnmatch.fnmatch(s, pat) for pat in patterns)] == []
