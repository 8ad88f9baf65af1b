"""Synthetic "digits" shared by the classifier examples (nothing is downloaded).

Ten random stroke patterns on a 28x28 canvas; every sample is its class's pattern shifted
by a few pixels, dimmed at random and covered in Gaussian noise, so the classes overlap
enough that accuracy is a real measure. ``load_digits(..., mnist_root=ROOT)`` returns the
real MNIST IDX files under ROOT instead when they exist.
"""
import ember as torch
from ember.nn import functional as F
from ember.utils.data import Subset, TensorDataset


def synthetic_digits(n, generator, shift=2, noise=0.8):
    """``n`` images (n, 1, 28, 28) in [0, 1] and int64 labels (n,).

    A pattern is a random 7x7 on/off grid upsampled to 28x28 (blobby strokes), padded by
    ``shift`` on each side so each sample can be cropped at a random offset."""
    grid = (torch.rand(10, 1, 7, 7, generator=generator) < 0.35).float()
    protos = F.interpolate(grid, size=(28, 28), mode="bilinear", align_corners=False)
    protos = F.pad(protos, (shift, shift, shift, shift))
    labels = torch.randint(0, 10, (n,), generator=generator)
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), generator=generator).tolist()
    images = torch.stack([protos[c, :, dy:dy + 28, dx:dx + 28]
                          for c, (dy, dx) in zip(labels.tolist(), offsets)])
    scale = 0.6 + 0.4 * torch.rand(n, 1, 1, 1, generator=generator)
    images = images * scale + noise * torch.randn(images.shape, generator=generator)
    return images.clamp(0, 1), labels


def load_digits(n_train, n_test, mnist_root=None, seed=0, shift=2, noise=0.8):
    """(train_dataset, test_dataset) of ((1, 28, 28) float image, label) pairs, the images
    standardised as the MNIST tutorial's ``Normalize((0.1307,), (0.3081,))`` does.

    With ``mnist_root`` the first ``n_train`` / ``n_test`` MNIST images are used (pass
    60000 / 10000 for all); if the files are missing the reader's message is printed and
    synthetic digits are used."""
    if mnist_root is not None:
        from ember.datasets import MNIST, transforms
        try:
            tf = transforms.Compose([transforms.ToTensor(),
                                     transforms.Normalize((0.1307,), (0.3081,))])
            train = MNIST(mnist_root, train=True, transform=tf)
            test = MNIST(mnist_root, train=False, transform=tf)
            return (Subset(train, range(min(n_train, len(train)))),
                    Subset(test, range(min(n_test, len(test)))))
        except RuntimeError as e:
            print(f"{e}\nfalling back to synthetic digits")
    g = torch.Generator().manual_seed(seed)
    x, y = synthetic_digits(n_train + n_test, g, shift, noise)
    x = (x - x[:n_train].mean()) / x[:n_train].std()
    return (TensorDataset(x[:n_train], y[:n_train]),
            TensorDataset(x[n_train:], y[n_train:]))
