"""Speaker encoder (chain.spk.encoder): unit-norm embeddings, masks, losses, training."""
import pytest
import torch

from chain.spk.encoder import SpeakerEncoder, triplet_loss

D = 8


def encoder(**kw):
    torch.manual_seed(0)
    opts = dict(in_dim=D, num_speakers=2, conv_channels=(16,), conv_kernel=3, rnn_dim=8, embed_dim=8)
    return SpeakerEncoder(**{**opts, **kw})


def two_speakers(n=8, seed=0):
    """n utterances each of two toy speakers: frames around opposite mean vectors."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(10, 25, (2 * n,), generator=g)
    feats = torch.randn(2 * n, 25, D, generator=g)
    speakers = torch.arange(2).repeat_interleave(n)
    feats = feats + 1.5 * (2 * speakers[:, None, None] - 1).float()
    return dict(feats=feats, feat_lengths=lengths, speakers=speakers)


@pytest.mark.parametrize("rnn_layers", [0, 1])
def test_embedding_is_unit_norm_and_ignores_padding(rnn_layers):
    model = encoder(rnn_layers=rnn_layers).eval()
    batch = two_speakers(2)
    z = model.embed(batch["feats"], batch["feat_lengths"])
    assert z.shape == (4, 8)
    assert torch.allclose(z.norm(dim=-1), torch.ones(4), atol=1e-5)
    alone = model.embed(batch["feats"][:1, :batch["feat_lengths"][0]], batch["feat_lengths"][:1])
    assert torch.allclose(alone, z[:1], atol=1e-5)
    noisy = batch["feats"].clone()
    noisy[0, batch["feat_lengths"][0]:] = 100.0  # padding must not matter
    assert torch.allclose(model.embed(noisy, batch["feat_lengths"])[0], z[0], atol=1e-5)


@pytest.mark.parametrize("weights", [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
def test_training_separates_two_toy_speakers(weights):
    model = encoder(nll_weight=weights[0], triplet_weight=weights[1])
    batch = two_speakers()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        loss, stats = model(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert ("nll" in stats) == (weights[0] > 0) and ("triplet" in stats) == (weights[1] > 0)
    test = two_speakers(seed=1)
    with torch.no_grad():
        z = model.eval().embed(test["feats"], test["feat_lengths"])
    cos = z @ z.t()
    same = test["speakers"][:, None] == test["speakers"][None, :]
    assert cos[same].min() > cos[~same].max()


def test_triplet_loss_is_zero_on_a_separable_triple_and_positive_otherwise():
    a, p, n = torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.1]), torch.tensor([-1.0, 0.0])
    speakers = torch.tensor([0, 0, 1])
    z = torch.nn.functional.normalize(torch.stack([a, p, n]), dim=-1)
    loss, count = triplet_loss(z, speakers, margin=0.2)
    assert count == 2 and loss.item() == 0.0  # anchors a and p, negative n
    swapped = torch.nn.functional.normalize(torch.stack([a, n, p]), dim=-1)  # positive far, negative near
    loss, count = triplet_loss(swapped, speakers, margin=0.2)
    assert count == 2 and loss.item() > 0
    loss, count = triplet_loss(z, torch.tensor([0, 1, 2]), margin=0.2)  # no positive pair
    assert count == 0 and loss.item() == 0.0


def test_unknown_speakers_only_in_the_triplet_loss():
    model = encoder()
    batch = two_speakers(2)
    batch["speakers"] = torch.tensor([0, 0, 5, 5])  # 5: outside the 2 training speakers
    loss, stats = model(batch)
    assert torch.isfinite(loss) and stats["triplets"] == 8.0
    model.zero_grad()
    loss.backward()
    assert model.classifier.weight.grad[1].abs().sum() > 0  # class 1 gets the softmax gradient


@pytest.mark.parametrize("bad", [dict(nll_weight=0.0, triplet_weight=0.0), dict(conv_kernel=4),
                                 dict(triplet_weight=-1.0)])
def test_bad_options_raise(bad):
    with pytest.raises(ValueError):
        encoder(**bad)
