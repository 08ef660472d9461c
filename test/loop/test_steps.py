"""The steps of Algorithm 1: losses, dropped outputs, Eq. (5), and where gradients go."""
import pytest
import torch

from chain.asr.recognize import decode_batch
from chain.loop.steps import ChainOptions, chain_loss, paired_step, speech_only_step, text_only_step
from fixtures.chain_models import speech_batch, text_batch


def grad_norm(module):
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_paired_step_is_both_teacher_forced_losses(models):
    asr, tts = (m.eval() for m in models)  # no prenet dropout: the same loss twice
    batch = speech_batch()
    loss_asr, loss_tts, stats = paired_step(asr, tts, batch, ChainOptions())
    torch.testing.assert_close(loss_asr, asr(batch)[0])
    torch.testing.assert_close(loss_tts, tts(batch)[0])
    assert "rec_tts" not in stats


def test_paired_step_keeps_the_asr_guided_attention_loss(models):
    asr, tts = (m.eval() for m in models)
    batch = speech_batch()
    plain, _, _ = paired_step(asr, tts, batch, ChainOptions())
    asr.guided_attn_weight = 1.0
    guided, _, _ = paired_step(asr, tts, batch, ChainOptions())
    torch.testing.assert_close(guided, asr(batch)[0])
    assert guided > plain


@pytest.mark.parametrize("st", ["argmax", "gumbel"])
def test_teacher_forced_straight_through_adds_the_reconstruction_to_the_asr_loss(models, st):
    asr, tts = (m.eval() for m in models)
    batch = speech_batch()
    loss_asr, _, stats = paired_step(asr, tts, batch, ChainOptions(st=st, st_source="teacher_forced"))
    assert stats["rec_tts"] > 0
    torch.testing.assert_close(loss_asr.detach(), asr(batch)[0].detach() + stats["rec_tts"])  # Eq. 38


@pytest.mark.parametrize("st", ["none", "argmax", "gumbel"])
def test_reconstruction_loss_reaches_the_asr_only_through_straight_through(fitted, st):
    """L_tts^U of the speech-only step puts gradient on the ASR with ST on, none with it off."""
    asr, tts = fitted
    loss, stats = speech_only_step(asr, tts, speech_batch(with_text=False), ChainOptions(st=st))
    assert loss is not None and stats["dropped_asr"] == 0
    loss.backward()
    assert grad_norm(tts) > 0
    if st == "none":
        assert all(p.grad is None for p in asr.parameters())
    else:  # down to the encoder's first layer
        assert asr.output.weight.grad.abs().sum() > 0 and asr.enc_input[0].weight.grad.abs().sum() > 0


def test_speech_only_step_drops_transcriptions_at_the_cap(models):
    asr, tts = models
    with torch.no_grad():
        asr.output.bias[3] -= 100.0  # </s> never wins: every hypothesis runs to the cap
    for decode in ("greedy", "beam"):
        loss, stats = speech_only_step(asr, tts, speech_batch(with_text=False),
                                       ChainOptions(asr_decode=decode, beam=2))
        assert loss is None and stats["dropped_asr"] == 3


@pytest.mark.parametrize("decode", ["greedy", "beam"])
def test_speech_only_step_uses_the_transcription_and_the_original_speech(fitted, decode):
    asr, tts = fitted
    tts.eval()  # no prenet dropout: the same loss twice
    batch = speech_batch(with_text=False)
    loss, stats = speech_only_step(asr, tts, batch, ChainOptions(asr_decode=decode, beam=3))
    assert asr.training  # decoding ran in eval mode, the mode is restored
    hyps = decode_batch(asr.eval(), batch["feats"], batch["feat_lengths"], beam=3 if decode == "beam" else 1)
    keep = [0, 1, 2]
    assert stats["dropped_asr"] == 0 and all(hyps)
    lengths = torch.tensor([len(hyps[b]) for b in keep])
    tokens = torch.zeros(len(keep), int(lengths.max()), dtype=torch.long)
    for i, b in enumerate(keep):
        tokens[i, :len(hyps[b])] = torch.tensor(hyps[b])
    expected, _ = tts({"tokens": tokens, "token_lengths": lengths, "feats": batch["feats"][keep],
                       "feat_lengths": batch["feat_lengths"][keep], "linear": batch["linear"][keep]})
    torch.testing.assert_close(loss, expected)


def test_text_only_step_trains_the_asr_on_generated_speech_and_drops_capped_generations(models):
    asr, tts = models
    batch = text_batch()
    with torch.no_grad():
        tts.stop_out.bias.fill_(30.0)  # stops after one frame
    loss, stats = text_only_step(asr, tts, batch, ChainOptions())
    assert stats["dropped_tts"] == 0 and loss is not None
    loss.backward()
    assert grad_norm(asr) > 0 and grad_norm(tts) == 0  # the generated speech is a fixed input
    assert tts.training  # generation ran in eval mode, the mode is restored
    with torch.no_grad():
        tts.stop_out.bias.fill_(-30.0)  # never stops: every generation hits the cap
    loss, stats = text_only_step(asr, tts, batch, ChainOptions(max_frames_per_token=1.0))
    assert loss is None and stats["dropped_tts"] == 2


def test_chain_loss_is_equation_5():
    a, b, c, d = (torch.tensor(v) for v in (1.0, 2.0, 3.0, 4.0))
    opts = ChainOptions(alpha=0.5, beta=2.0)
    torch.testing.assert_close(chain_loss([a, b], [c, d], opts), torch.tensor(0.5 * 3 + 2.0 * 7))
    torch.testing.assert_close(chain_loss([], [None, d], opts), torch.tensor(8.0))
    assert chain_loss([], [None, None], opts) is None


def test_options_are_checked():
    with pytest.raises(ValueError, match="asr_decode greedy"):
        ChainOptions(st="argmax", asr_decode="beam")
    with pytest.raises(ValueError, match="st must be"):
        ChainOptions(st="soft")
