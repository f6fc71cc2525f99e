"""HiGHS's IPM and simplex alone against the two raced (``method="concurrent"``, what
``solver="auto"`` runs for one LP on a CPU), on the real-model instances of real_models.py.

On a shared machine a race's wall time depends on whether a second core is free, so each row
also gives CPU seconds of the solving thread: alone, each method's thread; raced, the winner's.
With a free core per racer the race's wall time is about the winner's CPU time.

    python comparisons/highs_race.py --instances gp:de-stochastic,gp:model-energy,pypsa:three-country@720
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_models  # noqa: E402  (also puts the repository on sys.path)

from gridprox.solvers.highs import _build, _configure, _highspy, solve_highs  # noqa: E402


def alone(lp, method: str) -> tuple[float, float, str]:
    """(wall s, CPU s of this thread, status) of one HiGHS method on one thread."""
    h = _build(lp)
    _configure(h, method, threads=1)
    _highspy().Highs.resetGlobalScheduler(True)
    wall, cpu = time.perf_counter(), time.thread_time()
    h.run()
    return time.perf_counter() - wall, time.thread_time() - cpu, h.modelStatusToString(h.getModelStatus())


def raced(lp) -> tuple[float, float, str]:
    """(wall s, the winner's thread CPU s, winner) of CONCURRENT raced: ``solve_highs``'s race,
    whose ``stages`` give each racer's thread CPU seconds."""
    res = solve_highs(lp, method="concurrent")
    winner = next(m for m, stage in res.stages.items() if stage["won"])
    return res.seconds, res.stages[winner]["cpu_seconds"], winner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="gp:de-stochastic,pypsa:de-stochastic,example:scigrid-de,"
                                           "pypsa:three-country@720,gp:model-energy")
    ap.add_argument("--cache", type=Path, help="as real_models.py's")
    args = ap.parse_args()
    args.cache = real_models.cache_folder(args.cache)
    print("| instance | simplex wall / CPU s | IPM + crossover wall / CPU s | raced: winner, wall / CPU s |")
    print("|---|---|---|---|")
    for spec in args.instances.split(","):
        lp = real_models.load_instance(spec, args.cache).lp
        cells = [f"{w:.1f} / {c:.1f}" + ("" if s == "Optimal" else f" ({s})")
                 for w, c, s in (alone(lp, m) for m in ("simplex", "ipm"))]
        wall, cpu, winner = raced(lp)
        print(f"| {spec} | {cells[0]} | {cells[1]} | {winner}, {wall:.1f} / {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
