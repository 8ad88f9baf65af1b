"""The README's Quickstart demo: the compiled training step reproduces the eager loss
curve and the loss falls."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import demo  # noqa: E402


def test_demo_compiled_curve_matches_eager_and_loss_falls(capsys):
    eager, compiled = demo.main(steps=40, batch=128, every=10)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4)
    assert eager[-1] < 0.5 * eager[0]
    out = capsys.readouterr().out
    assert "compiled loss" in out and "median step time" in out
