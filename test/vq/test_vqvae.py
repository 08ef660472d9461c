import pytest
import torch

from chain.nets.gradient_reversal import reverse_gradient
from chain.nets.vector_quantizer import VectorQuantizer, code_usage, perplexity
from chain.vq.vqvae import VQVAE, time_jitter


def test_straight_through_and_loss_routing():
    torch.manual_seed(0)
    vq = VectorQuantizer(num_codes=8, code_dim=4)
    z = torch.randn(2, 5, 4, requires_grad=True)
    q = vq(z)
    # the latent has the codebook's values and passes the decoder's gradient to z unchanged
    torch.testing.assert_close(q.latent, vq.codebook(q.indices))  # up to rounding of z + (e - z)
    upstream = torch.randn_like(z)
    (q.latent * upstream).sum().backward()
    assert torch.equal(z.grad, upstream) and vq.codebook.weight.grad is None
    # commitment loss: gradient to the encoder output only; codebook loss: to the codebook only
    z.grad = None
    vq(z).commitment_loss.backward()
    assert z.grad.abs().sum() > 0 and vq.codebook.weight.grad is None
    z.grad = None
    vq(z).codebook_loss.backward()
    assert z.grad is None and vq.codebook.weight.grad.abs().sum() > 0


def test_vqvae_gradients_reach_encoder_through_quantizer():
    torch.manual_seed(0)
    model = VQVAE(input_dim=6, num_speakers=3, stride=2, num_codes=16, code_dim=8, speaker_dim=4, channels=16)
    batch = {"feats": torch.randn(2, 10, 6), "feat_lengths": torch.tensor([10, 7]), "spk_ids": torch.tensor([0, 2])}
    q, _ = model.encode(batch["feats"], batch["feat_lengths"])
    recon = model.decode(q.latent, batch["spk_ids"], 10)
    recon.pow(2).sum().backward()  # reconstruction alone: no codebook or commitment term
    assert model.encoder[0][0].weight.grad.abs().sum() > 0
    assert model.quantizer.codebook.weight.grad is None  # the codebook learns from Eq. (3)'s 2nd term only
    model.zero_grad(set_to_none=True)
    loss, stats = model(batch)
    loss.backward()
    assert model.quantizer.codebook.weight.grad.abs().sum() > 0
    assert set(stats) == {"mse", "codebook", "commitment", "perplexity", "codes_used"}


def test_codebook_usage_counts():
    indices = torch.tensor([[0, 0, 3, 5], [3, 3, 1, 1]])
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    assert code_usage(indices, 6, mask).tolist() == [2, 0, 0, 3, 0, 1]
    assert code_usage(indices, 6).tolist() == [2, 2, 0, 3, 0, 1]
    assert perplexity(torch.tensor([5, 0, 0])) == pytest.approx(1.0)
    assert perplexity(torch.tensor([2, 2, 2, 2])) == pytest.approx(4.0)


@pytest.mark.parametrize("stride", [1, 2, 4, 8])
def test_vqvae_shapes_at_every_stride(stride):
    model = VQVAE(input_dim=5, num_speakers=2, stride=stride, num_codes=8, code_dim=4, speaker_dim=3, channels=8)
    feats = torch.randn(3, 19, 5)
    lengths = torch.tensor([19, 12, 1])
    q, code_lengths = model.encode(feats, lengths)
    assert q.indices.shape == (3, -(-19 // stride)) and code_lengths.tolist() == [-(-n // stride) for n in (19, 12, 1)]
    assert model.decode(q.latent, torch.tensor([0, 1, 1]), 19).shape == (3, 19, 5)
    model.eval()
    loss, _ = model({"feats": feats, "feat_lengths": lengths, "spk_ids": torch.tensor([0, 1, 0])})
    assert torch.isfinite(loss)


def test_bad_options():
    with pytest.raises(ValueError, match="stride must be one of 1, 2, 4, 8: got 3"):
        VQVAE(input_dim=5, num_speakers=2, stride=3)
    with pytest.raises(ValueError, match="num_codes >= 2"):
        VectorQuantizer(num_codes=1, code_dim=4)


def test_data_init_of_the_codebook():
    torch.manual_seed(0)
    vq = VectorQuantizer(num_codes=4, code_dim=3)
    z = torch.randn(2, 5, 3) * 10
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    vq.eval()
    vq(z, mask)
    assert not vq.initialised  # eval mode leaves the codebook alone
    vq.train()
    q = vq(z, mask)
    valid = z[mask]
    assert all((valid == row).all(1).any() for row in vq.codebook.weight)  # rows of valid outputs
    assert len(set(q.indices[mask].tolist())) == 4  # each code is its own output's nearest
    before = vq.codebook.weight.clone()
    vq(z * 2, mask)
    assert torch.equal(before, vq.codebook.weight)  # only once
    assert VectorQuantizer(num_codes=4, code_dim=3, init="uniform").initialised


def test_dev_codebook_usage_and_collapse_warning(caplog):
    from chain.vq.tasks import codebook_dev_stats

    torch.manual_seed(0)
    model = VQVAE(input_dim=4, num_speakers=1, stride=2, num_codes=8, code_dim=3, speaker_dim=2, channels=8).eval()
    loader = [{"feats": torch.randn(2, 12, 4), "feat_lengths": torch.tensor([12, 5])}] * 2
    with torch.no_grad():
        model.quantizer.codebook.weight.fill_(0.5)  # every row the same: code 0 always wins
    stats = codebook_dev_stats(model, loader)
    assert stats == {"codebook_used": 1.0, "codebook_usage": 1 / 8, "codebook_perplexity": 1.0}
    assert "codebook collapse: 1 of 8 codes" in caplog.text
    caplog.clear()
    with torch.no_grad():  # spread codes: the valid outputs pick several of them
        z = model.encoder(loader[0]["feats"].transpose(1, 2)).transpose(1, 2)  # (2, 6, 3)
        model.quantizer.codebook.weight.copy_(z[0].repeat(2, 1)[:8])  # rows 6, 7 repeat 0, 1 and lose ties
    stats = codebook_dev_stats(model, loader)
    assert stats["codebook_used"] == 6 and 1 < stats["codebook_perplexity"] <= 6
    assert "collapse" not in caplog.text


def test_dead_codes_restart_on_batch_outputs():
    torch.manual_seed(0)
    vq = VectorQuantizer(num_codes=4, code_dim=2, init="uniform", restart_threshold=0.5, usage_decay=0.5)
    with torch.no_grad():
        vq.codebook.weight.copy_(torch.tensor([[0.0, 0.0], [100.0, 100.0], [-100.0, 100.0], [100.0, -100.0]]))
    z = torch.randn(1, 6, 2) * 0.1  # every output is nearest to code 0
    vq(z)
    # usage: 0.5 * 1/4 + 0.5 * share -> code 0 at 0.625, the others at 0.125 = 0.5 / 4: not below yet
    assert torch.allclose(vq.usage, torch.tensor([0.625, 0.125, 0.125, 0.125]))
    vq(z)  # now 0.0625 < 0.125 for codes 1-3, restarted at the next batch's outputs
    q = vq(z)
    assert all((z[0] == row).all(1).any() for row in vq.codebook.weight[1:])
    assert len(set(q.indices[0].tolist())) > 1
    vq.eval()
    before = vq.codebook.weight.clone()
    vq(z * 50)
    assert torch.equal(before, vq.codebook.weight)  # never in eval mode


def test_time_jitter_takes_a_neighbour_inside_the_utterance():
    torch.manual_seed(0)
    latent = torch.arange(2 * 6, dtype=torch.float).view(2, 6, 1).expand(2, 6, 3).clone()
    lengths = torch.tensor([6, 4])
    assert torch.equal(time_jitter(latent, lengths, 0.0), latent)
    moved = 0
    for _ in range(20):
        out = time_jitter(latent, lengths, 1.0)
        offset = out[:, :, 0] - latent[:, :, 0]
        for b, n in enumerate(lengths.tolist()):
            for t in range(n):
                assert offset[b, t].item() in ({-1, 1} if 0 < t < n - 1 else {0, 1} if t == 0 else {-1, 0})
            assert torch.equal(out[b, n:], latent[b, n:])  # padding untouched
        moved += int((offset != 0).sum())
    assert moved > 0


def test_time_jitter_only_in_training_and_gradient_reaches_the_encoder():
    torch.manual_seed(0)
    model = VQVAE(input_dim=6, num_speakers=2, stride=2, num_codes=16, code_dim=8, speaker_dim=4, channels=16,
                  jitter=0.5)
    batch = {"feats": torch.randn(2, 12, 6), "feat_lengths": torch.tensor([12, 9]), "spk_ids": torch.tensor([0, 1])}
    model.eval()
    assert model(batch)[0].item() == model(batch)[0].item()
    model.train()
    losses = {round(model(batch)[0].item(), 6) for _ in range(5)}
    assert len(losses) > 1  # a different jitter each step
    model.jitter = 0.0
    assert len({round(model(batch)[0].item(), 6) for _ in range(3)}) == 1
    model.jitter = 0.5
    model.zero_grad(set_to_none=True)
    model(batch)[0].backward()
    assert model.encoder[0][0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"jitter must be in \[0, 1\]: got 1.5"):
        VQVAE(input_dim=5, num_speakers=2, jitter=1.5)


def test_gradient_reversal_negates_and_scales_the_gradient():
    x = torch.randn(3, 4, requires_grad=True)
    upstream = torch.randn(3, 4)
    y = reverse_gradient(x, 0.5)
    assert torch.equal(y, x)
    (y * upstream).sum().backward()
    assert torch.equal(x.grad, -0.5 * upstream)


def test_speaker_adversary_trains_the_classifier_and_reverses_into_the_encoder_only():
    """With weight w, the full loss's gradient is that of Eq. (3) plus w * dCE for the classifier,
    minus w * dCE for the encoder, and nothing of the CE for the decoder and the codebook."""
    torch.manual_seed(0)
    w = 0.3
    model = VQVAE(input_dim=6, num_speakers=3, stride=2, num_codes=16, code_dim=8, speaker_dim=4, channels=16,
                  speaker_adversary=w)
    batch = {"feats": torch.randn(2, 10, 6), "feat_lengths": torch.tensor([10, 7]), "spk_ids": torch.tensor([0, 2])}

    def grads(loss):
        model.zero_grad(set_to_none=True)
        loss.backward()
        return {n: p.grad.clone() if p.grad is not None else torch.zeros_like(p) for n, p in model.named_parameters()}

    loss, stats = model(batch)
    assert set(stats) >= {"speaker_ce", "speaker_acc"} and 0 <= stats["speaker_acc"] <= 1
    total = grads(loss)
    model.speaker_adversary = 0.0
    plain = grads(model(batch)[0])  # Eq. (3) alone (BatchNorm in training mode: the same batch statistics)
    z = model.encoder_output(batch["feats"])
    logits = model.speaker_classifier(z)  # no reversal: the CE's own gradient
    ce = torch.nn.functional.cross_entropy(torch.cat([logits[0, :5], logits[1, :4]]), torch.tensor([0] * 5 + [2] * 4))
    assert ce.item() == pytest.approx(stats["speaker_ce"], rel=1e-5)
    direct = grads(ce)
    for name in total:
        sign = {"encoder": -1.0, "speaker_classifier": 1.0}.get(name.split(".")[0], 0.0)
        torch.testing.assert_close(total[name], plain[name] + sign * w * direct[name], atol=1e-6, rtol=1e-5)
    assert direct["encoder.0.0.weight"].abs().sum() > 0 and direct["speaker_classifier.0.weight"].abs().sum() > 0
    with pytest.raises(ValueError, match="speaker_adversary must be >= 0: got -1"):
        VQVAE(input_dim=5, num_speakers=2, speaker_adversary=-1)
    assert VQVAE(input_dim=5, num_speakers=2).speaker_classifier is None  # the paper's model: no adversary
