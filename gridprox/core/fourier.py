"""Sampling operators: masked / subsampled 2-D Fourier transforms (MRI), pixel masks
(inpainting) and colour mosaics (demosaicking).

Each one's Gram KᵀK is diagonal — in the Fourier basis for the Fourier sampler, in
pixel space for masks and mosaics — and says so through ``fourier_gram`` /
``spatial_gram``, so that a quadratic data term with them is solved in closed form.
"""
from __future__ import annotations

import torch

from .convolution import _complex_of, _real_of
from .operators import Diagonal, LinearOperator


def _check_mask(mask, shape, who: str) -> torch.Tensor:
    mask = torch.as_tensor(mask)
    if mask.is_complex() or not bool(torch.isfinite(mask).all()):
        raise ValueError(f"{who}: mask must be real and finite")
    if tuple(mask.shape) != tuple(shape[len(shape) - mask.dim():]) or mask.dim() > len(shape):
        raise ValueError(f"{who}: mask of shape {tuple(mask.shape)} does not match the trailing "
                         f"dims of images of shape {tuple(shape)}")
    return mask


class FourierSampling(LinearOperator):
    """y = M ⊙ F x: the orthonormal 2-D DFT over the last two dims, weighted by a mask.

    ``mask`` has shape (H, W) (or a trailing part of ``shape``) in unshifted FFT order
    (DC at [0, 0]).  ``compact=True`` returns only the sampled entries, shape
    (…, nnz) per leading image index, instead of the zero-filled grid.
    ``real_input=True`` declares x real: the adjoint then returns the real part, and
    the Gram in Fourier becomes (|M|²(k) + |M|²(−k))/2.
    """

    def __init__(self, mask, shape, compact: bool = False, real_input: bool = False):
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError(f"FourierSampling: images need two dims, got shape {shape}")
        mask = _check_mask(mask, shape, "FourierSampling")
        if mask.dim() < 2:
            raise ValueError("FourierSampling: mask must be at least (H, W)")
        self.mask, self.compact, self.real_input = mask, compact, real_input
        if compact:
            self.index = torch.nonzero(mask.reshape(-1)).squeeze(1)
            lead = shape[: len(shape) - mask.dim()]
            out = (*lead, int(self.index.numel()))
        else:
            out = shape
        super().__init__(shape, out)
        self._cache: dict = {}

    def _mask(self, dtype, device) -> torch.Tensor:
        key = (dtype, device)
        if key not in self._cache:
            self._cache[key] = self.mask.to(dtype=_real_of(dtype), device=device)
        return self._cache[key]

    def forward(self, x):
        batch = self.batch_shape(x, self.in_shape, "forward")
        k = torch.fft.fft2(x.to(_complex_of(x.dtype)), norm="ortho")
        if not self.compact:
            return k * self._mask(k.dtype, k.device)
        m = self._mask(k.dtype, k.device).reshape(-1)
        flat = k.reshape(*batch, *self.out_shape[:-1], -1)
        return flat[..., self.index] * m[self.index.to(k.device)]

    def adjoint(self, y):
        batch = self.batch_shape(y, self.out_shape, "adjoint")
        m = self._mask(y.dtype, y.device)
        if self.compact:
            grid = y.new_zeros((*batch, *self.out_shape[:-1], m.numel()))
            grid[..., self.index.to(y.device)] = y * m.reshape(-1)[self.index.to(y.device)]
            k = grid.reshape(*batch, *self.in_shape)
        else:
            k = y * m
        x = torch.fft.ifft2(k, norm="ortho")
        return x.real if self.real_input else x

    def fourier_gram(self, real: bool, dtype=torch.float64, device=None) -> torch.Tensor:
        """Eigenvalues of KᵀK in the orthonormal Fourier basis (rfft2 half grid if ``real``)."""
        g = self.mask.to(dtype=_real_of(dtype), device=device) ** 2
        if self.real_input:  # Re(Fᴴ M² F): symmetrise k and −k
            g = 0.5 * (g + torch.roll(torch.flip(g, dims=(-2, -1)), shifts=(1, 1), dims=(-2, -1)))
        if real:
            if not self.real_input:
                return None  # a complex-valued model cannot be solved over real x in closed form
            g = g[..., : self.in_shape[-1] // 2 + 1]
        return g

    def norm_bound(self) -> float:
        return float(self.mask.abs().max()) if self.mask.numel() else 0.0

    def norm_estimate(self, *args, **kwargs) -> float:
        return self.norm_bound()

    @property
    def device(self):
        return self.mask.device

    def to(self, device=None, dtype=None):
        mask = self.mask.to(device=device) if device is not None else self.mask
        return FourierSampling(mask, self.in_shape, self.compact, self.real_input)


class Mask(Diagonal):
    """K x = m ⊙ x with m broadcast over the leading dims of ``shape`` (e.g. channels)."""

    def __init__(self, mask, shape):
        shape = tuple(int(s) for s in shape)
        mask = _check_mask(mask, shape, "Mask")
        super().__init__(mask.expand(shape))

    def spatial_gram(self) -> torch.Tensor:
        return self.d.abs() ** 2


class Mosaic(LinearOperator):
    """Colour filter array: (C, H, W) -> (H, W), y = Σ_c pattern_c ⊙ x_c.

    ``pattern`` is a (C, H, W) 0/1 array with one channel per pixel (for a Bayer
    mosaic see ``bayer_pattern``).  KᵀK is diagonal in pixel space (one channel is
    seen per pixel)."""

    def __init__(self, pattern):
        pattern = torch.as_tensor(pattern)
        if pattern.dim() != 3:
            raise ValueError(f"Mosaic: pattern must be (C, H, W), got {tuple(pattern.shape)}")
        if not bool(((pattern == 0) | (pattern == 1)).all()) or not bool((pattern.sum(0) <= 1).all()):
            raise ValueError("Mosaic: pattern must be 0/1 with at most one channel per pixel")
        super().__init__(tuple(pattern.shape), tuple(pattern.shape[1:]))
        self.pattern = pattern

    def forward(self, x):
        self.batch_shape(x, self.in_shape, "forward")
        return (self.pattern.to(dtype=x.dtype, device=x.device) * x).sum(-3)

    def adjoint(self, y):
        self.batch_shape(y, self.out_shape, "adjoint")
        return self.pattern.to(dtype=y.dtype, device=y.device) * y.unsqueeze(-3)

    def spatial_gram(self) -> torch.Tensor:
        return self.pattern.to(torch.float64)

    def norm_bound(self) -> float:
        return 1.0 if bool(self.pattern.any()) else 0.0

    def norm_estimate(self, *args, **kwargs) -> float:
        return self.norm_bound()

    @property
    def device(self):
        return self.pattern.device

    def to(self, device=None, dtype=None):
        return Mosaic(self.pattern.to(device=device) if device is not None else self.pattern)


def bayer_pattern(H: int, W: int, layout: str = "RGGB") -> torch.Tensor:
    """The (3, H, W) 0/1 pattern of a Bayer mosaic with the given 2x2 ``layout``."""
    if sorted(layout.upper()) != sorted("RGGB"):
        raise ValueError(f"bayer_pattern: layout {layout!r} is not a permutation of RGGB")
    p = torch.zeros((3, H, W), dtype=torch.float64)
    for (i, j), c in zip([(0, 0), (0, 1), (1, 0), (1, 1)], layout.upper()):
        p["RGB".index(c), i::2, j::2] = 1.0
    return p
