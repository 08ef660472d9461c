"""Straight-through one-hot inputs: one-hot forward, identity-through-softmax backward (Eqs. 28-37)."""
import pytest
import torch
import torch.nn.functional as F

from chain.loop.straight_through import st_argmax, st_gumbel, straight_through


def test_st_argmax_is_the_argmax_one_hot_with_the_softmax_gradient():
    logits = torch.randn(4, 5, 7, requires_grad=True)
    y = st_argmax(logits, tau=0.5)
    torch.testing.assert_close(y.detach(), F.one_hot(logits.argmax(-1), 7).float(), atol=1e-6, rtol=0)
    weights = torch.randn(4, 5, 7)
    (y * weights).sum().backward()
    reference = logits.detach().clone().requires_grad_()
    (F.softmax(reference / 0.5, -1) * weights).sum().backward()  # Eq. 30: d onehot / d p = 1
    torch.testing.assert_close(logits.grad, reference.grad)


def test_st_gumbel_samples_one_hot_vectors_and_passes_gradients():
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 0.0, -1.0]]).repeat(2000, 1).requires_grad_()
    y = st_gumbel(logits, tau=1.0)
    assert torch.equal(y.detach().round(), y.detach()) or (y.detach() - y.detach().round()).abs().max() < 1e-6
    torch.testing.assert_close(y.detach().sum(-1), torch.ones(2000))
    freq = y.detach().mean(0)  # samples of Cat(softmax(logits)) (Eqs. 33-35)
    torch.testing.assert_close(freq, F.softmax(logits[0].detach(), -1), atol=0.03, rtol=0)
    (y * torch.arange(3.0)).sum().backward()
    assert logits.grad.abs().sum() > 0


def test_bad_mode_or_temperature():
    with pytest.raises(ValueError, match="argmax or gumbel"):
        straight_through(torch.zeros(1, 3), "softmax")
    with pytest.raises(ValueError, match="> 0"):
        straight_through(torch.zeros(1, 3), "argmax", tau=0.0)
