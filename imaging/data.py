"""Offline test images, the Shepp–Logan phantom, and MRI sampling masks.

Masks are returned in unshifted FFT order (DC at [0, 0]), the order
``gridprox.core.FourierSampling`` and ``imaging.fourier_sample`` use.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGES = Path(__file__).resolve().parents[1] / "datasets" / "images"


def load_image(name: str = "cameraman") -> np.ndarray:
    """A shipped 512x512 gray image as float64 in [0, 1] (see datasets/images/README.md)."""
    path = IMAGES / f"{name}.npy"
    if not path.exists():
        raise FileNotFoundError(f"image {name!r} not shipped; have {sorted(p.stem for p in IMAGES.glob('*.npy'))}")
    return np.load(path).astype(np.float64) / 255.0


def gaussian_psf(sigma: float = 1.6, size: int = 11) -> np.ndarray:
    """A normalised ``size``×``size`` Gaussian blur kernel (centre at size//2)."""
    t = np.arange(size, dtype=np.float64) - size // 2
    g = np.exp(-t ** 2 / (2.0 * sigma ** 2))
    k = np.outer(g, g)
    return k / k.sum()


def blur(image, psf) -> np.ndarray:
    """``image`` circularly convolved with ``psf`` over its last two dims: the forward
    model of ``imaging.conv`` (psf centred at (kh//2, kw//2)), for making test data."""
    import torch

    from gridprox.core import Convolution

    img = np.asarray(image, dtype=np.float64)
    op = Convolution(torch.as_tensor(np.asarray(psf, dtype=np.float64)), img.shape[-2:])
    return op.forward(torch.from_numpy(img)).numpy()


# (intensity, semi-axis a, semi-axis b, centre x, centre y, angle in degrees):
# Shepp & Logan 1974 ellipses with Toft's "modified" intensities (better contrast).
_ELLIPSES = [(1.0, .69, .92, 0, 0, 0), (-.8, .6624, .874, 0, -.0184, 0), (-.2, .11, .31, .22, 0, -18),
             (-.2, .16, .41, -.22, 0, 18), (.1, .21, .25, 0, .35, 0), (.1, .046, .046, 0, .1, 0),
             (.1, .046, .046, 0, -.1, 0), (.1, .046, .023, -.08, -.605, 0), (.1, .023, .023, 0, -.606, 0),
             (.1, .023, .046, .06, -.605, 0)]


def shepp_logan(n: int = 256) -> np.ndarray:
    """The modified Shepp–Logan phantom on an n×n grid, values in [0, 1]."""
    c = (np.arange(n) - (n - 1) / 2) / (n / 2)
    X, Y = np.meshgrid(c, -c)
    img = np.zeros((n, n))
    for v, a, b, x0, y0, deg in _ELLIPSES:
        t = np.deg2rad(deg)
        xr = (X - x0) * np.cos(t) + (Y - y0) * np.sin(t)
        yr = -(X - x0) * np.sin(t) + (Y - y0) * np.cos(t)
        img[(xr / a) ** 2 + (yr / b) ** 2 <= 1] += v
    return np.clip(img, 0.0, 1.0)


def cartesian_mask(shape, accel: float, center_fraction: float | None = None, seed: int = 0) -> np.ndarray:
    """Random phase-encode lines (rows) keeping 1/accel of them, the central
    ``center_fraction`` always (default 0.32/accel: 8 % at 4x, 4 % at 8x)."""
    H, W = shape
    if accel < 1:
        raise ValueError(f"cartesian_mask: accel must be >= 1, got {accel}")
    center_fraction = 0.32 / accel if center_fraction is None else center_fraction
    n_keep = int(round(H / accel))
    n_center = min(int(round(H * center_fraction)), n_keep)
    rows = np.zeros(H, dtype=bool)
    c0 = H // 2 - n_center // 2
    rows[c0: c0 + n_center] = True
    rng = np.random.default_rng(seed)
    rest = rng.choice(np.flatnonzero(~rows), size=n_keep - n_center, replace=False)
    rows[rest] = True
    mask = np.repeat(rows[:, None], W, axis=1).astype(np.float64)
    return np.fft.ifftshift(mask)


def radial_mask(shape, accel: float | None = None, spokes: int | None = None) -> np.ndarray:
    """Straight spokes through the k-space centre at uniformly spaced angles; with
    ``accel`` the fewest spokes that sample at least 1/accel of k-space."""
    H, W = shape
    if (accel is None) == (spokes is None):
        raise ValueError("radial_mask: give exactly one of accel= or spokes=")

    def draw(m):
        mask = np.zeros((H, W))
        r = np.arange(-max(H, W), max(H, W) + 1) * 0.5
        for ang in np.arange(m) * np.pi / m:
            i = np.round(H / 2 + r * np.sin(ang)).astype(int)
            j = np.round(W / 2 + r * np.cos(ang)).astype(int)
            ok = (i >= 0) & (i < H) & (j >= 0) & (j < W)
            mask[i[ok], j[ok]] = 1.0
        return mask

    if spokes is None:
        spokes = 1
        while draw(spokes).mean() < 1.0 / accel:
            spokes += 1
    return np.fft.ifftshift(draw(spokes))
