"""A character-level LSTM language model on a small built-in text.

Embedding - LSTM - Linear, trained with Adam on random windows of the text to predict each
next character (CrossEntropyLoss), then sampled from, written as the PyTorch tutorial would
be with ``import ember as torch``. The text ships with the script (public-domain verse).

    python examples/char_lstm.py [--epochs 6] [--hidden 128] [--seq-len 32]
"""
import argparse
import math

import ember as torch
from ember import nn
from ember.utils.data import DataLoader, Dataset

TEXT = """\
Twinkle, twinkle, little star,
How I wonder what you are!
Up above the world so high,
Like a diamond in the sky.
When the blazing sun is gone,
When he nothing shines upon,
Then you show your little light,
Twinkle, twinkle, all the night.
Then the traveller in the dark
Thanks you for your tiny spark;
He could not see which way to go,
If you did not twinkle so.
In the dark blue sky you keep,
And often through my curtains peep,
For you never shut your eye,
Till the sun is in the sky.
"""


class CharDataset(Dataset):
    """Every window of ``seq_len + 1`` characters: (input ids, next-character ids)."""

    def __init__(self, text, seq_len):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.data = torch.tensor([self.stoi[c] for c in text], dtype=torch.long)
        self.seq_len = seq_len

    def __len__(self):
        return len(self.data) - self.seq_len

    def __getitem__(self, i):
        chunk = self.data[i:i + self.seq_len + 1]
        return chunk[:-1], chunk[1:]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed=32, hidden=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def sample(model, dataset, prompt, length, generator, temperature=0.8):
    """Continue ``prompt`` by ``length`` characters drawn from the model."""
    model.eval()
    ids = [dataset.stoi[c] for c in prompt]
    with torch.no_grad():
        logits, state = model(torch.tensor([ids]))
        for _ in range(length):
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator).item()
            ids.append(nxt)
            logits, state = model(torch.tensor([[nxt]]), state)
    return dataset.decode(ids)


def main(epochs=6, hidden=128, seq_len=32, batch_size=32, lr=1e-2, text=TEXT, seed=0,
         verbose=True):
    """Train; returns a dict with the per-epoch mean training loss ``history`` (nats per
    character), the ``final_loss`` over the whole text and the ``uniform`` loss log(vocab)."""
    torch.manual_seed(seed)
    dataset = CharDataset(text, seq_len)
    vocab = len(dataset.chars)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    model = CharLSTM(vocab, hidden=hidden)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if verbose:
        print(model)
        print(f"{len(text)} characters, vocabulary {vocab}, uniform loss {math.log(vocab):.3f}")
    history = []
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in loader:
            optimizer.zero_grad()
            logits, _ = model(x)
            loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
            count += 1
        history.append(total / count)
        if verbose:
            print(f"epoch {epoch + 1}: train loss {history[-1]:.4f}")

    model.eval()
    with torch.no_grad():
        logits, _ = model(dataset.data[None, :-1])
        final = loss_fn(logits[0], dataset.data[1:]).item()
    if verbose:
        print(f"loss over the whole text {final:.4f} nats/char")
        g = torch.Generator().manual_seed(seed)
        print("sample:\n" + sample(model, dataset, "Twinkle", 120, g))
    return {"final_loss": final, "history": history, "uniform": math.log(vocab)}


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-2)
    a = p.parse_args()
    main(a.epochs, a.hidden, a.seq_len, a.batch_size, a.lr)
