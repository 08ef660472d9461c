"""PNG figures for training: attention maps, spectrograms, loss curves.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
backend switch) and written atomically, so a figure file is never half written.
"""
from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from chain.fileio import atomic_write


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _save(fig, path: str | os.PathLike) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def plot_attention(weights, path: str | os.PathLike, *, title: str = "") -> None:
    """Attention weights ``(T_out, T_in)`` (decoder steps x encoder frames) as an image."""
    from matplotlib.figure import Figure

    weights = _as_array(weights)
    if weights.ndim != 2:
        raise ValueError(f"plot_attention expects (T_out, T_in) weights: got shape {weights.shape}")
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    image = ax.imshow(weights.T, aspect="auto", origin="lower", interpolation="none")
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("decoder step")
    ax.set_ylabel("encoder frame")
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def plot_spectrogram(pred, target, path: str | os.PathLike, *, title: str = "") -> None:
    """Predicted (and, unless None, target) spectrograms ``(T, D)`` one above the other."""
    from matplotlib.figure import Figure

    panels = [("predicted", _as_array(pred))] + ([("target", _as_array(target))]
                                                  if target is not None else [])
    for name, spec in panels:
        if spec.ndim != 2:
            raise ValueError(f"plot_spectrogram expects {name} of shape (T, D): got {spec.shape}")
    fig = Figure(figsize=(8, 2.5 * len(panels)))
    for i, (name, spec) in enumerate(panels, 1):
        ax = fig.add_subplot(len(panels), 1, i)
        image = ax.imshow(spec.T, aspect="auto", origin="lower", interpolation="none")
        fig.colorbar(image, ax=ax)
        ax.set_title(f"{title} {name}".strip())
        ax.set_ylabel("bin")
    ax.set_xlabel("frame")
    fig.tight_layout()
    _save(fig, path)


def plot_loss_curves(history: list[dict], path: str | os.PathLike) -> None:
    """One panel per statistic, train and dev curves over epochs.

    ``history`` is a list of per-epoch dicts such as ``{"epoch": 3, "train/loss": 1.2,
    "dev/loss": 1.4, "dev/cer": 0.3}``; keys without a ``train/``/``dev/`` prefix are ignored.
    """
    from matplotlib.figure import Figure

    curves: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for row in history:
        for key, value in row.items():
            part, _, name = key.partition("/")
            if part in ("train", "dev") and name:
                curves[name][part].append((row["epoch"], value))
    if not curves:
        raise ValueError("plot_loss_curves: no train/ or dev/ statistics in the history")
    names = sorted(curves, key=lambda n: (n != "loss", n))  # loss first
    fig = Figure(figsize=(5 * min(len(names), 3), 3.5 * -(-len(names) // 3)))
    for i, name in enumerate(names, 1):
        ax = fig.add_subplot(-(-len(names) // 3), min(len(names), 3), i)
        for part, points in sorted(curves[name].items(), reverse=True):  # train, then dev
            epochs, values = zip(*points)
            ax.plot(epochs, values, marker="o", label=part)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
