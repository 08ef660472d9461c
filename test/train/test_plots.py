import numpy as np
import pytest
import torch

from chain.train.plots import plot_attention, plot_loss_curves, plot_spectrogram

PNG = b"\x89PNG\r\n\x1a\n"


def test_figures_are_written_as_png(tmp_path):
    plot_attention(torch.softmax(torch.randn(5, 9), -1), tmp_path / "att.png", title="u1")
    plot_spectrogram(np.random.rand(20, 8), np.random.rand(20, 8), tmp_path / "spec.png")
    plot_spectrogram(torch.rand(20, 8, requires_grad=True), None, tmp_path / "pred.png")
    history = [{"epoch": e, "lr": 1e-3, "train/loss": 1 / e, "dev/loss": 1.2 / e, "dev/cer": 0.5 / e}
               for e in (1, 2, 3)]
    plot_loss_curves(history, tmp_path / "loss.png")
    for name in ("att", "spec", "pred", "loss"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["att.png", "loss.png", "pred.png", "spec.png"]


def test_bad_shapes_raise(tmp_path):
    with pytest.raises(ValueError, match=r"\(T_out, T_in\)"):
        plot_attention(np.zeros((2, 3, 4)), tmp_path / "a.png")
    with pytest.raises(ValueError, match="target of shape"):
        plot_spectrogram(np.zeros((3, 4)), np.zeros(3), tmp_path / "s.png")
    with pytest.raises(ValueError, match="no train/ or dev/"):
        plot_loss_curves([{"epoch": 1, "lr": 0.1}], tmp_path / "l.png")
    assert not any(tmp_path.iterdir())
