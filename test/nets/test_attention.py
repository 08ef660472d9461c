import pytest
import torch

from chain.nets.attention import ATTENTIONS, build_attention
from chain.nets.masks import make_non_pad_mask

torch.set_num_threads(1)
NAMES = ["dot", "bilinear", "mlp", "mlp_ma"]


def make(name, query_dim=6, memory_dim=8, **kw):
    torch.manual_seed(0)
    return build_attention(name, query_dim=query_dim, memory_dim=memory_dim, attn_dim=5, **kw)


def inputs(lengths=(7, 4), query_dim=6, memory_dim=8):
    lengths = torch.tensor(lengths)
    memory = torch.randn(len(lengths), int(lengths.max()), memory_dim)
    return torch.randn(len(lengths), query_dim), memory, make_non_pad_mask(lengths)


def test_registry_lists_the_four_scorers():
    assert sorted(ATTENTIONS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_weights_normalised_on_valid_and_zero_on_padding(name):
    attn = make(name)
    query, memory, mask = inputs()
    state = attn.init_state(mask)
    context, weights, new_state = attn(query, memory, attn.preprocess(memory), mask, state)
    assert context.shape == (2, 8)
    assert weights.shape == (2, 7)
    assert new_state.shape == state.shape == (2, attn.history, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    assert torch.all(weights[1, 4:] == 0)
    assert torch.all(weights >= 0)
    torch.testing.assert_close(context, torch.einsum("bt,btm->bm", weights, memory))
    torch.testing.assert_close(new_state[:, 0], weights)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_reaches_inputs_and_parameters(name):
    attn = make(name, query_dim=8 if name == "dot" else 6)
    query, memory, mask = inputs(query_dim=8 if name == "dot" else 6)
    query.requires_grad_()
    memory.requires_grad_()
    state = attn(query, memory, attn.preprocess(memory), mask, attn.init_state(mask))[2]
    context, _, _ = attn(query, memory, attn.preprocess(memory), mask, state)  # second step
    context.pow(2).sum().backward()
    assert query.grad.abs().sum() > 0
    assert memory.grad.abs().sum() > 0
    for param_name, param in attn.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", NAMES)
def test_padding_does_not_change_valid_outputs(name):
    attn = make(name)
    query, memory, mask = inputs(lengths=(7, 4))
    proj = attn.preprocess(memory)
    state = attn.init_state(mask)
    for _ in range(2):  # two steps, so mlp_ma reads a real alignment
        context, weights, state = attn(query, memory, proj, mask, state)
    alone_memory = memory[1:, :4]
    alone_mask = mask[1:, :4]
    alone_state = attn.init_state(alone_mask)
    alone_proj = attn.preprocess(alone_memory)
    for _ in range(2):
        alone_context, alone_weights, alone_state = attn(query[1:], alone_memory, alone_proj,
                                                         alone_mask, alone_state)
    torch.testing.assert_close(context[1:], alone_context)
    torch.testing.assert_close(weights[1:, :4], alone_weights)


def test_init_state_is_one_hot_on_first_frame():
    attn = make("mlp_ma", history=2)
    state = attn.init_state(make_non_pad_mask(torch.tensor([3, 2])))
    assert state.shape == (2, 2, 3)
    assert torch.all(state[:, :, 0] == 1) and torch.all(state[:, :, 1:] == 0)


def test_mlp_ma_reads_history_and_shifts_it():
    attn = make("mlp_ma", history=2, kernel_sizes=(3, 5), channels=4)
    query, memory, mask = inputs()
    proj = attn.preprocess(memory)
    state = attn.init_state(mask)
    _, weights_a, next_state = attn(query, memory, proj, mask, state)
    torch.testing.assert_close(next_state[:, 1], state[:, 0])  # older slot = previous newest
    other = torch.zeros_like(state)
    other[:, :, 3] = 1.0
    _, weights_b, _ = attn(query, memory, proj, mask, other)
    assert not torch.allclose(weights_a, weights_b)


def test_stateless_scorers_ignore_state():
    attn = make("mlp")
    query, memory, mask = inputs()
    proj = attn.preprocess(memory)
    state = attn.init_state(mask)
    _, weights_a, _ = attn(query, memory, proj, mask, state)
    _, weights_b, _ = attn(query, memory, proj, mask, torch.rand_like(state))
    torch.testing.assert_close(weights_a, weights_b)


def test_dot_projects_query_only_when_sizes_differ():
    assert len(list(make("dot", query_dim=8, memory_dim=8).parameters())) == 0
    assert len(list(make("dot", query_dim=6, memory_dim=8).parameters())) == 1


def test_bad_name_lists_valid_names():
    with pytest.raises(ValueError, match="must be one of dot, bilinear, mlp, mlp_ma: got 'foo'"):
        make("foo")


def test_bad_options_raise():
    with pytest.raises(ValueError, match="'mlp' has no option 'history'"):
        make("mlp", history=2)
    with pytest.raises(ValueError, match="odd widths"):
        make("mlp_ma", kernel_sizes=(4,))
    with pytest.raises(ValueError, match="history must be >= 1"):
        make("mlp_ma", history=0)


def reference_mlp_scores(attn, query, memory, state):
    """Eq. (12) written out: v^T tanh(W_h h^e + b + W_q h^d [+ W_f f]), f the features of each
    scale's own convolution of the alignment history (section V-C2), concatenated."""
    pre = attn.memory_proj(memory) + attn.query_proj(query)[:, None, :]  # (B, T, A)
    if hasattr(attn, "convs"):
        features = torch.cat([conv(state) for conv in attn.convs], dim=1)  # (B, C * scales, T)
        pre = pre + attn.location_proj(features.transpose(1, 2))
    return attn.v(torch.tanh(pre)).squeeze(2)  # (B, T)


@pytest.mark.parametrize("kernels", ["hand", "native"])
@pytest.mark.parametrize("name, options", [("mlp", {}), ("mlp_ma", dict(kernel_sizes=(3, 7), channels=4)),
                                           ("mlp_ma", dict(history=2, kernel_sizes=(1, 5), channels=3))])
def test_mlp_scores_and_gradients_equal_the_written_out_equation(name, options, kernels):
    """The scorer computes all scales as one matmul and, with the hand-written kernel (CPU),
    tanh through a sigmoid; with the native one (GPU) through torch.tanh: same values and
    gradients as Eq. (12) computed directly."""
    attn = make(name, **options).double()
    attn.kernels = kernels
    query, memory, mask = (t.double() if t.is_floating_point() else t for t in inputs(lengths=(9, 6)))
    query.requires_grad_()
    memory.requires_grad_()
    state = torch.softmax(torch.randn(2, attn.history, 9, dtype=torch.float64), -1).requires_grad_()
    grad = torch.randn(2, 9, dtype=torch.float64)
    wrt = [query, memory, state, *attn.parameters()]
    scores = attn.score(query, memory, attn.preprocess(memory), state)
    expected = reference_mlp_scores(attn, query, memory, state)
    torch.testing.assert_close(scores, expected)
    grads = [torch.autograd.grad(out, wrt, grad, allow_unused=True) for out in (scores, expected)]
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want)
