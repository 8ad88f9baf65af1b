"""MNIST-family IDX readers on tiny files the tests write (raw and gzip)."""
import gzip
import struct

import numpy as np
import pytest

import ember
from ember.datasets import MNIST, FashionMNIST, transforms
from ember.utils.data import DataLoader


def idx_bytes(a, code):
    """IDX bytes written independently of ember's writer: magic, big-endian dims, data."""
    a = np.asarray(a)
    be = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    return (struct.pack(">BBBB", 0, 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
            + a.astype(be).tobytes())


def write(path, data, gz):
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        data = gzip.compress(data)
        path = path.with_name(path.name + ".gz")
    path.write_bytes(data)


def make(root, cls="MNIST", layout="raw", gz=False, n=5, seed=0, split="train"):
    rng = np.random.default_rng(seed)
    imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    d = {"raw": root / cls / "raw", "cls": root / cls, "flat": root}[layout]
    pre = "train" if split == "train" else "t10k"
    write(d / f"{pre}-images-idx3-ubyte", idx_bytes(imgs, 0x08), gz)
    write(d / f"{pre}-labels-idx1-ubyte", idx_bytes(labels, 0x08), gz)
    return imgs, labels


@pytest.mark.parametrize("layout", ["raw", "cls", "flat"])
@pytest.mark.parametrize("gz", [False, True])
def test_reads_images_and_labels(tmp_path, layout, gz):
    imgs, labels = make(tmp_path, layout=layout, gz=gz)
    ds = MNIST(tmp_path)
    assert len(ds) == 5
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert ds.targets.dtype is ember.int64 and ds.data.dtype is ember.uint8
    img, y = ds[3]
    assert img.shape == (28, 28) and img.dtype is ember.uint8
    assert type(y) is int and y == labels[3]
    np.testing.assert_array_equal(img.numpy(), imgs[3])


def test_test_split_and_transforms(tmp_path):
    make(tmp_path, split="train", seed=0)
    imgs, labels = make(tmp_path, split="test", seed=1, n=3)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    ds = MNIST(tmp_path, train=False, transform=tf, target_transform=lambda y: y + 100)
    assert len(ds) == 3
    x, y = ds[1]
    assert x.shape == (1, 28, 28) and x.dtype is ember.float32
    expect = (imgs[1].astype(np.float32) / 255.0 - 0.5) / 0.25
    np.testing.assert_allclose(x.numpy()[0], expect, rtol=1e-6, atol=1e-6)
    assert y == labels[1] + 100
    x01, _ = MNIST(tmp_path, train=False, transform=transforms.ToTensor())[0]
    np.testing.assert_allclose(x01.numpy()[0], imgs[0] / 255.0, rtol=1e-6)
    flat, _ = MNIST(tmp_path, train=False,
                    transform=transforms.Lambda(lambda im: im.flatten()))[2]
    np.testing.assert_array_equal(flat.numpy(), imgs[2].reshape(-1))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))


def test_fashion_mnist_layout_and_classes(tmp_path):
    imgs, _ = make(tmp_path, cls="FashionMNIST")
    ds = FashionMNIST(tmp_path)
    np.testing.assert_array_equal(ds.data.numpy(), imgs)
    assert ds.classes[9] == "Ankle boot" and ds.class_to_idx["Bag"] == 8
    assert ds.raw_folder.endswith("FashionMNIST/raw")
    with pytest.raises(RuntimeError, match="FashionMNIST"):
        FashionMNIST(tmp_path / "nowhere")


def test_loader_over_mnist(tmp_path):
    make(tmp_path, n=7)
    dl = DataLoader(MNIST(tmp_path, transform=transforms.ToTensor()), batch_size=4)
    xb, yb = next(iter(dl))
    assert xb.shape == (4, 1, 28, 28) and yb.dtype is ember.int64 and len(dl) == 2


def test_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError, match=r"train-images-idx3-ubyte\[\.gz\].*"
                                           r"train-labels-idx1-ubyte\[\.gz\]"):
        MNIST(tmp_path)
    make(tmp_path, layout="raw")
    (tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(RuntimeError, match="missing train-labels-idx1-ubyte"):
        MNIST(tmp_path)


def test_download_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="download=True is not supported"):
        MNIST(tmp_path, download=True)


def test_corrupt_files(tmp_path):
    make(tmp_path, layout="flat")
    img = tmp_path / "train-images-idx3-ubyte"
    good = img.read_bytes()
    img.write_bytes(good[:-10])
    with pytest.raises(ValueError, match="truncated"):
        MNIST(tmp_path)
    img.write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match="magic"):
        MNIST(tmp_path)
    img.write_bytes(good)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.uint8), 0x08))
    with pytest.raises(ValueError, match="labels of shape"):
        MNIST(tmp_path)
    img.unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(good)[:-20])
    with pytest.raises(ValueError, match="gzip"):
        MNIST(tmp_path)


def test_idx_reader_other_dtypes(tmp_path):
    from ember.datasets.idx import parse_idx, read_idx, write_idx
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    assert parse_idx(idx_bytes(a, 0x0C)).tolist() == a.tolist()
    f = np.linspace(0, 1, 5).astype(np.float32)
    np.testing.assert_array_equal(parse_idx(idx_bytes(f, 0x0D)), f)
    write_idx(tmp_path / "x.gz", a)
    assert read_idx(tmp_path / "x.gz").tolist() == a.tolist()
    with pytest.raises(ValueError, match="type code"):
        parse_idx(b"\x00\x00\x07\x01" + b"\x00" * 8)
