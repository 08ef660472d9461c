import torch

from chain.nets.guided_attention import guided_attention_loss


def test_diagonal_costs_nothing_and_anti_diagonal_costs_most():
    n = torch.tensor([8])
    diagonal = torch.eye(8)[None]
    anti = torch.flip(torch.eye(8), [1])[None]
    uniform = torch.full((1, 8, 8), 1 / 8)
    assert guided_attention_loss(diagonal, n, n).item() == 0.0
    assert guided_attention_loss(anti, n, n) > guided_attention_loss(uniform, n, n) > 0


def test_padding_cells_are_ignored():
    attn = torch.eye(6)[None].repeat(2, 1, 1)
    attn[1, 4:, :] = 1.0  # garbage on padded steps of item 1
    attn[1, :, 4:] = 1.0  # and on its padded positions
    lengths = torch.tensor([6, 4])
    both = guided_attention_loss(attn, lengths, lengths)
    alone = guided_attention_loss(torch.eye(4)[None], lengths[1:], lengths[1:])
    assert both.item() == alone.item() == 0.0


def test_gradient_pushes_towards_the_diagonal():
    logits = torch.zeros(1, 5, 5, requires_grad=True)
    loss = guided_attention_loss(logits.softmax(-1), torch.tensor([5]), torch.tensor([5]))
    loss.backward()
    grad = logits.grad[0]
    assert (grad.diagonal() < 0).all() and grad[0, 4] > 0
