import pytest
import torch

from chain.asr.seq2seq import Seq2SeqASR
from chain.nets.kernels import set_kernels

torch.set_num_threads(1)
VOCAB = 10
NAMES = ["dot", "bilinear", "mlp", "mlp_ma"]


@pytest.mark.parametrize("attention", NAMES)
@pytest.mark.parametrize("out_hidden", [0, 12])
def test_forward_backward_and_eval_inference(make_asr, batch, attention, out_hidden):
    model = make_asr(attention, out_hidden=out_hidden, dropout=0.1)
    loss, stats = model(batch)
    assert set(stats) == {"loss", "acc"}
    assert isinstance(stats["loss"], float) and stats["loss"] == pytest.approx(loss.item())
    assert 0.0 <= stats["acc"] <= 1.0
    loss.backward()
    assert all(p.grad is not None for p in model.parameters()), "unused parameter"
    model.eval()
    with torch.no_grad():
        hyps = model.greedy(batch["feats"], batch["feat_lengths"])
    assert len(hyps) == 4 and all(isinstance(t, int) for h in hyps for t in h)


def test_add_sos_eos(make_asr):
    tokens = torch.tensor([[5, 6, 7], [8, 9, 0]])
    prev, target = make_asr().add_sos_eos(tokens, torch.tensor([3, 2]))
    assert prev.tolist() == [[2, 5, 6, 7], [2, 8, 9, 0]]
    assert target.tolist() == [[5, 6, 7, 3], [8, 9, 3, 0]]


def test_loss_is_token_mean_including_eos(make_asr, batch):
    model = make_asr().eval()
    loss, _ = model(batch)
    enc, enc_lengths = model.encode(batch["feats"], batch["feat_lengths"])
    prev, target = model.add_sos_eos(batch["tokens"], batch["token_lengths"])
    logits, _ = model.decode_teacher_forced(enc, enc_lengths, prev)
    logp = logits.log_softmax(-1).gather(2, target[:, :, None]).squeeze(2)
    valid = target != 0
    assert int(valid.sum()) == int(batch["token_lengths"].sum()) + 4  # one </s> each
    torch.testing.assert_close(loss, -(logp * valid).sum() / valid.sum())
    smoothed, _ = make_asr(label_smoothing=0.1).eval()(batch)
    assert not torch.allclose(loss, smoothed)


@pytest.mark.parametrize("attention", ["mlp", "mlp_ma"])
def test_padding_does_not_change_valid_outputs(make_asr, batch, attention):
    model = make_asr(attention).eval()
    pick = [0, 3]  # 32 and 20 frames
    feats, feat_lengths = batch["feats"][pick], batch["feat_lengths"][pick]
    token_lengths = batch["token_lengths"][pick]
    enc, enc_lengths = model.encode(feats, feat_lengths)
    prev, _ = model.add_sos_eos(batch["tokens"][pick], token_lengths)
    logits, attn = model.decode_teacher_forced(enc, enc_lengths, prev)
    for b in range(2):
        enc1, enc_lengths1 = model.encode(feats[b:b + 1, :feat_lengths[b]], feat_lengths[b:b + 1])
        n_enc, n_tok = int(enc_lengths1[0]), int(token_lengths[b]) + 1
        torch.testing.assert_close(enc[b, :n_enc], enc1[0], rtol=1e-5, atol=1e-6)
        assert torch.all(enc[b, n_enc:] == 0)
        logits1, attn1 = model.decode_teacher_forced(enc1, enc_lengths1, prev[b:b + 1, :n_tok])
        torch.testing.assert_close(logits[b, :n_tok], logits1[0], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(attn[b, :n_tok, :n_enc], attn1[0], rtol=1e-5, atol=1e-6)
        assert torch.all(attn[b, :, n_enc:] == 0)


@pytest.mark.parametrize("attention", ["mlp", "mlp_ma"])
def test_native_kernels_equal_hand_written_ones_with_gradients(make_asr, batch, attention):
    """The attention's native tanh (what a GPU runs, chain.nets.kernels) against the CPU's
    tanh through a sigmoid, forced on CPU: same loss and gradients."""
    model = make_asr(attention).double()
    batch = {k: v.double() if torch.is_tensor(v) and v.is_floating_point() else v for k, v in batch.items()}
    results = []
    for kernels in ("hand", "native"):
        assert set_kernels(model, kernels) == 1
        loss, _ = model(batch)
        results.append((loss, torch.autograd.grad(loss, list(model.parameters()))))
    (loss_hand, grads_hand), (loss_native, grads_native) = results
    torch.testing.assert_close(loss_native, loss_hand)
    for got, want in zip(grads_native, grads_hand):
        torch.testing.assert_close(got, want)


def test_soft_one_hot_input_equals_hard_ids(make_asr, batch):
    model = make_asr("mlp_ma").eval()
    enc, enc_lengths = model.encode(batch["feats"], batch["feat_lengths"])
    prev, _ = model.add_sos_eos(batch["tokens"], batch["token_lengths"])
    hard, hard_attn = model.decode_teacher_forced(enc, enc_lengths, prev)
    one_hot = torch.nn.functional.one_hot(prev, VOCAB).float().requires_grad_()
    soft, soft_attn = model.decode_teacher_forced(enc, enc_lengths, one_hot)
    torch.testing.assert_close(soft, hard, rtol=0, atol=1e-6)
    torch.testing.assert_close(soft_attn, hard_attn, rtol=0, atol=1e-6)
    soft.sum().backward()
    assert one_hot.grad.abs().sum() > 0  # soft inputs carry gradients (straight-through path)
    with pytest.raises(ValueError, match="10 classes"):
        model.decode_teacher_forced(enc, enc_lengths, one_hot[:, :, :5])


def test_loss_falls_on_a_fixed_batch(make_asr, batch):
    model = make_asr()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first, _ = model(batch)
    for _ in range(10):
        loss, _ = model(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    last, _ = model(batch)
    assert last.item() < 0.7 * first.item()


@pytest.mark.parametrize("attention", ["mlp", "mlp_ma"])
def test_overfits_four_utterances_to_zero_cer(make_asr, batch, attention):
    model = make_asr(attention)
    refs = [row[:n].tolist() for row, n in zip(batch["tokens"], batch["token_lengths"])]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    hyps = None
    for step in range(1, 201):
        model.train()
        loss, _ = model(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            model.eval()
            with torch.no_grad():
                hyps = model.greedy(batch["feats"], batch["feat_lengths"])
            if hyps == refs:
                break
    assert hyps == refs


def test_greedy_batched_equals_alone_and_returns_logits(trained_asr, batch):
    model = trained_asr
    ratio = 0.75  # caps of 6, 6, 5, 4 steps: some utterances end with </s>, some hit the cap
    with torch.no_grad():
        hyps, logits, lengths = model.greedy(batch["feats"], batch["feat_lengths"],
                                             max_len_ratio=ratio, return_logits=True)
    assert logits.shape == (4, int(lengths.max()), VOCAB)
    caps = model.max_decode_lengths(torch.tensor([8, 7, 6, 5]), ratio)
    ended = []
    for b in range(4):
        n = int(lengths[b])
        ended.append(n == len(hyps[b]) + 1)
        assert ended[b] or n == len(hyps[b]) == int(caps[b])
        assert logits[b, :n].argmax(-1).tolist() == hyps[b] + ([3] if ended[b] else [])
        assert torch.all(logits[b, n:] == 0)
        with torch.no_grad():
            alone = model.greedy(batch["feats"][b:b + 1, :batch["feat_lengths"][b]],
                                 batch["feat_lengths"][b:b + 1], max_len_ratio=ratio)
        assert alone == [hyps[b]]
    assert any(ended) and not all(ended)  # both stopping rules are exercised


def test_greedy_keeps_gradients_for_the_chain(make_asr, batch):
    model = make_asr()
    _, logits, _ = model.greedy(batch["feats"], batch["feat_lengths"], return_logits=True)
    logits.sum().backward()
    assert model.enc_input[0].weight.grad.abs().sum() > 0


def test_bad_options_raise(make_asr):
    with pytest.raises(ValueError, match="must be one of dot, bilinear, mlp, mlp_ma: got 'foo'"):
        make_asr("foo")
    with pytest.raises(ValueError, match="one factor >= 1 per layer"):
        make_asr(subsample=[2, 2, 2])
    with pytest.raises(ValueError, match="vocab_size=3"):
        make_asr(vocab_size=3)
    with pytest.raises(ValueError, match="'mlp' has no option 'history'"):
        make_asr(attn_options={"history": 2})
    with pytest.raises(ValueError, match="feats have 5 dims per frame but .* idim=8"):
        make_asr().encode(torch.zeros(1, 4, 5), torch.tensor([4]))
    with pytest.raises(ValueError, match="max_len_ratio"):
        Seq2SeqASR.max_decode_lengths(torch.tensor([3]), 0.0)
    with pytest.raises(ValueError, match="guided_attn_weight must be >= 0"):
        make_asr(guided_attn_weight=-1.0)


def test_guided_attention_adds_to_the_loss_and_reaches_the_attention(make_asr, batch):
    torch.manual_seed(0)
    plain_loss, plain = make_asr().eval()(batch)
    torch.manual_seed(0)
    model = make_asr(guided_attn_weight=2.0).eval()
    guided_loss, guided = model(batch)
    assert "guided_attn" not in plain and guided["guided_attn"] > 0
    assert guided_loss.item() == pytest.approx(plain_loss.item() + 2.0 * guided["guided_attn"], rel=1e-5)
    logits, target, guide = model.teacher_forced_logits(batch)
    assert guide.item() == pytest.approx(guided["guided_attn"], rel=1e-5)
    guide.backward()  # the prior alone: it trains the attention and what feeds it, not the output layer
    assert next(model.attention.parameters()).grad.abs().sum() > 0
    assert model.enc_input[0].weight.grad.abs().sum() > 0
    assert model.output.weight.grad is None


def test_guided_attention_makes_the_attention_diagonal(make_asr, batch):
    """Trained on the prior alone, the attention of every utterance moves its mass onto the
    diagonal of (decoder step / steps, encoder frame / frames)."""
    model = make_asr(guided_attn_weight=1.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.teacher_forced_logits(batch)[2].item()
    for _ in range(30):
        guide = model.teacher_forced_logits(batch)[2]
        optimizer.zero_grad()
        guide.backward()
        optimizer.step()
    assert model.teacher_forced_logits(batch)[2].item() < 0.5 * first
