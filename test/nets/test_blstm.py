import pytest
import torch

from chain.nets.blstm import MaskedBLSTM

torch.set_num_threads(1)


def test_blstm_shapes_lengths_and_zero_padding():
    torch.manual_seed(0)
    net = MaskedBLSTM(input_dim=5, hidden=7, layers=3, subsample=[2, 2, 2])
    y, lengths = net(torch.randn(2, 17, 5), torch.tensor([17, 9]))
    assert y.shape == (2, 3, 14)
    assert lengths.tolist() == [3, 2]
    assert torch.all(y[1, 2:] == 0)


def test_blstm_padding_does_not_change_valid_outputs():
    torch.manual_seed(0)
    net = MaskedBLSTM(input_dim=4, hidden=6, layers=2, subsample=[2, 1]).eval()
    x = torch.randn(2, 13, 4)
    lengths = torch.tensor([13, 7])
    y, y_lengths = net(x, lengths)
    for b in range(2):
        alone, alone_lengths = net(x[b:b + 1, :lengths[b]], lengths[b:b + 1])
        n = int(alone_lengths[0])
        assert n == int(y_lengths[b])
        torch.testing.assert_close(y[b, :n], alone[0], rtol=1e-5, atol=1e-6)


def test_blstm_backward_direction_sees_the_future():
    torch.manual_seed(0)
    net = MaskedBLSTM(input_dim=3, hidden=4, layers=1).eval()
    x = torch.randn(1, 6, 3)
    y, _ = net(x, torch.tensor([6]))
    x2 = x.clone()
    x2[0, 5] += 1.0
    y2, _ = net(x2, torch.tensor([6]))
    assert torch.equal(y[0, 0, :4], y2[0, 0, :4])  # forward half: causal
    assert not torch.allclose(y[0, 0, 4:], y2[0, 0, 4:])  # backward half reads frame 5


def test_blstm_rejects_bad_subsample():
    with pytest.raises(ValueError, match="one factor >= 1 per layer"):
        MaskedBLSTM(input_dim=3, hidden=4, layers=3, subsample=[2, 2])
    with pytest.raises(ValueError, match="one factor >= 1 per layer"):
        MaskedBLSTM(input_dim=3, hidden=4, layers=1, subsample=[0])
