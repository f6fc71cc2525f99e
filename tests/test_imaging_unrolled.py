"""Unrolled PnP training (imaging/scripts/train_unrolled_pnp.py): gradients reach the
denoiser through the very PnP-HQS loop of im.deconvolve / im.mri_reconstruct, a few
steps lower the task loss, inference stays graph-free, and the shipped weights load."""
import sys
from pathlib import Path

import pytest
import torch

import imaging as im

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "imaging" / "scripts"))
import train_unrolled_pnp as T  # noqa: E402


def _crops(n=2, p=32):
    a = torch.tensor(im.load_image("astronaut_gray"), dtype=torch.float32)
    return torch.stack([a[100 + 40 * i:100 + 40 * i + p, 200:200 + p] for i in range(n)])


def _trainable(name="dncnn6N"):
    model = im.pretrained_dncnn(name)
    model.train()
    T.freeze_batchnorm(model)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("task", ["deblur", "mri"])
def test_gradients_flow_through_the_unrolled_loop_and_steps_lower_the_loss(task):
    torch.manual_seed(0)
    t = T.TASKS[task]()
    x = _crops()
    y = t.degrade(x, torch.Generator().manual_seed(0))
    model = _trainable()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    losses = []
    for step in range(4):
        loss = t.loss(t.solve(y, model, max_iter=3), x)
        opt.zero_grad()
        loss.backward()
        if step == 0:
            for p in (model.conv_start.weight, model.blocks[0].weight, model.norms[0].weight, model.conv_end.weight):
                assert p.grad is not None and torch.isfinite(p.grad).all() and float(p.grad.abs().max()) > 0
            bn = model.norms[0]
            assert not bn.training  # frozen statistics: the shipped layout stays valid
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0], losses


def test_learned_schedule_offsets_get_gradients_and_start_at_dpir():
    t = T.Deblur()
    x = _crops(1)
    y = t.degrade(x, torch.Generator().manual_seed(1))
    model = _trainable()
    with torch.no_grad():
        model.eval()
        ref = t.solve(y, model, max_iter=3)
    model.train()
    T.freeze_batchnorm(model)
    model.pnp_offsets = torch.nn.Parameter(torch.zeros(2, 3))
    out = t.solve(y, model, max_iter=3)
    torch.testing.assert_close(out.detach(), ref, rtol=0, atol=1e-6)  # zero offsets = DPIR's schedule
    t.loss(out, x).backward()
    g = model.pnp_offsets.grad
    assert g is not None and bool((g[0].abs() > 0).all()) and bool((g[1].abs() > 0).all())


def test_inference_keeps_no_graph():
    t = T.Deblur()
    x = _crops(1)
    y = t.degrade(x, torch.Generator().manual_seed(2))
    out = t.solve(y, im.pretrained_dncnn("dncnn6N"), max_iter=2)  # eval mode: no autograd graph
    assert not out.requires_grad


def test_pnp_default_weights_load():
    from imaging.wrappers import PNP_MODELS

    for name in sorted(set(PNP_MODELS.values())):
        model = im.pretrained_dncnn(name)
        ref = im.pretrained_dncnn("dncnn17N" if len(model.blocks) == 15 else "dncnn6N")
        assert [p.shape for p in model.parameters()] == [p.shape for p in ref.parameters()]
        with torch.no_grad():
            v = torch.rand(1, 1, 16, 16)
            assert torch.isfinite(model(v, 0.05)).all()


def test_learned_schedule_rides_in_the_weights_file(tmp_path):
    model = im.pretrained_dncnn("dncnn6N")
    model.pnp_offsets = torch.nn.Parameter(torch.full((2, 4), 0.1))
    model.save_npz(tmp_path / "w.npz")
    back = im.pretrained_dncnn(path=tmp_path / "w.npz", dtype=torch.float64)
    assert back.pnp_offsets.dtype == torch.float64
    torch.testing.assert_close(back.pnp_offsets, torch.full((2, 4), 0.1, dtype=torch.float64))
    prior = im.DenoiserPrior(back, 0.01, sigma_max=0.2)
    sig, fac = prior.schedule(4)
    assert float(sig[0]) == pytest.approx(0.2 * 1.1051709, rel=1e-6)
    assert float(fac[-1]) == pytest.approx(1.1051709, rel=1e-6)
    assert prior.schedule(5)[0][0] == pytest.approx(0.2)  # other iteration counts keep DPIR's schedule
