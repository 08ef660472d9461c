"""Masked batch normalisation: statistics over valid frames, hand-written backward pass."""
import pytest
import torch

from chain.nets.batchnorm import MaskedBatchNorm1d
from chain.nets.masks import make_non_pad_mask

torch.set_num_threads(1)


def test_masked_batchnorm_ignores_padding_statistics():
    torch.manual_seed(2)
    norm = MaskedBatchNorm1d(3)
    x = torch.randn(2, 3, 6)
    mask = make_non_pad_mask(torch.tensor([6, 2]))
    x_garbage = x.clone()
    x_garbage[1, :, 2:] = 1000.0
    y = norm(x_garbage, mask)
    y_ref = norm(x, mask)
    assert torch.allclose(y[:, :, :2], y_ref[:, :, :2]) and torch.allclose(y[0], y_ref[0])
    # normalised valid frames have zero mean over the valid set
    assert abs(float(y.detach().transpose(1, 2)[mask].mean())) < 1e-5


def reference_masked_batchnorm(norm, x, mask):
    """The training-mode normalisation written with autograd ops: biased mean and variance
    of each channel over the valid frames."""
    m = mask[:, None, :].to(x.dtype)  # (B, 1, T)
    count = m.sum()
    mean = (x * m).sum(dim=(0, 2)) / count
    var = (((x - mean[None, :, None]) * m) ** 2).sum(dim=(0, 2)) / count
    y = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + norm.eps)
    return y * norm.weight[None, :, None] + norm.bias[None, :, None], mean, var


@pytest.mark.parametrize("lengths", [(9, 9, 9), (9, 5, 2)])
def test_masked_batchnorm_equals_autograd_reference_with_gradients_and_running_stats(lengths):
    torch.manual_seed(4)
    norm = MaskedBatchNorm1d(4).double()
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = (3 * torch.randn(3, 4, 9, dtype=torch.float64) + 1).requires_grad_()
    mask = make_non_pad_mask(torch.tensor(lengths))
    grad = torch.randn(3, 4, 9, dtype=torch.float64)  # nonzero on padding too
    y = norm(x, mask)
    expected, mean, var = reference_masked_batchnorm(norm, x, mask)
    torch.testing.assert_close(y, expected)
    wrt = [x, norm.weight, norm.bias]
    for got, want in zip(torch.autograd.grad(y, wrt, grad), torch.autograd.grad(expected, wrt, grad)):
        torch.testing.assert_close(got, want)
    count = sum(lengths)
    torch.testing.assert_close(norm.running_mean, 0.1 * mean.detach())
    torch.testing.assert_close(norm.running_var, 0.9 + 0.1 * var.detach() * count / (count - 1))


def test_masked_batchnorm_passes_gradcheck_and_uses_running_stats_in_eval():
    torch.manual_seed(5)
    norm = MaskedBatchNorm1d(2).double()
    x = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
    mask = make_non_pad_mask(torch.tensor([5, 3]))
    assert torch.autograd.gradcheck(lambda x, w, b: norm(x, mask), (x, norm.weight, norm.bias))
    norm.eval()
    torch.testing.assert_close(norm(x, mask), torch.nn.functional.batch_norm(
        x, norm.running_mean, norm.running_var, norm.weight, norm.bias, eps=norm.eps))


def test_masked_batchnorm_computes_in_float32_under_autocast():
    torch.manual_seed(6)
    norm = MaskedBatchNorm1d(3)
    x = torch.randn(2, 3, 7).bfloat16()
    mask = make_non_pad_mask(torch.tensor([7, 4]))
    expected = norm(x.float(), mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = norm(x, mask)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, expected)
