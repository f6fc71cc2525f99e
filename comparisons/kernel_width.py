"""Time of the C kernel's plain iterations and checks against the batch width on the 1 x 8760-h LP.

Each width W gets its own W scenarios (``gridprox.synthetic.scenario_sweep``: c, lc, uc per scenario) and
prints the best of 3 x 100 plain iterations per iteration and per scenario-iteration, and the
mean of 10 check calls.  Usage: ``python comparisons/kernel_width.py [--widths 1,2,4,8,16]
[--threads 2] [--float32]``.
"""
from __future__ import annotations

import argparse
import time

import torch

from gridprox.synthetic import scenario_sweep
from gridprox.lp.solver import PDHGOptions, _PDHG
from gridprox.solvers.pdhg import to_tensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="1,2,4,8,16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--float32", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    dt = torch.float32 if args.float32 else torch.float64
    for W in (int(w) for w in args.widths.split(",")):
        s = _PDHG(to_tensors(scenario_sweep(W, 1, 8760).with_infinite_bounds(), torch.device("cpu"), dt),
                  PDHGOptions(native=True), None)
        s.native.run(s, 20)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            s.native.run(s, 100)
            best = min(best, (time.perf_counter() - t) / 100)
        t = time.perf_counter()
        for _ in range(10):
            s.native.check(s)
        check = (time.perf_counter() - t) / 10
        print(f"W={W:3d} {str(dt)[6:]}: {best * 1e6:7.0f} us per iteration, {best * 1e6 / W:6.0f} us per "
              f"scenario-iteration; check {check * 1e3:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
