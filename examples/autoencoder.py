"""An autoencoder that squeezes 28x28 images through a 3-number code.

Encoder Linear(784,64)-ReLU-Linear(64,3), decoder mirrored, Adam over both, MSELoss,
written as the PyTorch tutorial would be with ``import ember as torch``. The images are
made here: a bright Gaussian spot whose x, y position and width are drawn at random, so
the data really lie on a 3-dimensional manifold and a 3-number code can reconstruct them.

    python examples/autoencoder.py [--epochs 8] [--train 2048]
"""
import argparse

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


def gaussian_spots(n, generator, side=28):
    """``n`` flattened images (n, side*side): a spot centred at a random (x, y) with a
    random width; the three hidden factors are returned too, as (n, 3)."""
    factors = torch.rand(n, 3, generator=generator)
    cx = 6 + factors[:, 0] * (side - 12)
    cy = 6 + factors[:, 1] * (side - 12)
    width = 1.5 + 2.5 * factors[:, 2]
    pix = torch.arange(side, dtype=torch.float32)
    dx2 = (pix[None, None, :] - cx[:, None, None]) ** 2
    dy2 = (pix[None, :, None] - cy[:, None, None]) ** 2
    images = torch.exp(-(dx2 + dy2) / (2 * width[:, None, None] ** 2))
    return images.reshape(n, side * side), factors


class AutoEncoder(nn.Module):
    def __init__(self, in_features=784, hidden=64, code=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                     nn.Linear(hidden, code))
        self.decoder = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(),
                                     nn.Linear(hidden, in_features))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def evaluate(model, x, loss_fn):
    model.eval()
    with torch.no_grad():
        return loss_fn(model(x), x).item()


def main(epochs=8, n_train=2048, n_test=512, batch_size=64, lr=3e-3, seed=0,
         verbose=True):
    """Train; returns a dict with the test reconstruction ``test_loss``, the ``baseline``
    loss of always predicting the mean training image, and per-epoch training losses."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x, _ = gaussian_spots(n_train + n_test, g)
    x_train, x_test = x[:n_train], x[n_train:]
    loader = DataLoader(TensorDataset(x_train), batch_size=batch_size, shuffle=True)

    model = AutoEncoder()
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(
        list(model.encoder.parameters()) + list(model.decoder.parameters()), lr=lr)
    baseline = loss_fn(x_train.mean(dim=0, keepdim=True).expand_as(x_test), x_test).item()
    if verbose:
        print(model)
        print(f"baseline (mean image) test MSE {baseline:.5f}")
    history = []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for (batch,) in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append(total / n_train)
        test_loss = evaluate(model, x_test, loss_fn)
        if verbose:
            print(f"epoch {epoch + 1}: train MSE {history[-1]:.5f}  test MSE {test_loss:.5f}")
    return {"test_loss": test_loss, "baseline": baseline, "history": history}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--train", type=int, default=2048)
    p.add_argument("--test", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    a = p.parse_args()
    main(a.epochs, a.train, a.test, a.batch_size, a.lr)
