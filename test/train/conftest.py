"""A tiny classifier on tiny padded sequences, fed by the real sampler, collate and loader."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.train.options import LoopOptions, SnapshotOptions, TrainOptions


class TinyModel(nn.Module):
    """Mean-pools valid frames, classifies into 3 classes; ``loss, stats = model(batch)``.

    ``poison`` lists forward calls (0-based, training mode only) whose loss is made NaN.
    """

    def __init__(self, *, dim: int = 4, poison: tuple[int, ...] = ()):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 3))
        self.poison, self.calls = set(poison), 0

    def forward(self, batch):
        feats, lengths = batch["feats"], batch["feat_lengths"]  # (B, T, D), (B,)
        mask = (torch.arange(feats.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
        pooled = (feats * mask).sum(1) / lengths[:, None]  # (B, D)
        logits = self.net(pooled)  # (B, 3)
        target = batch["tokens"][:, 0] - 5  # (B,) class ids
        loss = nn.functional.cross_entropy(logits, target)
        if self.training:
            if self.calls in self.poison:
                loss = loss * float("nan")
            self.calls += 1
        accuracy = (logits.argmax(-1) == target).float().mean()
        return loss, {"accuracy": float(accuracy)}


class ToyData(torch.utils.data.Dataset):
    """Class c: frames around a class-specific mean; lengths 3..10."""

    def __init__(self, n: int, seed: int):
        centers = torch.randn(3, 4, generator=torch.Generator().manual_seed(7)) * 2
        g = torch.Generator().manual_seed(seed)
        self.items = []
        for i in range(n):
            c = i % 3
            frames = int(torch.randint(3, 11, (1,), generator=g))
            feats = centers[c] + torch.randn(frames, 4, generator=g)
            self.items.append({"utt_id": f"u{i:03d}", "feats": feats,
                               "tokens": torch.tensor([5 + c], dtype=torch.int64)})
        self.lengths = [it["feats"].shape[0] for it in self.items]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_loaders(seed: int = 0):
    """``(train_loader_factory, dev_loader)`` over toy data (48 train, 12 dev utterances)."""
    train, dev = ToyData(48, seed), ToyData(12, seed + 100)
    train_factory = loader_factory(train, BucketBatchSampler(train.lengths, batch_size=8, seed=seed))
    dev_loader = loader_factory(dev, BucketBatchSampler(dev.lengths, batch_size=6, shuffle=False))(0)
    return train_factory, dev_loader


def quick_options(**loop) -> TrainOptions:
    """Options for tests: no tensorboard/plots unless asked (they cost a second to import)."""
    return TrainOptions(loop=LoopOptions(**{"epochs": 2, "log_interval": 2, **loop}),
                        snapshot=SnapshotOptions(tensorboard=False, plot=False, n_average=2))


@pytest.fixture
def toy():
    """The helpers above, for tests (conftest modules are not imported by name)."""
    return SimpleNamespace(TinyModel=TinyModel, make_loaders=make_loaders, options=quick_options)
