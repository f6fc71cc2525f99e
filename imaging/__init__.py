"""imaging: inverse problems (deconvolution, TV denoising, compressive MRI, inpainting,
plug-and-play priors) as a small modelling language on gridprox's proximal core."""
from .expressions import (Variable, Expression, Term, Objective, sum_squares, norm1,  # noqa: F401
                          group_norm1, tv, nonneg, box, conv, grad, mask, fourier_sample, mosaic, linop)
from .problem import Problem, METHODS, DEFAULT_TOL, PDHG_RELAX, IterationLimitWarning  # noqa: F401
from .priors import denoiser_prior, DenoiserPrior  # noqa: F401,E402
from .dncnn import DnCNN, pretrained_dncnn  # noqa: F401,E402
from .wrappers import deconvolve, denoise_tv, mri_reconstruct, inpaint  # noqa: F401,E402
from .data import load_image, shepp_logan, cartesian_mask, radial_mask, gaussian_psf, blur  # noqa: F401,E402
from .metrics import psnr  # noqa: F401,E402
