"""MLP classifier (784-256-10), trained with SGD + momentum and CrossEntropyLoss.

Written as the PyTorch tutorial would be, with ``import ember as torch``. The data are
synthetic "digits" made by ``synthetic.py`` (ten noisy, shifted stroke patterns on a 28x28
canvas), so nothing is downloaded. Pass ``--mnist ROOT`` to train on the real MNIST IDX
files instead when they exist under ROOT.

    python examples/mlp_classifier.py [--epochs 5] [--train 4096] [--mnist ROOT]
"""
import argparse
import os
import tempfile

import ember as torch
from ember import nn
from ember.nn import functional as F
from ember.utils.data import DataLoader

from classification import evaluate, train_epoch  # noqa: F401  (the shared loops)
from synthetic import load_digits


class MLP(nn.Module):
    def __init__(self, in_features=784, hidden=256, num_classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.flatten(x)
        return self.fc2(F.relu(self.fc1(x)))


def main(epochs=5, n_train=4096, n_test=1024, hidden=256, batch_size=64, lr=0.01,
         mnist_root=None, seed=0, verbose=True):
    """Train, check a save/load round trip, and return ``(test_loss, test_accuracy)``
    together with the per-epoch training losses as ``history``."""
    torch.manual_seed(seed)
    train_set, test_set = load_digits(n_train, n_test, mnist_root, seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = MLP(hidden=hidden)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = []
    if verbose:
        print(model)
    for epoch in range(epochs):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer)
        test_loss, acc = evaluate(model, test_loader, loss_fn)
        history.append(train_loss)
        if verbose:
            print(f"epoch {epoch + 1}: train loss {train_loss:.4f}  "
                  f"test loss {test_loss:.4f}  test accuracy {acc:.3f}")

    # Save and restore the weights as a tutorial does; the reloaded model must agree.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mlp.pt")
        torch.save(model.state_dict(), path)
        restored = MLP(hidden=hidden)
        restored.load_state_dict(torch.load(path))
    restored_metrics = evaluate(restored, test_loader, loss_fn)
    if verbose:
        print(f"reloaded model: test loss {restored_metrics[0]:.4f}  "
              f"test accuracy {restored_metrics[1]:.3f}")
    return {"test_loss": test_loss, "accuracy": acc, "history": history,
            "restored": restored_metrics}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train", type=int, default=4096)
    p.add_argument("--test", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--mnist", metavar="ROOT", default=None,
                   help="train on MNIST IDX files under ROOT (synthetic data otherwise)")
    a = p.parse_args()
    main(a.epochs, a.train, a.test, a.hidden, a.batch_size, a.lr, a.mnist)
