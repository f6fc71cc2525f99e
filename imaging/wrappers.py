"""One-call reconstructions.  Each returns the image in the type of its input (numpy in,
numpy out; tensor in, tensor out, on the input's device), solving the stated objective
with ``Problem`` (keyword arguments such as method=, tol=, max_iter= pass through to
``Problem.solve``).  Every dim before the last two is a batch dim: each image (and
each channel) is an independent problem that stops on its own residual test.

    deconvolve(b, psf, lam)         ½‖k∗x − b‖² + lam·TV(x)       (circular convolution)
    denoise_tv(b, lam)              ½‖x − b‖² + lam·TV(x)
    mri_reconstruct(y, mask, lam)   ½‖M⊙F x − y‖² + lam·TV(x)     (x complex, F orthonormal)
    inpaint(b, mask, lam)           ½‖m⊙(x − b)‖² + lam·TV(x)

``prior="pnp"`` replaces lam·TV by a plug-and-play denoiser (``model=``, default
``PNP_MODELS[wrapper]``; ``sigma=`` the noise level on the image's intensity scale).  The
method and its settings default per wrapper (``PNP_DEFAULTS``), chosen on astronaut and
chelsea crops (never on cameraman, held out for comparisons/imaging_speed.py): deblurring by
PnP-HQS, DPIR's schedule from ``sigma_max`` 0.2 down to sigma in 12 iterations, with the
17-layer DnCNN-17N trained through this loop on blurred data (``dncnn17N_deblur``); MRI,
whose zero-filled aliasing is stronger, by PnP-ADMM, 100 iterations with the denoiser at
2·sigma (+0.86 dB mean over PnP-HQS on the validation images, radial 4x), with the 6-layer
DnCNN-6N (17N was worse with Cartesian masks) trained through a 40-iteration HQS loop on
radial 4x data (``dncnn6N_mri``; method="hqs" runs that loop); both trained by
imaging/scripts/train_unrolled_pnp.py.  ``full_output=True`` returns (image, Problem).
"""
from __future__ import annotations

import numpy as np
import torch

from .expressions import Variable, as_tensor, conv, fourier_sample, mask as mask_op, sum_squares, tv
from .problem import Problem

# default DnCNN weights per wrapper (imaging/weights/README.md says why)
PNP_MODELS = {"deconvolve": "dncnn17N_deblur", "mri_reconstruct": "dncnn6N_mri", "inpaint": "dncnn6N"}
# per wrapper: the default PnP method, and per method (iterations, denoiser strength / sigma);
# a method not listed runs Problem.solve's default iterations at sigma
PNP_DEFAULTS = {"deconvolve": ("hqs", {"hqs": (12, 1.0)}),
                "mri_reconstruct": ("admm", {"admm": (100, 2.0), "hqs": (40, 1.0)}),
                "inpaint": ("hqs", {"hqs": (40, 1.0)})}


def _prepare(b, what: str, complex_: bool = False):
    is_np = not isinstance(b, torch.Tensor)
    t = as_tensor(b, what)
    if t.dim() < 2:
        raise ValueError(f"{what} must have at least 2 dims (H, W), got shape {tuple(t.shape)}")
    if not (t.is_floating_point() or t.is_complex()):
        t = t.to(torch.float64)
    real_dtype = t.real.dtype if t.is_complex() else t.dtype
    if real_dtype not in (torch.float32, torch.float64):
        real_dtype = torch.float64
    return t, is_np, real_dtype


def _solve(data_term_fn, b, what, lam, prior, complex_, solve_kw, model=None, sigma=None, nonneg=False,
           full_output=False, sigma_max=0.1, wrapper="deconvolve"):
    t, is_np, dtype = _prepare(b, what, complex_)
    device = solve_kw.pop("device", None) or (t.device if not is_np else None)
    x = Variable(t.shape, batch_ndim=t.dim() - 2, complex=complex_)
    obj = data_term_fn(x, t)
    if prior == "tv":
        if lam is None or lam < 0:
            raise ValueError(f"lam must be a nonnegative number for prior='tv', got {lam!r}")
        obj = obj + lam * tv(x)
        solve_kw.setdefault("method", "pdhg")
    elif prior == "pnp":
        from .dncnn import pretrained_dncnn
        from .priors import denoiser_prior
        if sigma is None:
            raise ValueError("prior='pnp' needs sigma= (the noise level on the image's intensity scale)")
        model = model if model is not None else pretrained_dncnn(PNP_MODELS[wrapper], device=device or "cpu")
        default_method, settings = PNP_DEFAULTS[wrapper]
        iters, strength = settings.get(solve_kw.setdefault("method", default_method), (None, 1.0))
        obj = obj + denoiser_prior(model, strength * sigma, sigma_max=sigma_max)
        if iters is not None:
            solve_kw.setdefault("max_iter", iters)
    else:
        raise ValueError(f"prior must be 'tv' or 'pnp', got {prior!r}")
    if nonneg:
        from .expressions import nonneg as nonneg_term
        obj = obj + nonneg_term(x)
    prob = Problem(obj)
    prob.solve(dtype=dtype, device=device, **solve_kw)
    out = x.value
    if is_np:
        out = out.detach().cpu().numpy()
    return (out, prob) if full_output else out


def deconvolve(b, psf, lam=None, prior: str = "tv", model=None, sigma=None, nonneg: bool = False,
               full_output: bool = False, sigma_max: float = 0.2, **solve_kw):
    """argmin ½‖k∗x − b‖² + lam·TV(x), k circular with centre (kh//2, kw//2)."""
    psf_t = as_tensor(psf, "psf")
    return _solve(lambda x, t: 0.5 * sum_squares(conv(x, psf_t) - t), b, "blurred image b", lam, prior,
                  False, solve_kw, model, sigma, nonneg, full_output, sigma_max)


def denoise_tv(b, lam, full_output: bool = False, **solve_kw):
    """argmin ½‖x − b‖² + lam·TV(x) (the ROF model)."""
    return _solve(lambda x, t: 0.5 * sum_squares(x - t), b, "noisy image b", lam, "tv", False, solve_kw,
                  full_output=full_output)


def mri_reconstruct(kspace, mask, lam=None, prior: str = "tv", model=None, sigma=None,
                    full_output: bool = False, sigma_max: float = 0.2, **solve_kw):
    """argmin_x ½‖M⊙(F x) − y‖² + lam·TV(x) over complex images x (F the orthonormal
    2-D FFT, mask in unshifted FFT order); returns the complex image."""
    m = as_tensor(mask, "k-space mask")
    return _solve(lambda x, t: 0.5 * sum_squares(fourier_sample(x, m) - t * m.to(t.device)), kspace,
                  "k-space data", lam, prior, True, solve_kw, model, sigma, False, full_output, sigma_max,
                  "mri_reconstruct")


def inpaint(b, mask, lam=None, prior: str = "tv", model=None, sigma=None, full_output: bool = False,
            sigma_max: float = 0.2, **solve_kw):
    """argmin ½‖m⊙(x − b)‖² + lam·TV(x): pixels where mask = 0 are unknown."""
    m = as_tensor(mask, "mask")
    return _solve(lambda x, t: 0.5 * sum_squares(mask_op(x, m) - t * m.to(t.device)), b, "image b", lam, prior,
                  False, solve_kw, model, sigma, False, full_output, sigma_max, "inpaint")
