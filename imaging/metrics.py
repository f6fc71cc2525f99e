"""Image quality metrics."""
from __future__ import annotations

import numpy as np
import torch


def psnr(x, ref, data_range: float = 1.0) -> float:
    """10 log10(range² / MSE); complex inputs are compared by magnitude."""
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    ref = ref.detach().cpu().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    x, ref = (np.abs(x) if np.iscomplexobj(x) else x), (np.abs(ref) if np.iscomplexobj(ref) else ref)
    if x.shape != ref.shape:
        raise ValueError(f"psnr: shapes {x.shape} and {ref.shape} differ")
    mse = float(np.mean((x.astype(np.float64) - ref.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(data_range ** 2 / mse)
