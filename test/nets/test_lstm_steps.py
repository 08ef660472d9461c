"""LSTMSteps and RecurrentLinear: the same values and gradients as nn.LSTMCell / F.linear."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from chain.nets.lstm_steps import LSTMSteps
from chain.nets.recurrent_linear import RecurrentLinear

torch.set_num_threads(1)


def test_recurrent_linear_equals_linear_with_gradients_and_repeated_backward():
    torch.manual_seed(0)
    weight = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    linear = RecurrentLinear(weight)
    h, outs, expected = torch.zeros(2, 4, dtype=torch.float64), [], []
    for x in xs:  # a recurrence: each step reads the previous output
        h = torch.tanh(linear(x + h[:, :3]))
        outs.append(h)
    h = torch.zeros(2, 4, dtype=torch.float64)
    for x in xs:
        h = torch.tanh(F.linear(x + h[:, :3], weight))
        expected.append(h)
    loss, loss_ref = torch.stack(outs).pow(2).sum(), torch.stack(expected).pow(2).sum()
    torch.testing.assert_close(loss, loss_ref)
    want = torch.autograd.grad(loss_ref, [weight, xs])
    for _ in range(2):  # retain_graph: a second backward pass gives the same gradients
        got = torch.autograd.grad(loss, [weight, xs], retain_graph=True)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w)


def test_recurrent_linear_unused_output_gives_no_gradient():
    weight = torch.randn(4, 3, requires_grad=True)
    other = torch.randn(3, requires_grad=True)
    RecurrentLinear(weight)(torch.randn(2, 3))  # output dropped
    (weight.sum() * 0 + other.sum()).backward()
    assert torch.equal(weight.grad, torch.zeros(4, 3))


@pytest.mark.parametrize("hand", [True, False])
def test_lstm_steps_with_input_feeding_equal_lstm_cells(hand):
    """Layer 1 reads [x_s, fed_{s-1}], fed_s computed from the top output (as the attention
    context is): values and gradients equal nn.LSTMCell layers run step by step, with the
    hand-written kernels (CPU) and with the cells themselves (GPU)."""
    torch.manual_seed(1)
    cells = nn.ModuleList([nn.LSTMCell(3 + 2, 4), nn.LSTMCell(4, 4)]).double()
    feed = nn.Linear(4, 2).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)  # (B, S, known)

    def run(step):
        state = [(torch.zeros(2, 4, dtype=torch.float64),) * 2 for _ in cells]
        fed, outs = torch.zeros(2, 2, dtype=torch.float64), []
        for s in range(x.size(1)):
            top, state = step(s, fed, state)
            fed = torch.tanh(feed(top))
            outs.append(top)
        return torch.stack(outs, 1)

    def reference(s, fed, state):
        inp, new = torch.cat([x[:, s], fed], dim=-1), []
        for cell, hc in zip(cells, state):
            inp, c = cell(inp, hc)
            new.append((inp, c))
        return inp, new

    lstms = LSTMSteps(cells, known_dim=3, hand=hand)
    projected = lstms.project_inputs(x)  # (B, S, 4H); hand=False: x
    y, expected = run(lambda s, fed, state: lstms(projected[:, s], fed, state)), run(reference)
    torch.testing.assert_close(y, expected)
    grad = torch.randn_like(y)
    wrt = [x, *cells.parameters(), *feed.parameters()]
    for got, want in zip(torch.autograd.grad(y, wrt, grad), torch.autograd.grad(expected, wrt, grad)):
        torch.testing.assert_close(got, want)
