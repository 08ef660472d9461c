"""Tacotron: masking, Eq. (14) loss, training, generation with stop, soft inputs, speakers."""
import math

import pytest
import torch
from torch.nn import functional as F

from chain.nets.kernels import set_kernels
from chain.nets.masks import make_non_pad_mask
from chain.tts import Tacotron

torch.set_num_threads(1)

VOCAB, MEL, LIN = 12, 6, 9


def tiny(**kw):
    conf = dict(vocab_size=VOCAB, embed_dim=16, encoder_fc_dims=(16, 16), encoder_bank_size=3,
                encoder_channels=16, encoder_highway_layers=1, encoder_rnn_dim=8, mel_dim=MEL,
                linear_dim=LIN, reduction_factor=2, prenet_dims=(16, 16), decoder_dim=24,
                attention_dim=16, attention_conf=dict(kernel_sizes=(3,), channels=4),
                output_hidden_dim=24, postnet_bank_size=3, postnet_channels=16, postnet_proj_dim=16,
                postnet_highway_layers=1, postnet_rnn_dim=8)
    conf.update(kw)
    return Tacotron(**conf)


def make_batch(seed=0, token_lengths=(5, 3, 4), feat_lengths=(11, 6, 8), spk_dim=0):
    g = torch.Generator().manual_seed(seed)
    B, L, T = len(token_lengths), max(token_lengths), max(feat_lengths)
    tokens = torch.randint(4, VOCAB, (B, L), generator=g)
    tokens = tokens * make_non_pad_mask(torch.tensor(token_lengths), L)
    batch = dict(tokens=tokens, token_lengths=torch.tensor(token_lengths),
                 feats=torch.randn(B, T, MEL, generator=g), feat_lengths=torch.tensor(feat_lengths),
                 linear=torch.randn(B, T, LIN, generator=g))
    if spk_dim:
        batch["spk_vecs"] = torch.randn(B, spk_dim, generator=g)
    return batch


@pytest.mark.parametrize("attention, r, spk_dim", [("mlp_ma", 2, 0), ("mlp", 1, 3), ("dot", 3, 0), ("bilinear", 4, 2)])
def test_forward_backward_and_shapes(attention, r, spk_dim):
    torch.manual_seed(0)
    attention_conf = dict(kernel_sizes=(3,), channels=4) if attention == "mlp_ma" else {}
    model = tiny(attention=attention, attention_conf=attention_conf, reduction_factor=r, spk_dim=spk_dim)
    batch = make_batch(spk_dim=spk_dim)
    loss, stats = model(batch)
    loss.backward()
    assert set(stats) == {"loss", "mel_l2", "linear_l2", "stop_bce", "stop_acc"}
    assert all(isinstance(v, float) for v in stats.values()) and math.isfinite(stats["loss"])
    assert all(p.grad is not None for p in model.parameters())
    out = model.teacher_forced(batch["tokens"], batch["token_lengths"], batch["feats"],
                               batch["feat_lengths"], batch.get("spk_vecs"))
    t_pad = r * math.ceil(11 / r)
    assert out["mel"].shape == (3, t_pad, MEL) and out["linear"].shape == (3, t_pad, LIN)
    assert out["stop_logits"].shape == (3, t_pad) and out["attn"].shape == (3, t_pad // r, 6)


@pytest.mark.parametrize("train", [True, False])
def test_padding_does_not_change_valid_outputs_or_loss(train):
    torch.manual_seed(1)
    model = tiny(dropout=0.0).train(train)
    batch = make_batch()
    padded = dict(batch)
    padded["tokens"] = torch.cat([batch["tokens"], torch.randint(4, VOCAB, (3, 4))], dim=1)
    padded["tokens"][1, 3:5] = 7  # garbage inside the old width too
    padded["feats"] = torch.cat([batch["feats"], 9 * torch.randn(3, 5, MEL)], dim=1)
    padded["feats"][1, 6:] = 5.0
    padded["linear"] = torch.cat([batch["linear"], torch.full((3, 5, LIN), float("nan"))], dim=1)
    args = ("tokens", "token_lengths", "feats", "feat_lengths")
    a = model.teacher_forced(*[batch[k] for k in args])
    b = model.teacher_forced(*[padded[k] for k in args])
    for i, (n_tok, n_feat) in enumerate(zip((5, 3, 4), (11, 6, 8))):
        steps = math.ceil(n_feat / 2)
        assert torch.allclose(a["mel"][i, :n_feat], b["mel"][i, :n_feat], atol=1e-5)
        assert torch.allclose(a["linear"][i, :n_feat], b["linear"][i, :n_feat], atol=1e-5)
        assert torch.allclose(a["stop_logits"][i, :2 * steps], b["stop_logits"][i, :2 * steps], atol=1e-5)
        assert torch.allclose(a["attn"][i, :steps, :n_tok + 1], b["attn"][i, :steps, :n_tok + 1], atol=1e-5)
        assert torch.all(b["attn"][i, :steps, n_tok + 1:] == 0)
    loss_a, _ = model(batch)
    loss_b, _ = model(padded)
    assert torch.isfinite(loss_b) and torch.allclose(loss_a, loss_b, atol=1e-5)


def test_loss_is_eq14_with_grouped_targets_and_stop_from_last_frame():
    torch.manual_seed(2)
    model = tiny(stop_pos_weight=5.0).eval()
    batch = make_batch()
    with torch.no_grad():
        _, stats = model(batch)
        out = model.teacher_forced(batch["tokens"], batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    mel_sq, lin_sq, n, bce, n_stop = 0.0, 0.0, 0, 0.0, 0
    for i, length in enumerate((11, 6, 8)):
        mel_sq += float(((out["mel"][i, :length] - batch["feats"][i, :length]) ** 2).sum())
        lin_sq += float(((out["linear"][i, :length] - batch["linear"][i, :length]) ** 2).sum())
        n += length
        group_end = 2 * math.ceil(length / 2)  # frames of the item's own last step
        target = (torch.arange(group_end) >= length - 1).float()  # 1 from the last valid frame on
        bce += float(F.binary_cross_entropy_with_logits(
            out["stop_logits"][i, :group_end], target, pos_weight=torch.tensor(5.0), reduction="sum"))
        n_stop += group_end
    assert stats["mel_l2"] == pytest.approx(mel_sq / (n * MEL), rel=1e-5)
    assert stats["linear_l2"] == pytest.approx(lin_sq / (n * LIN), rel=1e-5)
    assert stats["stop_bce"] == pytest.approx(bce / n_stop, rel=1e-5)
    assert stats["loss"] == pytest.approx(stats["mel_l2"] + stats["linear_l2"] + stats["stop_bce"], rel=1e-5)


def test_sum_reduction_is_eq14_as_written_and_ignores_padding():
    """loss_reduction sum: squared norms over the bins, averaged over valid frames (Eq. 14),
    i.e. the mean form's L2 terms times the bins; padded frames hold garbage and count nowhere."""
    batch = make_batch()
    for i, length in enumerate((11, 6, 8)):
        batch["feats"][i, length:] = 1e3
        batch["linear"][i, length:] = -1e3
    torch.manual_seed(2)
    mean_model = tiny().eval()
    torch.manual_seed(2)
    sum_model = tiny(loss_reduction="sum").eval()
    with torch.no_grad():
        mean_loss, mean = mean_model(batch)
        sum_loss, summed = sum_model(batch)
        out = sum_model.teacher_forced(batch["tokens"], batch["token_lengths"], batch["feats"],
                                       batch["feat_lengths"])
    norms, frames = 0.0, 0
    for i, length in enumerate((11, 6, 8)):
        norms += float(((out["mel"][i, :length] - batch["feats"][i, :length]) ** 2).sum())
        norms += float(((out["linear"][i, :length] - batch["linear"][i, :length]) ** 2).sum())
        frames += length
    assert sum_loss.item() == pytest.approx(norms / frames + summed["stop_bce"], rel=1e-5)
    assert sum_loss.item() == pytest.approx(
        MEL * mean["mel_l2"] + LIN * mean["linear_l2"] + mean["stop_bce"], rel=1e-5)
    assert summed["mel_l2"] == pytest.approx(mean["mel_l2"], rel=1e-6)  # stats stay per bin
    assert mean_loss.item() == pytest.approx(mean["mel_l2"] + mean["linear_l2"] + mean["stop_bce"], rel=1e-5)


def overfit_batch():
    """Two utterances with smooth targets: frame t of utterance i is a slow sine pattern."""
    feat_lengths = torch.tensor([14, 9])
    t = torch.arange(14.0)[None, :, None]
    d = torch.arange(MEL + LIN, dtype=torch.float32)[None, None, :]
    phase = torch.tensor([0.0, 1.5])[:, None, None]
    targets = torch.sin(0.35 * t + 0.5 * d + phase) * make_non_pad_mask(feat_lengths, 14)[:, :, None]
    return dict(tokens=torch.tensor([[5, 6, 7, 8], [9, 10, 11, 0]]), token_lengths=torch.tensor([4, 3]),
                feats=targets[:, :, :MEL].contiguous(), feat_lengths=feat_lengths,
                linear=targets[:, :, MEL:].contiguous())


@pytest.fixture(scope="module")
def trained():
    """A tiny model trained to overfit two utterances; returns (model, losses, batch)."""
    torch.manual_seed(0)
    model = tiny(dropout=0.0)
    batch = overfit_batch()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(100):
        model.train()
        loss, stats = model(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(stats["loss"])
    return model.eval(), losses, batch


def test_loss_falls_on_a_fixed_batch(trained):
    _, losses, _ = trained
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-5:]) / 5 < 0.3 * sum(losses[:5]) / 5


def test_generation_stops_on_its_own_and_reports_the_cap(trained):
    model, _, batch = trained
    out = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=8)
    caps = torch.tensor([32, 24])
    assert not out["hit_cap"].any()
    assert torch.all(out["lengths"] < caps)
    assert torch.all((out["lengths"] - batch["feat_lengths"]).abs() <= 2)
    assert out["mel"].shape == (2, int(out["lengths"].max()), MEL)
    assert out["linear"].shape == (2, int(out["lengths"].max()), LIN)
    assert torch.all(out["mel"][1, int(out["lengths"][1]):] == 0)
    mel_only = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=8, with_linear=False)
    assert "linear" not in mel_only and torch.equal(mel_only["mel"], out["mel"])
    # a threshold no probability can pass: every item runs to its cap and says so
    capped = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=8, stop_threshold=1.01)
    assert capped["hit_cap"].all() and torch.equal(capped["lengths"], caps)


def test_batched_generation_equals_per_item_generation(trained):
    model, _, batch = trained
    out = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=8)
    for i in range(2):
        n_tok = int(batch["token_lengths"][i])
        alone = model.generate(batch["tokens"][i:i + 1, :n_tok], batch["token_lengths"][i:i + 1],
                               max_frames_per_token=8)
        n = int(alone["lengths"][0])
        assert int(out["lengths"][i]) == n
        assert torch.allclose(out["mel"][i, :n], alone["mel"][0], atol=1e-4)
        assert torch.allclose(out["linear"][i, :n], alone["linear"][0], atol=1e-4)


def reference_decoder(model, batch):
    """The teacher-forced decoder written plainly: the nn.LSTMCell layers called on
    [prenet output, previous context] at every step -> (mel, stop logits)."""
    memory, memory_lengths = model.encode(batch["tokens"], batch["token_lengths"])
    mask = make_non_pad_mask(memory_lengths, memory.size(1))
    feats, r = batch["feats"], model.r
    steps = math.ceil(feats.size(1) / r)
    targets = F.pad(feats, (0, 0, 0, steps * r - feats.size(1)))
    previous = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, r - 1::r][:, :-1]], dim=1)
    prenet_out = model.prenet(previous)
    memory_proj = model.attention.preprocess(memory)
    state = [(memory.new_zeros(len(feats), cell.hidden_size),) * 2 for cell in model.lstms]
    context, attn_state = memory.new_zeros(len(feats), memory.size(2)), model.attention.init_state(mask)
    decs, contexts = [], []
    for s in range(steps):
        x = torch.cat([prenet_out[:, s], context], dim=-1)
        for i, cell in enumerate(model.lstms):
            state[i] = cell(x, state[i])
            x = state[i][0]
        context, _, attn_state = model.attention(x, memory, memory_proj, mask, attn_state)
        decs.append(x)
        contexts.append(context)
    mel, stop = model._outputs(torch.stack(decs, 1), torch.stack(contexts, 1), None)
    return mel.reshape(len(feats), -1, model.mel_dim), stop.reshape(len(feats), -1)


@pytest.mark.parametrize("layers", [1, 2])
def test_decoder_equals_plainly_written_reference_with_gradients(layers):
    torch.manual_seed(5)
    model = tiny(dropout=0.0, decoder_layers=layers).double()
    batch = {k: v.double() if v.is_floating_point() else v for k, v in make_batch().items()}
    out = model.teacher_forced(batch["tokens"], batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    mel, stop = reference_decoder(model, batch)
    torch.testing.assert_close(out["mel"], mel)
    torch.testing.assert_close(out["stop_logits"], stop)
    params = [p for name, p in model.named_parameters() if not name.startswith(("postnet", "linear_out"))]
    grads = [torch.autograd.grad(y.pow(2).sum() + z.sum(), params)
             for y, z in ((out["mel"], out["stop_logits"]), (mel, stop))]
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want)


def test_native_kernels_equal_hand_written_ones_with_gradients():
    """What a GPU runs (nn.GRU, nn.LSTMCell, torch.tanh: chain.nets.kernels) against the
    CPU's hand-written kernels, forced on CPU: same loss, gradients and generation."""
    torch.manual_seed(6)
    model = tiny(dropout=0.0).double()
    batch = {k: v.double() if v.is_floating_point() else v for k, v in make_batch().items()}
    results = {}
    for kernels in ("hand", "native"):
        assert set_kernels(model, kernels) == 4  # Tacotron, attention, two CBHG BiGRUs
        loss, _ = model(batch)
        gen = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=2)
        results[kernels] = loss, torch.autograd.grad(loss, list(model.parameters())), gen
    (loss_hand, grads_hand, gen_hand), (loss_native, grads_native, gen_native) = results.values()
    torch.testing.assert_close(loss_native, loss_hand)
    for got, want in zip(grads_native, grads_hand):
        torch.testing.assert_close(got, want)
    for key in ("mel", "linear", "lengths"):
        torch.testing.assert_close(gen_native[key], gen_hand[key])


@pytest.mark.parametrize("kernels", ["hand", "native"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_trains_under_autocast(kernels, dtype):
    """AMP (CPU autocast here; bf16/fp16 on a GPU): finite loss, float32 gradients for every
    parameter, with the hand-written kernels and the native ones."""
    torch.manual_seed(7)
    model = tiny()
    set_kernels(model, kernels)
    with torch.autocast("cpu", dtype=dtype):
        loss, _ = model(make_batch())
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()
               for p in model.parameters())


def test_soft_one_hot_input_equals_hard_input_exactly():
    torch.manual_seed(3)
    model = tiny().eval()
    batch = make_batch()
    soft = F.one_hot(batch["tokens"], VOCAB).float()
    args = (batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    hard_out = model.teacher_forced(batch["tokens"], *args)
    soft_out = model.teacher_forced(soft, *args)
    for key in ("mel", "linear", "stop_logits", "attn"):
        assert torch.equal(hard_out[key], soft_out[key]), key
    # gradients reach the soft input (the straight-through path needs them)
    soft.requires_grad_(True)
    model.teacher_forced(soft, *args)["mel"].sum().backward()
    assert soft.grad is not None and soft.grad.abs().sum() > 0
    gen_hard = model.generate(batch["tokens"], batch["token_lengths"], max_frames_per_token=2)
    gen_soft = model.generate(soft.detach(), batch["token_lengths"], max_frames_per_token=2)
    assert torch.equal(gen_hard["mel"], gen_soft["mel"])


def test_speaker_vector_changes_output_and_is_checked():
    torch.manual_seed(4)
    model = tiny(spk_dim=3).eval()
    batch = make_batch(spk_dim=3)
    args = [batch[k] for k in ("tokens", "token_lengths", "feats", "feat_lengths")]
    a = model.teacher_forced(*args, spk_vecs=batch["spk_vecs"])
    b = model.teacher_forced(*args, spk_vecs=batch["spk_vecs"] + 1.0)
    assert not torch.allclose(a["mel"], b["mel"]) and not torch.allclose(a["linear"], b["linear"])
    with pytest.raises(ValueError, match=r"needs spk_vecs of shape \(3, 3\)"):
        model.teacher_forced(*args)
    with pytest.raises(ValueError, match="spk_dim=0"):
        tiny().teacher_forced(*args, spk_vecs=batch["spk_vecs"])
    # forward(batch) ignores spk_vecs when the model has no speaker input
    tiny()(batch)


@pytest.mark.parametrize("kwargs, match", [
    (dict(attention="location"), "dot, bilinear, mlp, mlp_ma"),
    (dict(encoder_rnn_type="rnn"), "gru, lstm"),
    (dict(reduction_factor=0), "reduction_factor"),
    (dict(attention_conf=dict(widths=3)), "widths"),
    (dict(eos_id=99), "eos_id"),
    (dict(guided_attn_weight=-1.0), "guided_attn_weight"),
    (dict(loss_reduction="max"), "mean, sum: got 'max'"),
])
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny(**kwargs)


def test_bad_inputs_raise():
    model = tiny()
    batch = make_batch()
    with pytest.raises(ValueError, match="text input must be ids"):
        model.teacher_forced(batch["tokens"].float(), batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    del batch["linear"]
    with pytest.raises(KeyError, match="linear"):
        model(batch)


def test_guided_attention_adds_to_the_loss():
    torch.manual_seed(0)
    batch = make_batch()
    plain_loss, plain = tiny()(batch)
    torch.manual_seed(0)
    guided_loss, guided = tiny(guided_attn_weight=2.0)(batch)
    assert "guided_attn" not in plain and guided["guided_attn"] > 0
    assert guided_loss.item() == pytest.approx(plain_loss.item() + 2.0 * guided["guided_attn"], rel=1e-5)
