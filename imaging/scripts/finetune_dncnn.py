"""Fine-tune the shipped DnCNN-6N on images that ship offline, for plug-and-play.

    python imaging/scripts/finetune_dncnn.py --minutes 5 --out imaging/weights/dncnn6N_ft.npz

Training images: scikit-image's bundled photographs and textures (scikit-image needed,
an optional dependency of this script only), never cameraman (held out for
comparisons/imaging_speed.py) nor astronaut (the validation image here and the held-out
image of the tests).  Random 48x48 patches with flips/rotations, Gaussian noise with
σ drawn log-uniformly in [0.005, 0.2] (the range a PnP-HQS schedule visits), L2 loss,
Adam; BatchNorm statistics are frozen (fine-tuning with small batches would spoil
them).  Reports the validation PSNR of one denoising pass on astronaut at σ 0.01,
0.05 and 0.1 before and after, and saves the weights only if the mean improved.
Deterministic for a given --seed and step count (the time budget sets the count).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import imaging as im  # noqa: E402

TRAIN = ("chelsea", "coffee", "rocket", "brick", "grass", "gravel", "moon", "coins", "retina",
         "hubble_deep_field", "immunohistochemistry", "clock", "page", "text", "stereo_motorcycle")


def training_images():
    import skimage.color
    import skimage.data

    out = []
    for name in TRAIN:
        a = getattr(skimage.data, name)()
        a = a[0] if isinstance(a, tuple) else a
        a = skimage.color.rgb2gray(a[..., :3]) if a.ndim == 3 else a.astype(np.float64) / (255.0 if a.max() > 1 else 1.0)
        out.append(torch.tensor(a, dtype=torch.float32))
    return out


def batch(images, gen, n=16, p=48, smin=0.005, smax=0.2):
    xs = []
    for _ in range(n):
        a = images[int(torch.randint(len(images), (1,), generator=gen))]
        i = int(torch.randint(a.shape[0] - p + 1, (1,), generator=gen))
        j = int(torch.randint(a.shape[1] - p + 1, (1,), generator=gen))
        t = a[i:i + p, j:j + p]
        t = torch.rot90(t, int(torch.randint(4, (1,), generator=gen)))
        xs.append(t.flip(-1) if bool(torch.randint(2, (1,), generator=gen)) else t)
    x = torch.stack(xs)[:, None]
    sig = torch.exp(math.log(smin) + (math.log(smax) - math.log(smin)) * torch.rand(n, generator=gen))
    return x, x + sig[:, None, None, None] * torch.randn(x.shape, generator=gen), sig


def validate(model):
    x = torch.tensor(im.load_image("astronaut_gray"), dtype=torch.float32)[None, None]
    gen = torch.Generator().manual_seed(123)
    out = []
    with torch.no_grad():
        for s in (0.01, 0.05, 0.1):
            y = x + s * torch.randn(x.shape, generator=gen)
            out.append(im.psnr(model(y, s)[0, 0], x[0, 0]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--base", default="dncnn6N", help="weights to start from (a name in imaging/weights or a path)")
    ap.add_argument("--sigma-range", type=float, nargs=2, default=(0.005, 0.2), metavar=("MIN", "MAX"),
                    help="training noise levels, drawn log-uniformly")
    ap.add_argument("--per-sample-loss", action="store_true",
                    help="normalise each patch's MSE by its own σ² (weighs small σ as much as large σ; "
                         "the default divides the batch MSE by the batch's mean σ², so large σ dominate)")
    ap.add_argument("--out", default=str(im.dncnn.WEIGHTS / "dncnn6N_ft.npz"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    base = Path(args.base)
    model = im.pretrained_dncnn(path=base) if base.suffix == ".npz" else im.pretrained_dncnn(args.base)
    before = validate(model)
    print("validation PSNR (astronaut, σ 0.01/0.05/0.1) before:", [f"{v:.3f}" for v in before], flush=True)
    images = training_images()
    gen = torch.Generator().manual_seed(args.seed)
    model.train()
    for bn in model.norms:
        bn.eval()  # frozen statistics
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    t0, step, run = time.perf_counter(), 0, 0.0
    while time.perf_counter() - t0 < 60 * args.minutes:
        x, y, sig = batch(images, gen, smin=args.sigma_range[0], smax=args.sigma_range[1])
        err = ((model(y, sig) - x) ** 2).mean(dim=(1, 2, 3))
        # noise-normalised MSE
        loss = (err / sig ** 2).mean() if args.per_sample_loss else err.mean() / (sig ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        run = 0.98 * run + 0.02 * float(loss.detach())
        step += 1
        if step % 50 == 0:
            print(f"step {step}  loss {run:.4f}  {time.perf_counter() - t0:.0f} s", flush=True)
    model.eval()
    after = validate(model)
    print(f"{step} steps; validation PSNR after:", [f"{v:.3f}" for v in after], flush=True)
    if np.mean(after) > np.mean(before):
        model.save_npz(args.out)
        print("saved", args.out)
    else:
        print("no improvement: not saved")


if __name__ == "__main__":
    main()
