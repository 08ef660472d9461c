"""CBHG, highway, padded BiRNN and prenet: shapes, masking, bad options."""
import pytest
import torch
from torch.nn import functional as F

from chain.nets.cbhg import CBHG, PaddedBiRNN
from chain.nets.masks import make_non_pad_mask
from chain.nets.prenet import Prenet

torch.set_num_threads(1)


def tiny_cbhg(rnn_type="gru", in_dim=6):
    return CBHG(in_dim=in_dim, bank_size=4, bank_channels=5, proj_channels=(7, in_dim),
                highway_layers=2, highway_dim=8, rnn_dim=3, rnn_type=rnn_type)


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
@pytest.mark.parametrize("train", [True, False])
def test_cbhg_shapes_and_padding_does_not_change_valid_outputs(rnn_type, train):
    torch.manual_seed(0)
    net = tiny_cbhg(rnn_type)
    net.train(train)
    lengths = torch.tensor([9, 6, 4])
    x = torch.randn(3, 9, 6)
    x = x * make_non_pad_mask(lengths)[:, :, None]
    y = net(x, lengths)
    assert y.shape == (3, 9, 6)
    assert torch.all(y[1, 6:] == 0) and torch.all(y[2, 4:] == 0)
    # same batch with extra garbage frames appended: valid outputs must not move
    x_long = torch.cat([x, 50 * torch.randn(3, 5, 6)], dim=1)
    x_long[1, 6:9] = 7.0
    y_long = net(x_long, lengths)
    assert y_long.shape == (3, 14, 6)
    mask = make_non_pad_mask(lengths)
    assert torch.allclose(y_long[:, :9][mask], y[mask], atol=1e-5)
    y_long.sum().backward()
    assert net.bank[0].conv.weight.grad is not None


def test_cbhg_item_alone_equals_item_in_padded_batch_in_eval():
    torch.manual_seed(1)
    net = tiny_cbhg().eval()
    lengths = torch.tensor([8, 5])
    x = torch.randn(2, 8, 6)
    y = net(x, lengths)
    alone = net(x[1:, :5], lengths[1:])
    assert torch.allclose(y[1, :5], alone[0], atol=1e-5)


def reference_cbhg(net, x, lengths):
    """CBHG forward written plainly: explicit asymmetric zero padding per convolution,
    torch.maximum for the look-back max-pool, H * T + x * (1 - T) for the highways."""
    mask = make_non_pad_mask(lengths, x.size(1))

    def conv_norm(layer, y):
        k = layer.conv.kernel_size[0]
        y = F.pad(y * mask[:, None, :], ((k - 1) // 2, k // 2))
        return layer.act(layer.norm(F.conv1d(y, layer.conv.weight), mask))

    y = torch.cat([conv_norm(layer, x.transpose(1, 2)) for layer in net.bank], dim=1)
    y = torch.maximum(y, torch.cat([y[:, :, :1], y[:, :, :-1]], dim=2))
    for layer in net.projections:
        y = conv_norm(layer, y)
    y = net.pre_highway(y.transpose(1, 2) + x)
    for layer in net.highways:
        gate = torch.sigmoid(layer.gate(y))
        y = layer.act(layer.transform(y)) * gate + y * (1 - gate)
    return net.rnn(y, lengths, mask)


def test_cbhg_equals_plainly_written_reference_with_gradients():
    torch.manual_seed(6)
    net = tiny_cbhg().double()
    lengths = torch.tensor([9, 6, 4])
    x = torch.randn(3, 9, 6, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(3, 9, 2 * 3, dtype=torch.float64)
    wrt = [x, *net.parameters()]
    y, expected = net(x, lengths), reference_cbhg(net, x, lengths)
    torch.testing.assert_close(y, expected)
    for got, want in zip(torch.autograd.grad(y, wrt, grad), torch.autograd.grad(expected, wrt, grad)):
        torch.testing.assert_close(got, want)


def test_padded_birnn_native_gru_equals_hand_written_with_gradients():
    """The path a GPU takes (two nn.GRU calls, cuDNN there) against the CPU's group_gru."""
    torch.manual_seed(4)
    rnn = PaddedBiRNN(input_dim=4, hidden_dim=3).double()
    lengths = torch.tensor([7, 5, 2])
    x = torch.randn(3, 7, 4, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(3, 7, 6, dtype=torch.float64)
    wrt = [x, *rnn.parameters()]
    outs = []
    for kernels in ("hand", "native"):
        rnn.kernels = kernels
        y = rnn(x, lengths, make_non_pad_mask(lengths))
        outs.append((y, torch.autograd.grad(y, wrt, grad)))
    (y_hand, grads_hand), (y_native, grads_native) = outs
    torch.testing.assert_close(y_native, y_hand)
    for got, want in zip(grads_native, grads_hand):
        torch.testing.assert_close(got, want)


def test_padded_birnn_matches_bidirectional_on_full_length_input():
    torch.manual_seed(3)
    rnn = PaddedBiRNN(input_dim=4, hidden_dim=3)
    x = torch.randn(2, 5, 4)
    lengths = torch.tensor([5, 5])
    y = rnn(x, lengths, make_non_pad_mask(lengths))
    bwd_ref, _ = rnn.backward_rnn(x.flip(1))
    assert torch.allclose(y[:, :, 3:], bwd_ref.flip(1), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(rnn_type="transformer"), "gru, lstm"),
    (dict(proj_channels=(7, 5)), "proj_channels must end with in_dim=6"),
    (dict(bank_size=0), "bank_size"),
])
def test_cbhg_bad_options_raise(kwargs, match):
    base = dict(in_dim=6, bank_size=2, bank_channels=4, proj_channels=(4, 6), highway_dim=6, rnn_dim=2)
    with pytest.raises(ValueError, match=match):
        CBHG(**{**base, **kwargs})


def test_prenet_shapes_dropout_modes_and_bad_options():
    net = Prenet(in_dim=5, sizes=(8, 4), dropout=0.5)
    x = torch.randn(3, 7, 5)
    assert net(x).shape == (3, 7, 4) and net.out_dim == 4
    net.eval()
    assert torch.equal(net(x), net(x))
    with pytest.raises(ValueError, match="dropout"):
        Prenet(in_dim=5, dropout=1.0)
    with pytest.raises(ValueError, match="at least one"):
        Prenet(in_dim=5, sizes=())
