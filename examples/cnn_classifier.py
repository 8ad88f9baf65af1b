"""A small CNN classifier on 28x28 images, trained with SGD + momentum.

Conv2d(1,16,3,padding=1)-ReLU-MaxPool2d(2)-Conv2d(16,32,3,padding=1)-ReLU-MaxPool2d(2)-
Flatten-Linear(1568,10), written as the PyTorch tutorial would be with
``import ember as torch``. The data are synthetic digits from ``synthetic.py``, shifted by
up to 3 pixels so that translation-invariant features pay; ``--mnist ROOT`` uses the real
MNIST IDX files under ROOT when they exist.

    python examples/cnn_classifier.py [--epochs 3] [--train 1024] [--mnist ROOT]
"""
import argparse
import os
import tempfile

import ember as torch
from ember import nn
from ember.utils.data import DataLoader

from classification import evaluate, train_epoch  # noqa: F401  (the shared loops)
from synthetic import load_digits


class SmallCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def main(epochs=3, n_train=1024, n_test=512, batch_size=32, lr=0.05, mnist_root=None,
         seed=0, verbose=True):
    """Train; returns a dict with ``test_loss``, ``accuracy``, the per-epoch training
    losses ``history`` and the (loss, accuracy) of a model reloaded from a saved file."""
    torch.manual_seed(seed)
    train_set, test_set = load_digits(n_train, n_test, mnist_root, seed, shift=3, noise=1.0)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = SmallCNN()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if verbose:
        print(model)
    history = []
    for epoch in range(epochs):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer)
        test_loss, acc = evaluate(model, test_loader, loss_fn)
        history.append(train_loss)
        if verbose:
            print(f"epoch {epoch + 1}: train loss {train_loss:.4f}  "
                  f"test loss {test_loss:.4f}  test accuracy {acc:.3f}")

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cnn.pt")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epochs}, path)
        checkpoint = torch.load(path)
    restored = SmallCNN()
    restored.load_state_dict(checkpoint["model"])
    restored_metrics = evaluate(restored, test_loader, loss_fn)
    if verbose:
        print(f"reloaded checkpoint (epoch {checkpoint['epoch']}): test loss "
              f"{restored_metrics[0]:.4f}  test accuracy {restored_metrics[1]:.3f}")
    return {"test_loss": test_loss, "accuracy": acc, "history": history,
            "restored": restored_metrics}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train", type=int, default=1024)
    p.add_argument("--test", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--mnist", metavar="ROOT", default=None,
                   help="train on MNIST IDX files under ROOT (synthetic data otherwise)")
    a = p.parse_args()
    main(a.epochs, a.train, a.test, a.batch_size, a.lr, a.mnist)
