"""The imaging snippets of README.md and imaging/README.md run as printed (on a 128² crop
of the shipped cameraman, so that they stay fast), and return the input's array type."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CROP = 'im.load_image("cameraman")[192:320, 192:320]'

pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py


def imaging_blocks(path: Path, heading: str | None = None) -> list[str]:
    """The ```python blocks that use `imaging`, under ``heading`` (to the next ## heading) if given."""
    text = path.read_text()
    if heading is not None:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[start: end if end > 0 else None]
    return [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "import imaging as im" in b]


def run(code: str) -> dict:
    assert 'im.load_image("cameraman")' in code, "the snippet must load the shipped image"
    scope: dict = {}
    exec(compile(code.replace('im.load_image("cameraman")', CROP), "snippet", "exec"), scope)
    return scope


def test_main_readme_imaging_snippet_runs():
    blocks = imaging_blocks(ROOT / "README.md", "## Imaging")
    assert len(blocks) == 1
    scope = run(blocks[0])
    x, truth = scope["x"].value, scope["truth"]
    assert isinstance(x, np.ndarray) and x.shape == truth.shape == (128, 128)
    assert scope["prob"].status == "optimal"
    assert scope["im"].psnr(x, truth) > scope["im"].psnr(scope["b"], truth) + 1.0


@pytest.mark.slow   # ~20 s: its plug-and-play call runs the 17-layer DnCNN 12 times
def test_imaging_readme_snippets_run():
    blocks = imaging_blocks(ROOT / "imaging" / "README.md")
    assert blocks
    for code in blocks:
        scope = run(code)
        im, truth = scope["im"], scope["truth"]
        for name in ("tv", "pnp", "recon"):
            if name in scope:
                assert isinstance(scope[name], np.ndarray) and scope[name].shape == truth.shape
        if "pnp" in scope:  # plug-and-play beats TV on the crop as on the whole image
            assert im.psnr(scope["pnp"], truth) > im.psnr(scope["tv"], truth)
