"""BibTeX for ``Problem.solve(verbose=True, bibtex=True)``, as cvxpy prints it: the modelling
language and its grammar (gridprox follows cvxpy's syntax and DCP rules), then the method that
solved the LP.  The entries are copies of cvxpy's own records (``cvxpy.utilities.citations``),
so a script's output names the same papers under either import."""
from __future__ import annotations

HEADER = "\n".join(["-" * 79, f"{'Citations':^79}", "-" * 79])

CVXPY = """
@article{diamond2016cvxpy,
  author  = {Steven Diamond and Stephen Boyd},
  title   = {{CVXPY}: {A} {P}ython-embedded modeling language for convex optimization},
  journal = {Journal of Machine Learning Research},
  year    = {2016},
  volume  = {17},
  number  = {83},
  pages   = {1--5}
}

@article{agrawal2018rewriting,
  author  = {Agrawal, Akshay and Verschueren, Robin and Diamond, Steven and Boyd, Stephen},
  title   = {A rewriting system for convex optimization problems},
  journal = {Journal of Control and Decision},
  year    = {2018},
  volume  = {5},
  number  = {1},
  pages   = {42--60}
}
"""

DCP = """
@book{grant2006disciplined,
  title={Disciplined convex programming},
  author={Grant, Michael and Boyd, Stephen and Ye, Yinyu},
  year={2006},
  publisher={Springer}
}
"""

HIGHS = """
@article{Huangfu2017,
  title = {Parallelizing the dual revised simplex method},
  volume = {10},
  ISSN = {1867-2957},
  url = {http://dx.doi.org/10.1007/s12532-017-0130-5},
  DOI = {10.1007/s12532-017-0130-5},
  number = {1},
  journal = {Mathematical Programming Computation},
  publisher = {Springer Science and Business Media LLC},
  author = {Huangfu,  Q. and Hall,  J. A. J.},
  year = {2017},
  month = dec,
  pages = {119–142}
}
"""

GUROBI = """
@manual{gurobi,
  author = {Gurobi Optimization, LLC},
  title  = {Gurobi Optimizer Reference Manual},
  year   = 2025,
  url    = {https://www.gurobi.com}
}
"""

# gridprox's PDHG: PDLP's preconditioning and termination, cuPDLPx's restarted reflected Halpern iteration
PDHG = """
@article{applegate2021practical,
  title={Practical large-scale linear programming using primal-dual hybrid gradient},
  author={Applegate, David and D{\\'\\i}az, Mateo and Hinder, Oliver and Lu, Haihao and Lubin, Miles
  and O'Donoghue, Brendan and Schudy, Warren},
  journal={Advances in Neural Information Processing Systems},
  volume={34},
  pages={20243--20257},
  year={2021}
}

@article{lu2024restarted,
  title={Restarted {H}alpern {PDHG} for linear programming},
  author={Lu, Haihao and Yang, Jinwen},
  journal={arXiv preprint arXiv:2407.16144},
  year={2024}
}

@article{lu2025cupdlpx,
  title={{cuPDLPx}: A further enhanced {GPU}-based first-order solver for linear programming},
  author={Lu, Haihao and Peng, Zedong and Yang, Jinwen},
  journal={arXiv preprint arXiv:2507.14051},
  year={2025}
}
"""

# the backends' methods ("concurrent" races HiGHS's simplex against PDHG then HiGHS's crossover)
BY_BACKEND = {"highs": (HIGHS,), "pdhg": (PDHG,), "concurrent": (HIGHS, PDHG), "gurobi": (GUROBI,)}


def text(backend: str, cvxpy_solver: str | None = None) -> str:
    """What ``solve(verbose=True, bibtex=True)`` prints for an LP solved by ``backend``; through
    the "cvxpy" backend, the named cvxpy solver's own record (cvxpy is installed there)."""
    entries = list(BY_BACKEND.get(backend, ()))
    if backend == "cvxpy" and cvxpy_solver:
        from ..solvers.cvxpy_backend import citation

        entries.append(citation(cvxpy_solver))
    return "\n".join([HEADER, CVXPY, DCP, *entries])
