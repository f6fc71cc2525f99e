"""Unrolled (end-to-end) training of a shipped DnCNN through the PnP-HQS loop of a task.

    python imaging/scripts/train_unrolled_pnp.py --task deblur --base dncnn17N --minutes 45 \
        --out imaging/weights/dncnn17N_deblur.npz
    python imaging/scripts/train_unrolled_pnp.py --task mri --base dncnn6N --minutes 45 \
        --out imaging/weights/dncnn6N_mri_radial4.npz

Fine-tuning a denoiser *as a denoiser* raised its denoising PSNR without helping PnP
(comparisons/RESULTS.md); here the loss is the MSE of the final PnP-HQS output against
the clean image, backpropagated through every iteration of the loop that
``im.deconvolve(..., prior="pnp")`` / ``im.mri_reconstruct(..., prior="pnp")`` run
(the same calls: DPIR schedule, penalty 0.23 (σ/σ_k)², exact FFT data step, dihedral
cycling, clipping; ``imaging.priors.DenoiserPrior.hqs`` keeps the graph when the model
is in training mode).  BatchNorm statistics stay frozen (eval mode), so the shipped
architecture and file layout are unchanged.  ``--learn-schedule`` also learns
per-iteration log-offsets of σ_k and of the penalty (``model.pnp_offsets``).

Data: random crops (with flips/rotations) of scikit-image's bundled images
(finetune_dncnn.TRAIN minus chelsea, a validation image), degraded as the cameraman
test: deblur = circular Gaussian blur σ 1.6 11x11 (comparisons/imaging_speed.py's psf) +
noise 0.01; mri = radial 4x mask (imaging.data, at the crop size) on the orthonormal
FFT + complex k-space noise 0.01; fresh noise every step.  Never cameraman (held out
for comparisons/imaging_speed.py) nor astronaut.  Validation (the past sessions' images):
deblur on astronaut [64:320, 128:384], [256:512, 0:256] and chelsea gray [22:278, 97:353];
mri on astronaut and chelsea gray resized to 256² and the astronaut crop [64:320, 128:384]
with the 256² radial 4x mask; the weights are saved each time the mean validation PSNR
improves on the best so far (never if it does not).  Deterministic for a given --seed and
--steps (with --minutes the time budget sets the step count).  One torch thread by
default (shared CPU); ``--device cuda`` trains on a GPU (the crops are cut and degraded
on the CPU, then moved).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "imaging" / "scripts"))
import imaging as im  # noqa: E402
from imaging.wrappers import PNP_DEFAULTS  # noqa: E402
from comparisons.imaging_speed import gaussian_psf  # noqa: E402  (problem A/D's blur kernel)
from finetune_dncnn import TRAIN, training_images  # noqa: E402
from gridprox.core import Convolution  # noqa: E402

NOISE = 0.01          # the cameraman tests' noise level (image scale / k-space per pixel)
MRI_LAM_TV = 3e-3     # comparisons/imaging_speed.py part C's TV weight
VALIDATION_HELD_OUT = ("chelsea",)


# ---------------------------------------------------------------- the two tasks
class Task:
    """Degradation + the wrapper call the cameraman test makes; ``solve`` keeps autograd."""
    iters: int

    def degrade(self, x, gen):
        raise NotImplementedError

    def solve(self, y, model):
        raise NotImplementedError

    def loss(self, out, x):
        return (out - x).abs().pow(2).mean()


class Deblur(Task):
    iters = PNP_DEFAULTS["deconvolve"][1]["hqs"][0]  # the wrapper's PnP-HQS iterations

    def __init__(self):
        self.psf = gaussian_psf()
        self._ops = {}

    def degrade(self, x, gen):
        shape = tuple(x.shape[-2:])
        if shape not in self._ops:
            self._ops[shape] = Convolution(torch.tensor(self.psf), shape)
        y = self._ops[shape].forward(x.double()).to(x.dtype)
        return y + NOISE * torch.randn(x.shape, generator=gen, dtype=x.dtype)

    def solve(self, y, model, **kw):
        return im.deconvolve(y, self.psf, prior="pnp", model=model, sigma=NOISE, tol=0.0, **kw)

    def tv(self, y):
        return im.deconvolve(y, self.psf, 1e-3, tol=1e-5, max_iter=3000)


class MRI(Task):
    iters = PNP_DEFAULTS["mri_reconstruct"][1]["hqs"][0]  # its PnP-HQS iterations (the default is ADMM)

    def __init__(self, accel=4):
        self.accel, self._masks = accel, {}

    def mask(self, shape):
        if shape not in self._masks:
            self._masks[shape] = torch.tensor(im.radial_mask(shape, accel=self.accel), dtype=torch.float32)
        return self._masks[shape]

    def degrade(self, x, gen):
        m = self.mask(tuple(x.shape[-2:]))
        noise = torch.complex(torch.randn(x.shape, generator=gen), torch.randn(x.shape, generator=gen))
        return m * (torch.fft.fft2(x.to(torch.complex64), norm="ortho") + NOISE / 2 ** 0.5 * noise)

    def solve(self, y, model, **kw):
        return im.mri_reconstruct(y, self.mask(tuple(y.shape[-2:])), prior="pnp", model=model, sigma=NOISE,
                                  tol=0.0, **{"method": "hqs", **kw})

    def tv(self, y):
        return im.mri_reconstruct(y, self.mask(tuple(y.shape[-2:])), MRI_LAM_TV, tol=1e-5, max_iter=3000)


TASKS = {"deblur": Deblur, "mri": MRI}


# ---------------------------------------------------------------- data
def train_images():
    """finetune_dncnn's training images without the validation ones."""
    return [a for name, a in zip(TRAIN, training_images()) if name not in VALIDATION_HELD_OUT]


def crops(images, gen, n, p):
    """n random p×p crops, each under a random flip/rotation: (n, p, p) float32."""
    out = []
    for _ in range(n):
        a = images[int(torch.randint(len(images), (1,), generator=gen))]
        i = int(torch.randint(a.shape[0] - p + 1, (1,), generator=gen))
        j = int(torch.randint(a.shape[1] - p + 1, (1,), generator=gen))
        t = torch.rot90(a[i:i + p, j:j + p], int(torch.randint(4, (1,), generator=gen)))
        out.append(t.flip(-1) if bool(torch.randint(2, (1,), generator=gen)) else t)
    return torch.stack(out)


def validation_images(task: str) -> torch.Tensor:
    import skimage.color
    import skimage.data
    from skimage.transform import resize

    ast = im.load_image("astronaut_gray")
    che = skimage.color.rgb2gray(skimage.data.chelsea())
    if task == "deblur":
        imgs = [ast[64:320, 128:384], ast[256:512, 0:256], che[22:278, 97:353]]
    else:
        n = 256
        imgs = [resize(ast, (n, n), order=1, anti_aliasing=True), resize(che, (n, n), order=1, anti_aliasing=True),
                ast[64:320, 128:384]]
    return torch.tensor(np.stack(imgs), dtype=torch.float32)


def validate(task: Task, model, x, y, tv_psnr=None):
    """Per-image PSNR (dB) of the wrapper's PnP on the validation set (and the gain over TV)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        out = task.solve(y, model)
    model.train(was)
    if was:
        freeze_batchnorm(model)
    ps = [im.psnr(out[i].abs() if out.is_complex() else out[i], x[i]) for i in range(len(x))]
    txt = " / ".join(f"{p:.2f}" for p in ps)
    if tv_psnr is not None:
        txt += "  (gain over TV " + " / ".join(f"{p - t:+.2f}" for p, t in zip(ps, tv_psnr)) + \
               f", mean {np.mean(ps) - np.mean(tv_psnr):+.3f})"
    return ps, txt


# ---------------------------------------------------------------- model
def freeze_batchnorm(model):
    for bn in model.norms:
        bn.eval()


class Checkpointed(torch.nn.Module):
    """The denoiser with activation checkpointing per call: memory per unrolled iteration
    drops to its input, at the cost of one more forward pass in the backward."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.norms = model.norms
        if hasattr(model, "pnp_offsets"):
            self.pnp_offsets = model.pnp_offsets  # the learned schedule, seen by DenoiserPrior

    def forward(self, x, sigma):
        from torch.utils.checkpoint import checkpoint
        return checkpoint(self.model, x, sigma, use_reentrant=False)


def load_base(base: str):
    p = Path(base)
    return im.pretrained_dncnn(path=p) if p.suffix == ".npz" else im.pretrained_dncnn(base)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", choices=sorted(TASKS), default="deblur")
    ap.add_argument("--base", default="dncnn17N", help="weights to start from (name in imaging/weights or .npz)")
    ap.add_argument("--minutes", type=float, default=10.0, help="training time budget")
    ap.add_argument("--steps", type=int, default=None, help="fixed step count (overrides --minutes)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-schedule", type=float, default=1e-2, help="Adam lr of the schedule offsets")
    ap.add_argument("--learn-schedule", action="store_true", help="also learn per-iteration σ_k / penalty offsets")
    ap.add_argument("--freeze-weights", action="store_true", help="learn only the schedule (with --learn-schedule)")
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--clip-grad", type=float, default=1.0)
    ap.add_argument("--checkpoint", action="store_true", help="activation checkpointing per denoiser call")
    ap.add_argument("--val-every", type=float, default=0.0, help="validate every this many minutes (0: at the end)")
    ap.add_argument("--no-tv", action="store_true", help="skip the TV baseline on the validation images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (cuda where there is one)")
    ap.add_argument("--out", default=None, help="where to save the weights if validation improved")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from gridprox.core.device import resolve_device
    dev = resolve_device(args.device)
    task = TASKS[args.task]()
    model = load_base(args.base).to(dev)
    offsets = None
    if args.learn_schedule:
        offsets = torch.nn.Parameter(torch.zeros(2, task.iters, device=dev))
        model.pnp_offsets = offsets  # read by DenoiserPrior.schedule
    # validation data: fixed noise
    xv = validation_images(args.task)
    yv = task.degrade(xv, torch.Generator().manual_seed(1000 + args.seed))
    xv, yv = xv.to(dev), yv.to(dev)
    tv_psnr = None
    if not args.no_tv:
        xt = task.tv(yv)
        tv_psnr = [im.psnr(xt[i].abs() if xt.is_complex() else xt[i], xv[i]) for i in range(len(xv))]
        print("validation TV PSNR:", " / ".join(f"{p:.2f}" for p in tv_psnr), flush=True)
    best, txt = validate(task, model, xv, yv, tv_psnr)
    best_mean, start_mean = float(np.mean(best)), float(np.mean(best))
    print(f"validation PnP {args.base} before: {txt}", flush=True)
    best_offsets = None           # the learned schedule at the best validation (None: not learned or no gain)

    images = train_images()
    gen = torch.Generator().manual_seed(args.seed)
    model.train()
    freeze_batchnorm(model)
    net = Checkpointed(model) if args.checkpoint else model
    weights = [p for n, p in model.named_parameters() if n != "pnp_offsets"]
    if args.freeze_weights:
        if offsets is None:
            ap.error("--freeze-weights leaves nothing to learn without --learn-schedule")
        for p in weights:
            p.requires_grad_(False)
    groups = [{"params": weights, "lr": args.lr}] if not args.freeze_weights else []
    if offsets is not None:
        groups.append({"params": [offsets], "lr": args.lr_schedule})
    opt = torch.optim.Adam(groups)
    t0 = last_val = time.perf_counter()
    step, run = 0, None

    def check():
        nonlocal best_mean, best_offsets
        ps, txt = validate(task, model, xv, yv, tv_psnr)
        mark = ""
        if np.mean(ps) > best_mean:
            best_mean, mark = float(np.mean(ps)), "  (best)"
            best_offsets = None if offsets is None else offsets.detach().cpu().clone()
            if args.out:  # saved at once: a run stopped by a time cap keeps its best weights
                model.save_npz(args.out)  # with the learned schedule, if any (pretrained_dncnn reloads it)
                mark += f", saved {args.out}"
        print(f"step {step}: validation {txt}{mark}", flush=True)

    while (step < args.steps) if args.steps is not None else (time.perf_counter() - t0 < 60 * args.minutes):
        x = crops(images, gen, args.batch, args.crop)
        y = task.degrade(x, gen)
        x, y = x.to(dev), y.to(dev)
        out = task.solve(y, net)
        loss = task.loss(out, x)
        opt.zero_grad()
        loss.backward()
        if args.clip_grad > 0:
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], args.clip_grad)
        opt.step()
        lv = float(loss.detach())
        run = lv if run is None else 0.9 * run + 0.1 * lv
        step += 1
        if step % 5 == 0:
            print(f"step {step}  loss {lv:.3e}  (running {run:.3e}, PSNR {-10 * np.log10(run):.2f})  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        if args.val_every > 0 and time.perf_counter() - last_val > 60 * args.val_every:
            check()
            last_val = time.perf_counter()
    check()
    print(f"{step} steps in {time.perf_counter() - t0:.0f} s; best mean validation PSNR {best_mean:.3f} dB "
          f"(start {start_mean:.3f})", flush=True)
    if best_offsets is not None:
        print("learned offsets (log σ_k scale; log penalty scale):",
              np.round(best_offsets.numpy(), 3).tolist(), flush=True)
    if best_mean <= start_mean and args.out:
        print("no validation improvement: not saved")
    return best_mean - start_mean


if __name__ == "__main__":
    main()
