"""Every example in examples/ trains at small sizes and its loss falls to a target.

Thresholds come from runs over seeds 0-5 at these sizes, with margin: each names the
observed range next to it. Chance levels are the reference (ln 10 = 2.30 for ten classes,
ln V for a V-symbol vocabulary), so a model that does not learn cannot pass.
"""
import importlib.util
import math
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def load(name):
    """Import examples/<name>.py as a module (examples/ joins sys.path, as when run as a
    script, so ``from synthetic import ...`` resolves)."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location(f"ember_example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mlp_classifier_learns():
    r = load("mlp_classifier").main(epochs=4, n_train=512, n_test=256, hidden=64,
                                    batch_size=32, seed=0, verbose=False)
    assert r["history"][-1] < 0.3 * math.log(10)   # seen 0.21-0.34
    assert r["test_loss"] < 0.5 * math.log(10)     # seen 0.52-0.67
    assert r["accuracy"] > 0.75                    # seen 0.88-0.94; chance 0.1
    # The weights went through torch.save / torch.load into a fresh model.
    assert r["restored"][0] == pytest.approx(r["test_loss"], rel=1e-6)
    assert r["restored"][1] == r["accuracy"]


def test_cnn_classifier_learns():
    r = load("cnn_classifier").main(epochs=3, n_train=384, n_test=128, batch_size=32,
                                    lr=0.05, seed=0, verbose=False)
    assert r["history"][-1] < 0.65 * math.log(10)   # seen 0.68-1.19
    assert r["test_loss"] < 0.8 * math.log(10)       # seen 0.80-1.63
    assert r["accuracy"] > 0.45                      # seen 0.62-0.73; chance 0.1
    assert r["restored"][0] == pytest.approx(r["test_loss"], rel=1e-6)


def test_autoencoder_beats_mean_image():
    r = load("autoencoder").main(epochs=5, n_train=512, n_test=128, batch_size=32, seed=0,
                                 verbose=False)
    # Predicting the mean image is what a code that carries no information achieves.
    assert r["test_loss"] < 0.55 * r["baseline"]     # seen 0.27-0.36 of it
    assert r["history"][-1] < 0.5 * r["history"][0]  # seen 0.23-0.28


def test_char_lstm_learns_text():
    mod = load("char_lstm")
    r = mod.main(epochs=3, hidden=64, seq_len=16, batch_size=32, text=mod.TEXT[:250], seed=0,
                 verbose=False)
    assert r["final_loss"] < 0.55 * r["uniform"]     # seen 0.39-0.42 of ln V
    assert r["history"][-1] < 0.7 * r["history"][0]  # seen 0.55-0.59


def test_tiny_transformer_learns_to_copy():
    r = load("tiny_transformer").main(epochs=3, copy_len=4, n_train=512, n_test=128,
                                      d_model=32, seed=0, verbose=False)
    # The copied half is only predictable through causal attention to earlier tokens.
    assert r["copy_loss"] < 0.5 * math.log(9)        # seen 0.37-0.85; ln 9 = 2.20
    assert r["accuracy"] > 0.75                      # seen 0.93-1.0; chance 1/9


def _idx(a):
    a = np.asarray(a, dtype=np.uint8)
    return (struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
            + a.tobytes())


def test_mlp_classifier_reads_mnist_files(tmp_path):
    """The --mnist option trains on IDX files; here tiny ones where class c is a bright
    horizontal bar at rows 2c..2c+2 over noise."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for pre, n in (("train", 384), ("t10k", 128)):
        labels = rng.integers(0, 10, size=n)
        imgs = rng.integers(0, 100, size=(n, 28, 28))
        for i, c in enumerate(labels):
            imgs[i, 2 * c + 4:2 * c + 7, 4:24] = 255
        (raw / f"{pre}-images-idx3-ubyte").write_bytes(_idx(imgs))
        (raw / f"{pre}-labels-idx1-ubyte").write_bytes(_idx(labels))
    r = load("mlp_classifier").main(epochs=2, n_train=384, n_test=128, hidden=32,
                                    batch_size=32, mnist_root=str(tmp_path), verbose=False)
    assert r["accuracy"] > 0.8                       # seen 1.0; chance 0.1


def test_script_runs_and_falls_back_without_mnist(tmp_path):
    """Run as a script (its own process, its own argv) with a root that holds no MNIST
    files: the reader's message names the missing files and synthetic data are used."""
    out = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "mlp_classifier.py"), "--epochs", "1",
         "--train", "64", "--test", "32", "--hidden", "8", "--mnist", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "train-images-idx3-ubyte" in out.stdout
    assert "falling back to synthetic digits" in out.stdout
    assert "epoch 1:" in out.stdout and "test accuracy" in out.stdout
