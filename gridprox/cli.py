"""The ``gridprox`` command: list datasets, solve, sweep, compare solvers, verify.

It talks through the "gridprox" logger on stderr: what it loads, builds and solves, the solver's
progress and the first-use kernel build, on a terminal (``--verbose`` anywhere, ``--quiet``
nowhere); results go to stdout.

Exit codes: 0 success; 1 the model was solved but is not optimal (infeasible,
unbounded, limit reached) or a verification failed; 2 bad input (unknown system,
malformed folder, bad option, unavailable solver or device, an --out that cannot be
written) or a file system that refuses (disk full, no permission) — reported in one line,
without a traceback; 130 interrupted (Ctrl-C); 141 stdout closed early (``| head``), quietly.
"""
from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import re
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Optional, Sequence

from . import logs

log = logs.get("cli")

EXIT_OK, EXIT_NOT_OPTIMAL, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141
SOLVERS = ("pdhg", "highs", "concurrent", "cvxpy", "gurobi")


class UserError(Exception):
    """A mistake in the command line or the input files: one line, exit 2."""


# ------------------------------------------------------------ option value types
# argparse turns an ArgumentTypeError into "argument --x: message", one line, exit 2.
def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):     # "nan", "inf" and overflowing "1e400" alike
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _tolerance(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"tolerance must be between 0 and 1 (e.g. 1e-4), got {text!r}")
    return value


def _nonnegative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}")
    return value


def _count(text: str, most: Optional[int] = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"must be at most {most}, got {text!r}")
    return value


def _step(text: str) -> str:
    if not text.strip():      # an empty step would silently mean "no resampling"
        raise argparse.ArgumentTypeError("needs a step such as 3h, 30min or 1d")
    return text.strip()


def _workers(text: str) -> int:
    return _count(text, most=4 * (os.cpu_count() or 1))   # each is a process: a typo must not fork thousands


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def _device_name(text: str) -> str:
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use auto, cpu, cuda, cuda:N or mps")
    return text


_ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})")


def _address(text: str) -> str:
    m = _ADDRESS.fullmatch(text)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address; use HOST:PORT or "
                                         f"tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    return text


def _param(text: str) -> tuple:
    from .sweep import parse_param
    try:
        name, values = parse_param(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(_msg(exc)) from None
    negative = next((v for v in values if v < 0), None)
    if negative is not None:    # every sweepable input is a cost, price, scale, cap or share
        raise argparse.ArgumentTypeError(f"bad parameter {text!r}: {negative:g} is negative; "
                                         f"swept values must be >= 0")
    return name, values


# --------------------------------------------------------------------- helpers
def _writable_folder(path: str) -> Path:
    """Create ``path`` (a folder) and check a file can be written there, before any work."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {path}: is a file, not a folder")
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if not out.exists() and parent is not None and not parent.is_dir():
        raise UserError(f"--out {path}: {parent} is a file, not a folder")
    probe = out / f".gridprox-write-test-{uuid.uuid4().hex[:8]}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
    except OSError as exc:
        raise UserError(f"--out {path}: cannot write there ({exc.strerror or exc})") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    return out


RESULT_FILES = ("summary.csv", "summary.parquet", "capacity.csv", "capacity.parquet", "pypsa", "plots")


def _fresh_results_folder(path: str, force: bool) -> None:
    """Refuse an --out that holds an earlier run's results unless --force: a solve must not
    silently replace tables and plots someone may still be reading."""
    out = Path(path)
    if force or not out.is_dir():
        return
    found = [name for name in RESULT_FILES if (out / name).exists()]
    if found:
        raise UserError(f"--out {path}: holds results of an earlier run ({found[0]}); pass --force to "
                        f"overwrite them, or choose another folder")


def _load(system: str):
    from . import datasets
    t0 = time.perf_counter()
    try:
        loaded = datasets.load_system(system)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise UserError(_msg(exc)) from None
    info = loaded.describe()
    buses = info["buses"]
    log.info("loaded %s: %d bus%s, %s snapshots of %s (%.1f s)", loaded.name, buses, "" if buses == 1 else "es",
             f"{info['snapshots']:,}", _resolution(loaded), time.perf_counter() - t0)
    return loaded


def _resolution(system) -> str:
    """The snapshots' duration: '3 h', '1 h', or 'mixed' (representative periods, irregular steps)."""
    durations = system.snapshots["duration"].to_numpy(float) if len(system.snapshots) else []
    if not len(durations):
        return "-"
    first = float(durations[0])
    if not all(abs(d - first) < 1e-9 for d in durations):
        return "mixed"
    return f"{first:g} h" if first >= 1 else f"{first * 60:g} min"


def _model_options(args) -> dict:
    opts = {}
    if getattr(args, "snapshots", None) is not None:
        opts["hours"] = args.snapshots
    if getattr(args, "resample", None):
        opts["resample"] = args.resample
    if getattr(args, "rep_days", None) is not None:
        opts["rep_days"] = args.rep_days
    if getattr(args, "co2_cap", None) is not None:
        opts["co2_cap"] = args.co2_cap
    return opts


def _model(args):
    from .energy import CapacityExpansion
    system = _load(args.system)
    try:
        model = CapacityExpansion(system, **_model_options(args))
    except (ValueError, KeyError) as exc:
        raise UserError(_msg(exc)) from None
    m, n = model.pp.A.shape
    log.info("built the LP: %s variables, %s rows, %s nonzeros, %s snapshots (%.1f s)", f"{n:,}", f"{m:,}",
             f"{model.pp.A.nnz:,}", f"{model.time.T:,}", model.build_seconds)
    return model


def _solve_options(args, batch: bool = False) -> dict:
    solver = args.solver
    if solver == "auto" and batch:          # a single solve keeps "auto": the model says what it chose
        from .solvers import choose_solver
        solver = choose_solver(batch, _device(args.device))[0]
    opts = {"solver": solver, "tol": args.tol}
    # the solver's progress, shown as the command talks (a sweep has its progress bar instead);
    # cvxpy's and Gurobi's logs print to stdout, among the results, so they stay off
    if solver in ("pdhg", "highs", "concurrent", "auto") and (args.verbose if batch else logs.LOGGER.isEnabledFor(logging.INFO)):
        opts["verbose"] = True
    if solver in ("pdhg", "auto"):
        opts["device"] = _device(args.device)
    if getattr(args, "polish", "auto") != "auto":
        opts["polish"] = None if args.polish == "none" else args.polish
    return opts


def _device(name: str) -> str:
    from .core.device import resolve_device
    from .errors import SolverError
    try:
        dev = resolve_device(name)
    except (SolverError, RuntimeError) as exc:
        raise UserError(_msg(exc)) from None
    if dev.type == "cuda" and dev.index is not None:
        import torch
        if dev.index >= torch.cuda.device_count():
            raise UserError(f"device {name!r} requested but this machine has {torch.cuda.device_count()} GPU(s)")
    return str(dev)


def _warn(text: str) -> None:
    logs.LOGGER.warning(text)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    _warn(" ".join(str(message).split()))     # one line, without the source line warnings adds


def _msg(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join([text, *getattr(exc, "__notes__", ())])      # a culprit in a note joins the line
    return " ".join(text.split()) or type(exc).__name__


def _print_summary(result, out=None):
    out = sys.stdout if out is None else out      # looked up now: a default would bind the import-time stream
    print(result.report(), file=out)
    table = result.capacity_table(by_zone=bool(result.components))   # storage at the zone it serves
    if not table.empty:
        print("\ncapacity [MW, MWh]", file=out)
        print(table.round(1).to_string(), file=out)
    lines = result.line_table()
    if len(lines):
        print("\nlines [MW]", file=out)
        print(lines.round(1).to_string(), file=out)


# -------------------------------------------------------------------- commands
def cmd_datasets(args) -> int:
    from . import datasets
    rows = []
    for name in datasets.list_systems():
        try:
            system = datasets.load_system(name)
            info = system.describe()
        except Exception as exc:   # any fault in one folder must not hide the others from the list
            _warn(f"skipped system {name!r}: {_msg(exc)}")
            continue
        rows.append((name, info["buses"], info["snapshots"], _resolution(system),
                     info["technologies"], info.get("description", "")))
    print(f"{'name':<16} {'buses':>5} {'snapshots':>9} {'step':>6} {'techs':>5}  description")
    for name, buses, snaps, step, techs, desc in rows:
        print(f"{name:<16} {buses:>5} {snaps:>9} {step:>6} {techs:>5}  {desc}")
    return EXIT_OK


def cmd_solve(args) -> int:
    from . import plots
    if args.out:                # checked first: a solve must not be lost to an unwritable folder
        _fresh_results_folder(args.out, args.force)
        _writable_folder(args.out)
    model = _model(args)
    result = _run_solve(model, _solve_options(args))
    _print_summary(result)
    if args.out:
        out = Path(args.out)
        log.info("writing tables and plots to %s/", out)
        result.to_parquet(out)
        result.to_csv(out)
        plots.plot_result(result, out / "plots")
        print(f"\nresults written to {out}/ (tidy tables as parquet + CSV; pypsa/: PyPSA-shaped, named as "
              f"PyPSA's CSV folders; plots/)")
    return EXIT_OK if result.status in ("optimal", "optimal_inaccurate") else EXIT_NOT_OPTIMAL


def _run_solve(model, opts):
    from .errors import SolverError
    if log.isEnabledFor(logging.INFO):
        from .solvers import choose_solver
        solver = opts["solver"]
        chosen = (choose_solver(False, opts.get("device", "auto"), nnz=model.pp.A.nnz)[2] if solver == "auto"
                  else solver)
        log.info("solving with %s%s", chosen, f", tol {opts['tol']:g}" if solver == "pdhg" else "")
    t0 = time.perf_counter()
    try:
        result = model.solve(**opts)
    except SolverError as exc:
        raise UserError(_msg(exc)) from None
    log.info("%s after %.1f s", result.status, time.perf_counter() - t0)
    return result


def cmd_sweep(args) -> int:
    from . import plots
    from .sweep import SweepStore
    from .sweep.scenarios import MAX_SCENARIOS
    from .sweep.store import SweepStoreError
    spec = {}
    for name, values in args.param or []:
        if name in spec:
            raise UserError(f"--param {name} is given twice; give all its values in one --param")
        spec[name] = values
    if not spec:
        raise UserError("sweep needs at least one --param NAME=START:STOP:NUM or NAME=V1,V2,...")
    count = math.prod(len(v) for v in spec.values())
    if count > MAX_SCENARIOS:
        raise UserError(f"a sweep of {count:,} scenarios is over the limit of {MAX_SCENARIOS:,}; "
                        f"sweep fewer values or split it into several sweeps")
    _writable_folder(args.out)
    try:
        if args.force:          # model.sweep has no overwrite: empty the folder (under its lock) first
            with SweepStore(args.out) as store:
                store.clear()
    except SweepStoreError as exc:
        raise UserError(_msg(exc)) from None
    model = _model(args)
    unknown = [name for name in spec if name not in model.sweepable()]
    if unknown:
        raise UserError(f"unknown sweep parameter {unknown[0]!r}; sweepable: {', '.join(model.sweepable())}")
    opts = _solve_options(args, batch=True)
    executor, cluster = _executor(args)
    try:
        table = model.sweep(spec, product=True, batch_size=args.batch_size, out=args.out, executor=executor,
                            progress=not args.quiet, **opts)
    except SweepStoreError as exc:
        raise UserError(_msg(exc).replace("overwrite=True (--force)", "--force")) from None
    finally:
        if executor is not None:
            executor.close()
        if cluster is not None:
            cluster.close()
    ok = table["status"].isin(["optimal", "optimal_inaccurate"])
    print(f"{len(table)} scenarios: {int(ok.sum())} optimal, {int((~ok).sum())} not "
          f"(results in {args.out}/sweep.csv)")
    x = next(iter(spec))
    hue = next(iter(list(spec)[1:]), None)
    plots.save(plots.sweep_tradeoff(table, x, hue=hue, currency=model.system.currency), Path(args.out) / "sweep_tradeoff")
    return EXIT_OK if ok.all() else EXIT_NOT_OPTIMAL


def _executor(args):
    if not (args.dask or args.dask_local):
        return None, None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError("--dask needs dask.distributed: pip install 'dask[distributed]'") from None
    if args.dask:
        try:
            return Client(args.dask, timeout="10s"), None
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise UserError(f"cannot reach Dask scheduler {args.dask}: {_msg(exc)}") from None
    cluster = LocalCluster(n_workers=args.dask_local, threads_per_worker=1, dashboard_address=None)
    return Client(cluster), cluster


def cmd_compare(args) -> int:
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    bad = [s for s in solvers if s not in SOLVERS]
    if bad or not solvers:
        raise UserError(f"unknown solver {bad[0] if bad else args.solvers!r}; choose from {', '.join(SOLVERS)}")
    twice = next((s for s in solvers if solvers.count(s) > 1), None)
    if twice:
        raise UserError(f"--solvers names {twice} twice")
    from .energy.results import objective_accuracy, objective_text, percent_text
    model = _model(args)
    rows = []
    for solver in solvers:
        args.solver = solver
        t0 = time.perf_counter()
        res = _run_solve(model, {**_solve_options(args), "polish": None})   # each solver as it is
        s = res.summary.iloc[0]
        acc = objective_accuracy(str(s["status"]), solver, float(s["objective"]), res.raw.residuals or {})
        rows.append({"solver": solver, "status": s["status"], "objective": float(s["objective"]), **acc,
                     "max_violation": s.get("max_violation", float("nan")),
                     "seconds": time.perf_counter() - t0})
    # exact optimal answers first, then approximate optimal ones, each by time; the rest after:
    # only an optimal answer can be the reference the others are measured against
    rows.sort(key=lambda r: (r["status"] != "optimal", not r["exact"], r["seconds"]))
    ref = rows[0] if rows[0]["status"] == "optimal" else None
    fastest = min(r["seconds"] for r in rows)
    print(f"{'solver':<8} {'status':<20} {'objective':>20} {'accuracy':>10} {'gap to ref.':>12} "
          f"{'max viol.':>10} {'time s':>8} {'ratio':>6}")
    for r in rows:
        obj = r["objective"]
        gap = abs(obj - ref["objective"]) / max(1.0, abs(ref["objective"])) if ref is not None else math.nan
        shown = objective_text(obj, r["error"]) if math.isfinite(obj) else "none"
        accuracy = "exact" if r["exact"] else (f"±{percent_text(r['error'])}%" if math.isfinite(obj) else "-")
        print(f"{r['solver']:<8} {r['status']:<20} {shown:>20} {accuracy:>10} {gap:>12.1e} "
              f"{r['max_violation']:>10.1e} {r['seconds']:>8.2f} {r['seconds'] / fastest:>6.1f}")
    if ref is None:
        print("\nno optimal result: no reference, and no answer here is to be trusted")
    else:
        how = "exact" if ref["exact"] else "approximate, the best available"
        print(f"\nreference: {ref['solver']} ({how}); objectives to the digits their accuracy supports "
              f"(accuracy: relative error bound), gaps relative to the reference")
    return EXIT_OK if all(r["status"] == "optimal" for r in rows) else EXIT_NOT_OPTIMAL


def cmd_verify(args) -> int:
    model = _model(args)
    report = model.verify(tol=args.tol, device=_device(args.device), solver=args.solver, pdhg=args.pdhg,
                          pdhg_time_limit=args.pdhg_time_limit, reference=args.reference)
    for line in report["lines"]:
        print(line)
    print("PASS" if report["passed"] else "FAIL")
    return EXIT_OK if report["passed"] else EXIT_NOT_OPTIMAL


# ---------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), not the usage block."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    p = _Parser(
        prog="gridprox", description="Capacity-expansion planning with batched PDHG (see README).",
        epilog="exit codes: 0 ok, 1 not optimal / verification failed, 2 bad input")
    p.add_argument("--version", action="version", version=f"gridprox {__version__}")
    talk = argparse.ArgumentParser(add_help=False)
    loud = talk.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true",
                      help="say what is done and show the solver's progress and log (default on a terminal)")
    loud.add_argument("-q", "--quiet", action="store_true", help="only results, warnings and errors; no progress")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    sub.add_parser("datasets", help="list bundled systems with their size", parents=[talk],
                   description="List bundled systems: buses, snapshots and their step, technologies."
                   ).set_defaults(func=cmd_datasets)

    def model_args(sp, solver=True):
        sp.add_argument("system", metavar="SYSTEM_OR_FOLDER", help="a bundled system name or a system folder")
        res = sp.add_mutually_exclusive_group()
        res.add_argument("--snapshots", "--hours", dest="snapshots", type=_count, metavar="N",
                         help="use the first N snapshots (--hours: the same, its old name)")
        res.add_argument("--resample", type=_step, metavar="3h", help="resample to N-hour steps, e.g. 3h")
        res.add_argument("--rep-days", type=_count, metavar="K", help="K representative days with weights")
        sp.add_argument("--co2-cap", type=_nonnegative, help="CO2 cap in tonnes over the horizon")
        if solver:
            sp.add_argument("--solver", choices=("auto",) + SOLVERS, default="auto",
                            help="auto (default): on a CPU HiGHS (a single model: IPM and simplex raced; from 250k "
                                 "nonzeros, concurrent: HiGHS's simplex raced against PDHG then crossover), PDHG on a GPU")
        sp.add_argument("--device", type=_device_name, default="auto", help="auto, cpu, cuda, cuda:N or mps (pdhg only)")
        sp.add_argument("--tol", type=_tolerance, default=1e-4, help="relative KKT tolerance (default 1e-4)")

    s = sub.add_parser("solve", help="solve one system and write results and plots", parents=[talk],
                       description="Solve a system; print a summary; write parquet + CSV tables and plots to --out.")
    model_args(s)
    s.add_argument("--out", metavar="DIR", help="folder for results and plots (not one holding results, "
                                                "unless --force)")
    s.add_argument("--force", action="store_true", help="overwrite the results already in --out")
    s.add_argument("--polish", choices=("auto", "crossover", "none"), default="auto",
                   help="make a PDHG answer an exact vertex with HiGHS's crossover (auto: for PDHG); "
                        "none keeps PDHG's point, within --tol")
    s.set_defaults(func=cmd_solve)

    w = sub.add_parser("sweep", help="run a scenario sweep (resumable)", parents=[talk],
                       description="Sweep parameters (Cartesian product); one row per scenario is written to DIR "
                                   "as it finishes, and a rerun with the same DIR resumes (the same system, "
                                   "options and solver only: anything else is refused unless --force).")
    model_args(w)
    w.add_argument("--param", action="append", type=_param, metavar="NAME=SPEC",
                   help="NAME=START:STOP:NUM or NAME=V1,V2,... (repeatable, one per name; values >= 0)")
    w.add_argument("--batch-size", type=_count, default=16)
    w.add_argument("--dask", type=_address, metavar="SCHEDULER_ADDRESS", help="run batches on this Dask scheduler")
    w.add_argument("--dask-local", type=_workers, metavar="N", help="start a local Dask cluster of N workers")
    w.add_argument("--out", metavar="DIR", required=True)
    w.add_argument("--force", action="store_true",
                   help="discard results in DIR from another model, horizon, solver or option and start afresh")
    w.set_defaults(func=cmd_sweep)

    c = sub.add_parser("compare", help="solve with several solvers side by side", parents=[talk],
                       description="Solve with each solver as it is (PDHG without crossover) and print objective, "
                                     "accuracy, gap, violation, time, ratio.")
    model_args(c, solver=False)
    c.add_argument("--solvers", default="pdhg,highs", help="comma-separated, from " + ", ".join(SOLVERS))
    c.set_defaults(func=cmd_compare)

    v = sub.add_parser("verify", help="check the default solver's answer against an independent solver",
                       parents=[talk],
                       description="Solve as 'gridprox solve' does (--solver, default auto) and check the answer "
                                   "against an independent solver (Gurobi where its licence admits the size, else "
                                   "HiGHS interior point; HiGHS simplex when the checked solver is not HiGHS), with "
                                   "every measure recomputed from the answers: PASS when both are optimal, the "
                                   "objectives agree within --tol and every row and bound is within --tol of its "
                                   "scale.  --reference kkt checks the answer against its own duals instead "
                                   "(the KKT conditions recomputed; no second solve).  --pdhg adds a PDHG run, "
                                   "reported as information.")
    model_args(v)
    v.add_argument("--reference", choices=("solver", "kkt"), default="solver",
                   help="solver: an independent solve (default); kkt: the answer's own duals, the KKT conditions "
                        "recomputed, no second solve")
    v.add_argument("--pdhg", action="store_true", help="also run PDHG and report it (not part of PASS/FAIL)")
    v.add_argument("--pdhg-time-limit", type=_seconds, default=60.0, metavar="S",
                   help="seconds PDHG may take with --pdhg (default 60)")
    v.set_defaults(func=cmd_verify)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for key, value in vars(args).items():
        # argparse before 3.12 reads "--tol=--" as an empty list, skipping the option's type
        if value == [] or (isinstance(value, list) and [] in value):
            parser.error(f"argument --{key.replace('_', '-')}: expected one argument")
    sweeping = args.command == "sweep"
    kept = " (finished scenarios are kept; rerun to resume)" if sweeping else ""
    try:
        with warnings.catch_warnings(), logs.configured(_log_level(args)):
            warnings.showwarning = _show_warning
            code = args.func(args)
            sys.stdout.flush()      # a closed pipe shows here, inside the handlers below
        return code
    except UserError as exc:
        print(f"gridprox: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"gridprox: interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (``| head``) is gone: say nothing, and keep Python's exit flush quiet too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    except OSError as exc:
        try:
            sys.stdout.flush()
        except OSError:         # stdout itself failed (a full disk): keep the exit flush quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        what = exc.strerror or _msg(exc)
        where = f": {exc.filename}" if exc.filename else ""
        hint = "; free some space and rerun" if exc.errno == errno.ENOSPC else ""
        print(f"gridprox: error: {what}{where}{hint}{kept}", file=sys.stderr)
        return EXIT_USAGE


def _log_level(args) -> int:
    """--quiet: warnings only; --verbose: everything (solver logs and details); otherwise what
    is done and the solver's progress on a terminal, and nothing more where stderr is a pipe or
    a file (scripts, CI), so their stderr holds only warnings and errors.  ``compare`` prints its
    own timings: it talks only when asked."""
    if args.quiet:
        return logging.WARNING
    if args.verbose:
        return logging.DEBUG
    talks = args.command != "compare" and sys.stderr.isatty()
    return logging.INFO if talks else logging.WARNING


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
