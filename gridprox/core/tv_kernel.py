"""PDHG's plain iterations on  f(x) + radius·TV(x)  as one C sweep per iteration (tv_kernel.c),
f pixel-diagonal: f(x) = Σ ½ d x² − r x (denoising, inpainting).

The eager iteration (``splitting.pdhg`` with ``finite_diff.tv_dual_step``) is ~20 elementwise
passes over the image, each its own torch kernel; the C sweep reads and writes x, y and Kᵀy
once per iteration (RESULTS, issue 29).  A check's step and its residual sums are one more
call.  Same iterates to rounding (tests/test_core_imaging_ops.py).
Built on first use with ``native_cache`` (the LP kernel's hardened cache); where there is no
compiler, or ``GRIDPROX_NATIVE=0``, ``tv_pdhg_iterations`` returns None and PDHG stays on
torch, as it does on other devices, for complex or autograd iterates and for other shapes.
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Optional

import torch

from .native_cache import FLAGS, KernelSource, build, load_once

# -fno-math-errno: sqrt's argument is ≥ radius² > 0, and without errno its loop vectorises
SPEC = KernelSource(Path(__file__).with_name("tv_kernel.c"),
                    {"tv_pdhg_f64": "-DONLY_FLOAT64", "tv_pdhg_f32": "-DONLY_FLOAT32"},
                    {"tv_pdhg_f64": ("tv_pdhg_f64", "tv_check_f64"), "tv_pdhg_f32": ("tv_pdhg_f32", "tv_check_f32")},
                    29317, "tv_kernel", "the TV-PDHG C kernel", (*FLAGS, "-fno-math-errno"))
_STATE: dict = {}              # "lib" or "error", once per process
_NAME = {torch.float64: "tv_pdhg_f64", torch.float32: "tv_pdhg_f32"}
_REAL = {torch.float64: ctypes.c_double, torch.float32: ctypes.c_float}


def _load():
    if os.environ.get("GRIDPROX_NATIVE", "1") == "0":
        raise RuntimeError("disabled by GRIDPROX_NATIVE=0")
    lib = {}
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    for name, path in build(os.environ.get("CC", "cc"), SPEC).items():
        so = ctypes.CDLL(str(path))
        real = _REAL[torch.float64 if name.endswith("f64") else torch.float32]
        data = [ptr, ptr, ptr, ptr, i64, real, ptr, i64, real]         # x, y, Kᵀy, r, d
        lib[name] = fn = getattr(so, name)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_int, ctypes.c_int, i64, i64, i64, *data, real, real, real, real, real]
        lib[name + "_check"] = check = getattr(so, name.replace("pdhg", "check"))
        check.restype = ctypes.c_int
        check.argtypes = [ctypes.c_int, i64, i64, i64, *data, real, real, real, real, ptr, ptr, ptr, ptr]
    return lib


def library():
    """The kernel's functions by name (``tv_pdhg_f64``, ``tv_pdhg_f32``), or None
    (the reason is in ``unavailable()``)."""
    return load_once(_STATE, _load)


def unavailable() -> Optional[str]:
    """Why the kernel cannot be used in this process (None when it can)."""
    library()
    return _STATE.get("error")


def _pixel_data(v, x: torch.Tensor):
    """(tensor or None, image stride, scalar) for r or d: a number, one image shared by the
    batch, or one per image; None where ``v`` is none of these."""
    H, W = x.shape[-2:]
    if isinstance(v, (int, float)):
        return None, 0, float(v)
    if not isinstance(v, torch.Tensor) or v.is_complex() or v.requires_grad:
        return None
    if v.numel() == 1:
        return None, 0, float(v)
    if tuple(v.shape[-2:]) != (H, W) or v.numel() not in (H * W, x.numel()):
        return None
    t = v.to(device=x.device, dtype=x.dtype).contiguous()
    return t, (0 if t.numel() == H * W else H * W), 0.0


class TVIterations:
    """``splitting.pdhg``'s ``plain_iterations`` for  Σ ½ d x² − r x + radius·TV(x):
    ``(x, [y], Kᵀy, τ, σ, θ, ρ, count)`` advances x, y, Kᵀy in place by ``count`` iterations
    and returns True, or False (nothing done) where the tensors are not the kernel's;
    ``check(x, [y], Kᵀy, τ, σ, θ)`` is a check's step (see ``check``)."""

    def __init__(self, fns, x, r, d, radius: float):
        self.fn, self.check_fn = fns
        self.shape, self.dtype, self.radius = tuple(x.shape), x.dtype, float(radius)
        self.r, self.d = r, d

    def _args(self, x, ys, kty):
        """The C arguments for the iterates and data, or None where the iterates are not the kernel's."""
        H, W = self.shape[-2:]
        if len(ys) != 1 or tuple(x.shape) != self.shape or tuple(kty.shape) != self.shape \
                or tuple(ys[0].shape) != (*self.shape[:-2], 2, H, W) \
                or any(t.dtype != self.dtype or t.device.type != "cpu" or not t.is_contiguous() or t.requires_grad
                       for t in (x, ys[0], kty)):
            return None
        (r, rs, r0), (d, ds, d0) = self.r, self.d
        return (x.numel() // (H * W), H, W, x.data_ptr(), ys[0].data_ptr(), kty.data_ptr(),
                None if r is None else r.data_ptr(), rs, r0, None if d is None else d.data_ptr(), ds, d0)

    def __call__(self, x, ys, kty, tau, sigma, theta, relax, count) -> bool:
        args = self._args(x, ys, kty)
        if args is None:
            return False
        rc = self.fn(int(count), torch.get_num_threads(), *args, tau, sigma, theta, relax, self.radius)
        if rc != 0:
            raise RuntimeError(f"tv_kernel returned {rc} for images {self.shape}")
        return True

    def check(self, x, ys, kty, tau, sigma, theta):
        """(x̃, [ỹ], Kᵀỹ, sums) of a check, the iterates left as they are (None where they are
        not the kernel's): ``sums`` (..., 6) per image, float64, are ‖ξ + Kᵀỹ‖², ‖ξ‖², ‖Kᵀỹ‖²,
        ‖ζ − Kx̃‖², ‖ζ‖², ‖Kx̃‖² of ``splitting.pdhg``'s residual test."""
        args = self._args(x, ys, kty)
        if args is None:
            return None
        x_new, y_new, kty_new = torch.empty_like(x), torch.empty_like(ys[0]), torch.empty_like(kty)
        sums = torch.empty(*self.shape[:-2], 6, dtype=torch.float64)
        rc = self.check_fn(torch.get_num_threads(), *args, tau, sigma, theta, self.radius, x_new.data_ptr(),
                           y_new.data_ptr(), kty_new.data_ptr(), sums.data_ptr())
        if rc != 0:
            raise RuntimeError(f"tv_kernel check returned {rc} for images {self.shape}")
        return x_new, [y_new], kty_new, sums


def tv_pdhg_iterations(x: torch.Tensor, r, d, radius: float) -> Optional[TVIterations]:
    """The kernel's iterations for PDHG on  Σ ½ d x² − r x + radius·TV(x)  over the last two
    dims of ``x`` (r, d: numbers, an image, or one per image of x), where it applies: CPU,
    real float32/float64 iterates without autograd, images at least 2×2, radius > 0; else None.
    Every dim before the last two counts images: the duals are laid out (..., 2, H, W)."""
    if (x.device.type != "cpu" or x.dtype not in _NAME or x.dim() < 2 or min(x.shape[-2:]) < 2
            or x.requires_grad or not radius > 0):
        return None
    rd = [_pixel_data(v, x) for v in (r, d)]
    if None in rd:
        return None
    lib = library()
    if lib is None:
        return None
    name = _NAME[x.dtype]
    return TVIterations((lib[name], lib[name + "_check"]), x, rd[0], rd[1], radius)
