"""Mel L2 and stop accuracy: exact on a hand-made batch, equal to the training statistics."""
import pytest
import torch
from torch.nn import functional as F

from chain.metrics.tts import TTSCounts, batch_counts, teacher_forced_counts
from chain.tts import Tacotron

torch.set_num_threads(1)


def test_batch_counts_by_hand():
    feats = torch.randn(2, 3, 2)
    lengths = torch.tensor([3, 1])
    mel = F.pad(feats, (0, 0, 0, 1)) + 1.0  # (2, 4, 2): error 1 on every value
    mel[1, 1:] = 100.0  # padding of the short item: ignored
    mel[0, 3] = -50.0
    stop = torch.tensor([[-1.0, 1.0, 1.0, -1.0],    # targets 0 0 1 1: right, wrong, right, wrong
                         [1.0, -1.0, 9.0, 9.0]])   # targets 1 1 (frames 2, 3 are beyond its group)
    counts = batch_counts({"mel": mel, "stop_logits": stop}, feats, lengths, reduction_factor=2)
    assert counts.mel_values == 8 and counts.mel_l2 == pytest.approx(1.0)
    assert (counts.stop_correct, counts.stop_frames, counts.utts) == (3, 6, 2)
    assert counts.as_dict() == {"mel_l2": pytest.approx(1.0), "stop_acc": 0.5}
    total = TTSCounts()
    total += counts
    total += TTSCounts(sq_error=8.0, mel_values=2, stop_correct=4, stop_frames=4, utts=1)
    assert total.mel_l2 == pytest.approx(16 / 10) and total.stop_acc == pytest.approx(0.7)


def test_one_batch_equals_the_models_training_statistics():
    torch.manual_seed(0)
    model = Tacotron(vocab_size=12, embed_dim=8, encoder_fc_dims=(8, 8), encoder_bank_size=2,
                     encoder_channels=8, encoder_highway_layers=1, encoder_rnn_dim=4, mel_dim=6,
                     linear_dim=7, reduction_factor=3, prenet_dims=(8, 8), decoder_dim=8,
                     attention_dim=8, attention_conf=dict(kernel_sizes=(3,), channels=2),
                     output_hidden_dim=8, postnet_bank_size=2, postnet_channels=8, postnet_proj_dim=8,
                     postnet_highway_layers=1, postnet_rnn_dim=4).eval()
    batch = dict(tokens=torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]]), token_lengths=torch.tensor([4, 2]),
                 feats=torch.randn(2, 10, 6), feat_lengths=torch.tensor([10, 5]),
                 linear=torch.randn(2, 10, 7))
    _, stats = model(batch)
    scores = teacher_forced_counts(model, [batch]).as_dict()
    assert scores["mel_l2"] == pytest.approx(stats["mel_l2"], rel=1e-5)
    assert scores["stop_acc"] == pytest.approx(stats["stop_acc"])
