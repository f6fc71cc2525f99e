"""Circular 2-D convolution by FFT, with its adjoint and its Fourier symbol.

Circular boundaries make the operator diagonal in the 2-D Fourier basis, which is
what lets a quadratic data term ½‖k∗x − b‖² be solved in closed form (see
``quadratic.py``).  The kernel's spectrum (the OTF) is computed once per
dtype/device and cached.
"""
from __future__ import annotations

import torch

from .operators import LinearOperator


def _complex_of(dtype: torch.dtype) -> torch.dtype:
    return {torch.float32: torch.complex64, torch.float64: torch.complex128}.get(dtype, dtype)


def _real_of(dtype: torch.dtype) -> torch.dtype:
    return {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(dtype, dtype)


class Convolution(LinearOperator):
    """K x = k ∗ x, circular, over the last two dims of x.

    ``psf`` is a real (kh, kw) kernel whose centre is at index (kh//2, kw//2);
    ``shape`` is the image shape (…, H, W): every leading dim (channels) is convolved
    with the same kernel.  Real and complex inputs are both accepted.
    """

    def __init__(self, psf, shape):
        psf = torch.as_tensor(psf)
        shape = tuple(int(s) for s in shape)
        if psf.dim() != 2:
            raise ValueError(f"Convolution: psf must be 2-D, got shape {tuple(psf.shape)}")
        if len(shape) < 2 or psf.shape[0] > shape[-2] or psf.shape[1] > shape[-1]:
            raise ValueError(f"Convolution: psf {tuple(psf.shape)} does not fit images of shape {shape}")
        if psf.is_complex() or not bool(torch.isfinite(psf).all()):
            raise ValueError("Convolution: psf must be real and finite")
        super().__init__(shape, shape)
        self.psf = psf
        self._cache: dict = {}

    # The kernel padded to the image and rolled so that its centre sits at (0, 0).
    def _padded(self, dtype, device) -> torch.Tensor:
        H, W = self.in_shape[-2:]
        kh, kw = self.psf.shape
        pad = torch.zeros((H, W), dtype=dtype, device=device)
        pad[:kh, :kw] = self.psf.to(dtype=dtype, device=device)
        return torch.roll(pad, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))

    def fourier_symbol(self, real: bool, dtype=torch.float64, device=None) -> torch.Tensor:
        """The OTF: F(k∗x) = symbol ⊙ F(x).  Half spectrum (rfft2 grid) when ``real``."""
        dtype, device = _real_of(dtype), torch.device(device or self.psf.device)
        key = (real, dtype, device)
        if key not in self._cache:
            pad = self._padded(dtype, device)
            self._cache[key] = torch.fft.rfft2(pad) if real else torch.fft.fft2(pad)
        return self._cache[key]

    def fourier_gram(self, real: bool, dtype=torch.float64, device=None) -> torch.Tensor:
        """Eigenvalues of KᵀK in the Fourier basis: |OTF|²."""
        return self.fourier_symbol(real, dtype, device).abs() ** 2

    def forward(self, x):
        return self._apply(x, conj=False)

    def adjoint(self, y):
        return self._apply(y, conj=True)

    def _apply(self, x: torch.Tensor, conj: bool) -> torch.Tensor:
        self.batch_shape(x, self.in_shape, "adjoint" if conj else "forward")
        real = not x.is_complex()
        otf = self.fourier_symbol(real, x.dtype, x.device)
        if conj:
            otf = otf.conj()
        if real:
            return torch.fft.irfft2(torch.fft.rfft2(x) * otf, s=x.shape[-2:])
        return torch.fft.ifft2(torch.fft.fft2(x) * otf)

    def norm_bound(self) -> float:
        """‖K‖₂ exactly: the largest |OTF|."""
        return float(self.fourier_symbol(True).abs().max())

    def norm_estimate(self, *args, **kwargs) -> float:
        return self.norm_bound()

    @property
    def device(self):
        return self.psf.device

    def to(self, device=None, dtype=None):
        psf = self.psf.to(device=device) if device is not None else self.psf
        return Convolution(psf.to(dtype) if dtype is not None else psf, self.in_shape)
