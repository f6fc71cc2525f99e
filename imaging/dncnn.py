"""DnCNN denoiser (Zhang et al., IEEE TIP 2017) in torch, with offline weights.

Architecture of SCICO's flax DnCNN, whose pretrained weights ship converted in
imaging/weights (see imaging/scripts/convert_scico_dncnn.py and
imaging/weights/LICENSE-scico, BSD-3-Clause): 3x3 convolutions with circular
padding and no bias, BatchNorm (running statistics, eps 1e-5) and ReLU; residual
output x − net(x).  The "N" variants take the noise level as a second constant input
channel, σ on the [0, 1] intensity scale (trained for σ ≤ 0.2).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS = Path(__file__).resolve().parent / "weights"


class DnCNN(nn.Module):
    def __init__(self, depth: int = 6, channels: int = 1, features: int = 64, sigma_input: bool = True):
        super().__init__()
        extra = 1 if sigma_input else 0
        self.sigma_input = sigma_input
        self.conv_start = nn.Conv2d(channels + extra, features, 3, bias=False)
        self.blocks = nn.ModuleList(nn.Conv2d(features, features, 3, bias=False) for _ in range(depth - 2))
        self.norms = nn.ModuleList(nn.BatchNorm2d(features, eps=1e-5) for _ in range(depth - 2))
        self.conv_end = nn.Conv2d(features, channels + extra, 3, bias=False)
        self.channels = channels

    @staticmethod
    def _conv(conv, x):
        return conv(F.pad(x, (1, 1, 1, 1), mode="circular"))

    def forward(self, x: torch.Tensor, sigma=None) -> torch.Tensor:
        """Denoise x of shape (N, C, H, W); ``sigma`` (float or (N,) tensor) is required
        by the noise-level-conditional variants and ignored by the others."""
        inp = x
        if self.sigma_input:
            if sigma is None:
                raise ValueError("this DnCNN needs the noise level: call model(x, sigma)")
            s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
            inp = torch.cat([x, s.expand(x.shape[0], 1, *x.shape[2:])], dim=1)
        h = F.relu(self._conv(self.conv_start, inp))
        for conv, bn in zip(self.blocks, self.norms):
            h = F.relu(bn(self._conv(conv, h)))
        return x - self._conv(self.conv_end, h)[:, : self.channels]

    def load_npz(self, path) -> "DnCNN":
        a = np.load(path)
        with torch.no_grad():
            self.conv_start.weight.copy_(torch.from_numpy(a["conv_start"]))
            self.conv_end.weight.copy_(torch.from_numpy(a["conv_end"]))
            for i, (conv, bn) in enumerate(zip(self.blocks, self.norms)):
                conv.weight.copy_(torch.from_numpy(a[f"block{i}.conv"]))
                bn.weight.copy_(torch.from_numpy(a[f"block{i}.bn_scale"]))
                bn.bias.copy_(torch.from_numpy(a[f"block{i}.bn_bias"]))
                bn.running_mean.copy_(torch.from_numpy(a[f"block{i}.bn_mean"]))
                bn.running_var.copy_(torch.from_numpy(a[f"block{i}.bn_var"]))
        return self

    def save_npz(self, path) -> None:
        """The weights in the layout ``load_npz`` reads (float32)."""
        arr = {"conv_start": self.conv_start.weight, "conv_end": self.conv_end.weight}
        for i, (conv, bn) in enumerate(zip(self.blocks, self.norms)):
            arr.update({f"block{i}.conv": conv.weight, f"block{i}.bn_scale": bn.weight,
                        f"block{i}.bn_bias": bn.bias, f"block{i}.bn_mean": bn.running_mean,
                        f"block{i}.bn_var": bn.running_var})
        if getattr(self, "pnp_offsets", None) is not None:  # a PnP schedule learned with these weights
            arr["pnp_offsets"] = self.pnp_offsets
        np.savez(path, **{k: v.detach().cpu().float().numpy() for k, v in arr.items()})


def pretrained_dncnn(name: str = "dncnn6N", path=None, device=None, dtype=torch.float32) -> DnCNN:
    """A pretrained DnCNN in eval mode: "dncnn6N" (6 layers, 151k parameters,
    σ-conditional, the one shipped), or a local ``path`` to an .npz in the same layout
    (e.g. other SCICO variants converted by the script, or weights fine-tuned here)."""
    path = Path(path) if path is not None else WEIGHTS / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"DnCNN weights {path} not found (shipped: "
                                f"{', '.join(p.stem for p in WEIGHTS.glob('*.npz'))})")
    a = np.load(path)
    depth = 2 + sum(1 for k in a.files if k.endswith(".conv"))
    in_ch = a["conv_start"].shape[1]
    out_ch = a["conv_end"].shape[0]
    sigma_input = in_ch == out_ch == 2  # grayscale + a σ channel (SCICO's "N" variants)
    model = DnCNN(depth=depth, channels=in_ch - (1 if sigma_input else 0), sigma_input=sigma_input)
    if "pnp_offsets" in a.files:  # learned PnP-HQS schedule offsets (imaging.priors.DenoiserPrior.schedule)
        model.register_buffer("pnp_offsets", torch.from_numpy(a["pnp_offsets"]))
    return model.load_npz(path).to(device=device, dtype=dtype).eval()
