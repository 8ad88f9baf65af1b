"""A tiny causal Transformer that learns to copy: next-token prediction on a toy task.

Each sequence is ``k`` random symbols, a separator, then the same ``k`` symbols again. The
first half is unpredictable noise; the second half is predictable only by attending back
``k + 1`` positions, which a causal self-attention model learns. Token + learned position
embeddings, nn.TransformerEncoder with a causal mask, a Linear head, AdamW and
CrossEntropyLoss, written as the PyTorch tutorial would be with ``import ember as torch``.

    python examples/tiny_transformer.py [--epochs 8] [--copy-len 6] [--d-model 32]
"""
import argparse

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


def copy_sequences(n, copy_len, vocab, generator):
    """(n, 2 * copy_len + 1) int64 sequences ``a_1..a_k SEP a_1..a_k``, symbols in
    [1, vocab); 0 is the separator."""
    body = torch.randint(1, vocab, (n, copy_len), generator=generator)
    sep = torch.zeros(n, 1, dtype=torch.long)
    return torch.cat([body, sep, body], dim=1)


class TinyTransformer(nn.Module):
    def __init__(self, vocab, max_len, d_model=32, nhead=4, num_layers=2, dim_ff=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=dim_ff,
                                           dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, x):
        seq = x.shape[1]
        h = self.tok(x) + self.pos(torch.arange(seq))
        mask = nn.Transformer.generate_square_subsequent_mask(seq)
        h = self.encoder(h, mask=mask, is_causal=True)
        return self.head(h)


def copy_accuracy(model, seqs, copy_len):
    """Fraction of second-half symbols predicted exactly (teacher-forced, greedy)."""
    model.eval()
    with torch.no_grad():
        pred = model(seqs[:, :-1]).argmax(dim=-1)
    target = seqs[:, copy_len + 1:]
    return (pred[:, copy_len:] == target).float().mean().item()


def main(epochs=8, copy_len=6, vocab=10, d_model=32, n_train=1024, n_test=256,
         batch_size=32, lr=3e-3, seed=0, verbose=True):
    """Train; returns a dict with per-epoch mean training loss ``history``, the test
    loss on the copied half ``copy_loss`` and its greedy ``accuracy``."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    seqs = copy_sequences(n_train + n_test, copy_len, vocab, g)
    train, test = seqs[:n_train], seqs[n_train:]
    # Inputs are every token but the last, targets every token but the first.
    loader = DataLoader(TensorDataset(train[:, :-1], train[:, 1:]), batch_size=batch_size,
                        shuffle=True)
    model = TinyTransformer(vocab, 2 * copy_len + 1, d_model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    if verbose:
        print(model)
    history = []
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x).reshape(-1, vocab), y.reshape(-1))
            loss.backward()
            optimizer.step()
            total += loss.item()
            count += 1
        history.append(total / count)
        model.eval()
        with torch.no_grad():
            logits = model(test[:, :-1])[:, copy_len:]
            copy_loss = loss_fn(logits.reshape(-1, vocab),
                                test[:, copy_len + 1:].reshape(-1)).item()
        acc = copy_accuracy(model, test, copy_len)
        if verbose:
            print(f"epoch {epoch + 1}: train loss {history[-1]:.4f}  copied-half test loss "
                  f"{copy_loss:.4f}  copy accuracy {acc:.3f}")
    return {"history": history, "copy_loss": copy_loss, "accuracy": acc}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--copy-len", type=int, default=6)
    p.add_argument("--vocab", type=int, default=10)
    p.add_argument("--d-model", type=int, default=32)
    p.add_argument("--train", type=int, default=1024)
    p.add_argument("--lr", type=float, default=3e-3)
    a = p.parse_args()
    main(a.epochs, a.copy_len, a.vocab, a.d_model, a.train, lr=a.lr)
