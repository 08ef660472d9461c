"""Multi-speaker Tacotron (section IV-C): z changes the output; Eq. (25) through a frozen encoder."""
import pytest
import torch

from chain.spk.encoder import SpeakerEncoder
from fixtures.chain_models import MEL, speech_batch, tiny_tts

Z = 4


def make_batch(spk_dim=0):
    batch = speech_batch()
    if spk_dim:
        batch["spk_vecs"] = torch.randn(3, spk_dim, generator=torch.Generator().manual_seed(5))
    return batch


def encoder():
    torch.manual_seed(3)
    return SpeakerEncoder(in_dim=MEL, num_speakers=2, conv_channels=(8,), conv_kernel=3, rnn_layers=0,
                          embed_dim=Z)


def speaker_tts(**kw):
    torch.manual_seed(0)
    return tiny_tts(spk_dim=Z, **kw).attach_speaker_encoder(encoder())


def test_output_changes_with_z():
    model = tiny_tts(spk_dim=Z).eval()
    batch = make_batch(spk_dim=Z)
    args = (batch["tokens"], batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    a = model.teacher_forced(*args, batch["spk_vecs"])
    b = model.teacher_forced(*args, batch["spk_vecs"].flip(0))
    assert not torch.allclose(a["mel"][0], b["mel"][0]) and not torch.allclose(a["linear"][0], b["linear"][0])
    again = model.teacher_forced(*args, batch["spk_vecs"])
    assert torch.equal(a["mel"], again["mel"])
    g1 = model.generate(batch["tokens"], batch["token_lengths"], batch["spk_vecs"], max_frames_per_token=2)
    g2 = model.generate(batch["tokens"], batch["token_lengths"], -batch["spk_vecs"], max_frames_per_token=2)
    assert not torch.allclose(g1["mel"][0, :4], g2["mel"][0, :4])


def test_loss_adds_gamma3_term_of_eq25():
    batch = make_batch()  # no spk_vecs: z = SPKEMB(feats) by the attached encoder
    with_term = speaker_tts().eval()
    without = speaker_tts(spk_loss_weight=0.0).eval()
    loss, stats = with_term(batch)
    base, base_stats = without(batch)
    assert "spk_cos" in stats and "spk_cos" not in base_stats
    assert loss.item() == pytest.approx(base.item() + 0.25 * (1 - stats["spk_cos"]), rel=1e-5)
    z = with_term.speaker_encoder.embed(batch["feats"], batch["feat_lengths"])
    given, _ = with_term({**batch, "spk_vecs": z})  # the same z given explicitly
    assert given.item() == pytest.approx(loss.item(), rel=1e-5)


def test_gamma3_gradient_reaches_only_the_tts():
    model = speaker_tts()
    batch = make_batch()
    out = model.teacher_forced(batch["tokens"], batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    z = model.speaker_vectors(batch["feats"], batch["feat_lengths"])
    (1 - model.speaker_similarity(out["mel"], batch["feat_lengths"], z)).backward()
    enc = model.speaker_encoder
    assert all(p.grad is None and not p.requires_grad for p in enc.parameters())
    assert model.mel_out[0].weight.grad.abs().sum() > 0 and model.spk_in.weight.grad.abs().sum() > 0
    assert model.postnet is not None and all(p.grad is None for p in model.linear_out.parameters())
    loss, _ = model(batch)  # the whole Eq. (25): still no gradient into the encoder
    loss.backward()
    assert all(p.grad is None for p in enc.parameters())
    assert not enc.training and model.training


def test_encoder_is_no_submodule_but_moves_with_the_model():
    model = speaker_tts()
    assert model.state_dict().keys() == tiny_tts(spk_dim=Z).state_dict().keys()
    assert all(p is not q for p in model.parameters() for q in model.speaker_encoder.parameters())
    model.double()
    assert next(model.speaker_encoder.parameters()).dtype == torch.float64
    model.train()
    assert not model.speaker_encoder.training


def test_speaker_model_needs_z_or_an_encoder():
    with pytest.raises(ValueError, match="attach a speaker encoder"):
        tiny_tts(spk_dim=Z)(make_batch())
    with pytest.raises(ValueError, match="spk_dim=0"):
        tiny_tts().attach_speaker_encoder(encoder())
    with pytest.raises(ValueError, match="4-dim"):
        tiny_tts(spk_dim=3).attach_speaker_encoder(encoder())
