"""Convert SCICO's pretrained DnCNN weights (flax msgpack) to the .npz files that
imaging.dncnn loads, with numpy + msgpack only (no JAX).

    pip download --no-deps scico==0.0.7 -d /tmp/scico
    python imaging/scripts/convert_scico_dncnn.py /tmp/scico/scico-0.0.7-py3-none-any.whl dncnn6N dncnn17N

Source: scico 0.0.7 wheel, scico/data/flax/dncnn*.mpk, BSD-3-Clause, Copyright (c)
2021-2025 Los Alamos National Laboratory (the licence text is copied next to the
weights as imaging/weights/LICENSE-scico).  Layout changes only: flax conv kernels
(kh, kw, in, out) become torch (out, in, kh, kw); BatchNorm scale/bias and running
mean/var are kept; values are not altered.
"""
import io
import sys
import zipfile
from pathlib import Path

import msgpack
import numpy as np


def _ext(code, data):
    if code == 1:  # flax's ndarray extension: (shape, dtype, bytes)
        shape, dtype, buf = msgpack.unpackb(data)
        return np.frombuffer(buf, dtype=dtype).reshape(shape)
    return msgpack.ExtType(code, data)


def convert(raw: bytes) -> dict:
    tree = msgpack.unpackb(raw, ext_hook=_ext, raw=False, strict_map_key=False)
    p, s = tree["params"], tree["batch_stats"]
    blocks = sorted((k for k in p if k.startswith("ConvBNBlock_")), key=lambda k: int(k.split("_")[1]))
    out = {"conv_start": p["conv_start"]["kernel"].transpose(3, 2, 0, 1),
           "conv_end": p["conv_end"]["kernel"].transpose(3, 2, 0, 1)}
    for i, b in enumerate(blocks):
        out[f"block{i}.conv"] = p[b]["Conv_0"]["kernel"].transpose(3, 2, 0, 1)
        out[f"block{i}.bn_scale"] = p[b]["BatchNorm_0"]["scale"]
        out[f"block{i}.bn_bias"] = p[b]["BatchNorm_0"]["bias"]
        out[f"block{i}.bn_mean"] = s[b]["BatchNorm_0"]["mean"]
        out[f"block{i}.bn_var"] = s[b]["BatchNorm_0"]["var"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def main(wheel: str, *names: str) -> None:
    dest = Path(__file__).resolve().parents[1] / "weights"
    with zipfile.ZipFile(wheel) as z:
        for name in names or ("dncnn6N",):
            arrays = convert(z.read(f"scico/data/flax/{name}.mpk"))
            np.savez_compressed(dest / f"{name}.npz", **arrays)
            print(name, sum(a.size for a in arrays.values()), "parameters ->", dest / f"{name}.npz")
        lic = [n for n in z.namelist() if n.endswith("licenses/LICENSE")]
        (dest / "LICENSE-scico").write_bytes(z.read(lic[0]))


if __name__ == "__main__":
    main(*sys.argv[1:])
