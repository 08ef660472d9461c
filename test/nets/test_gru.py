"""group_gru: GRUs stepped side by side with a hand-written backward equal nn.GRU."""
import pytest
import torch
from torch import nn

from chain.nets.gru import group_gru

torch.set_num_threads(1)


@pytest.mark.parametrize("groups", [1, 2])
def test_group_gru_equals_nn_gru_outputs_and_gradients(groups):
    torch.manual_seed(0)
    rnns = [nn.GRU(5, 4, batch_first=True).double() for _ in range(groups)]
    x = torch.randn(groups, 3, 7, 5, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(groups, 3, 7, 4, dtype=torch.float64)
    y = group_gru(x, rnns)
    expected = torch.stack([rnn(x[g])[0] for g, rnn in enumerate(rnns)])
    torch.testing.assert_close(y, expected)
    wrt = [x, *(p for rnn in rnns for p in rnn.parameters())]
    for got, want in zip(torch.autograd.grad(y, wrt, grad), torch.autograd.grad(expected, wrt, grad)):
        torch.testing.assert_close(got, want)


def test_group_gru_passes_gradcheck():
    torch.manual_seed(1)
    rnns = [nn.GRU(3, 2, batch_first=True).double() for _ in range(2)]
    x = torch.randn(2, 2, 4, 3, dtype=torch.float64, requires_grad=True)
    params = [p for rnn in rnns for p in rnn.parameters()]
    assert torch.autograd.gradcheck(lambda x, *_: group_gru(x, rnns), (x, *params))
