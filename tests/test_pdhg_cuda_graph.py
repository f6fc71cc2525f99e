"""CUDA-graph replay of the plain PDHG iterations (gridprox/lp/cuda_graph.py): the same
iterates as the eager loop, on one LP and on a batch whose scenarios finish apart (their
columns leave, so blocks are recorded again); off, with a clear error or a clean fallback,
where it cannot apply.  The GPU tests run where CUDA is (the device check of
comparisons/gpu/run.sh); the fallback and option tests run everywhere."""
import numpy as np
import pytest
import torch

from gridprox.lp.cuda_graph import GraphedBlocks
from gridprox.solvers.pdhg import solve_pdhg
from test_pdhg_helpers import assert_solution, capacity_expansion_lp, highs, scenario_sweep

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_failed_recording_changes_nothing_and_turns_the_path_off(monkeypatch):
    done = []

    class Owner:
        x = torch.zeros(3)

    owner = Owner()
    blocks = GraphedBlocks(lambda count: done.append(count))
    assert blocks.run(5, [(owner, "x")], []) and done == [5]                # the first block runs eagerly

    class Unrecordable:
        def __init__(self, *a, **k):
            raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(torch.cuda, "CUDAGraph", Unrecordable)
    assert not blocks.run(5, [(owner, "x")], []) and done == [5]   # nothing ran: the caller iterates eagerly
    assert "capturing" in blocks.failed and not blocks.run(5, [(owner, "x")], []) and done == [5]


def test_rebound_iterates_are_brought_home_and_a_new_shape_records_anew():
    """A restart rebinds iterates to new tensors; the recorded graph reads the old ones, so
    their values are copied there and the attributes rebound to them (no new recording)."""
    class Owner:
        x, y = torch.zeros(4), torch.ones(2)

    owner = Owner()
    blocks = GraphedBlocks(lambda count: None)
    at = [(owner, "x"), (owner, "y")]
    blocks._bring_home(at, [])
    home_x, blocks.graphs = owner.x, {63: "recorded"}
    owner.x = torch.arange(4.0)                          # what a restart does
    blocks._bring_home(at, [])
    assert owner.x is home_x and owner.x.tolist() == [0, 1, 2, 3] and blocks.graphs == {63: "recorded"}
    owner.y = torch.ones(3)                              # a column left: new shapes
    blocks._bring_home(at, [])
    assert blocks.graphs == {} and owner.y.shape == (3,)

    class Bounds:
        lo = hi = torch.zeros(2)                         # one tensor for both (equality rows)

    bounds = Bounds()
    blocks = GraphedBlocks(lambda count: None)
    at = [(bounds, "lo"), (bounds, "hi")]
    blocks._bring_home(at, [])
    blocks.graphs = {63: "recorded"}
    bounds.lo = torch.ones(2)
    blocks._bring_home(at, [])                               # copying into the shared home would change hi
    assert blocks.graphs == {} and bounds.hi.tolist() == [0, 0] and bounds.lo.tolist() == [1, 1]


def test_cuda_graphs_true_where_they_cannot_apply_is_an_error():
    lp = capacity_expansion_lp(zones=1, hours=24, seed=0)
    with pytest.raises(ValueError, match="cuda_graphs=True needs a CUDA device"):
        solve_pdhg(lp, device="cpu", cuda_graphs=True)
    with pytest.raises(ValueError, match="cuda_graphs"):
        solve_pdhg(lp, device="cpu", cuda_graphs="yes")


@pytest.fixture
def block_counts(monkeypatch):
    """(recordings, replays) of the solve's GraphedBlocks after each block it ran."""
    seen = []
    run = GraphedBlocks.run

    def counting(self, count, *args):
        ok = run(self, count, *args)
        seen.append((self.recordings, self.replays))
        return ok

    monkeypatch.setattr(GraphedBlocks, "run", counting)
    return seen


@cuda
def test_replayed_blocks_give_the_eager_iterates(block_counts):
    lp = capacity_expansion_lp(zones=2, hours=168, seed=1)
    ref = highs(lp)
    graphed = solve_pdhg(lp, tol=1e-6, device="cuda")
    assert block_counts and block_counts[-1][1] > 0, "no block was replayed from a graph"
    eager = solve_pdhg(lp, tol=1e-6, device="cuda", cuda_graphs=False)
    assert graphed.iterations == eager.iterations
    np.testing.assert_allclose(graphed.x, eager.x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(graphed.y, eager.y, rtol=1e-9, atol=1e-9)
    assert_solution(graphed, ref, 1e-6)


@cuda
def test_batch_with_staggered_finishes_matches_eager(block_counts):
    batch = scenario_sweep(6, zones=1, hours=168, seed=3)
    graphed = solve_pdhg(batch, tol=1e-5, device="cuda")
    recordings, replays = block_counts[-1]
    # restarts are brought home: recordings only when a column leaves (two block lengths each)
    assert replays > 2 * recordings and recordings <= 2 * (len({r.iterations for r in graphed}) + 1)
    eager = solve_pdhg(batch, tol=1e-5, device="cuda", cuda_graphs=False)
    assert len({r.iterations for r in graphed}) > 1        # columns left at different checks
    for k, (g, e) in enumerate(zip(graphed, eager)):
        assert g.status == e.status == "optimal" and g.iterations == e.iterations
        np.testing.assert_allclose(g.x, e.x, rtol=1e-9, atol=1e-9)
        assert_solution(g, highs(batch.scenario(k)), 1e-5)
