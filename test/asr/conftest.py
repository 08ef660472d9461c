"""Tiny ASR models and batches shared by the ASR tests."""
import pytest
import torch

from chain.asr.seq2seq import Seq2SeqASR

VOCAB = 10  # 0 <pad>, 1 <unk>, 2 <s>, 3 </s>, then 6 symbols


def build_tiny_asr(attention="mlp", **kw):
    torch.manual_seed(0)
    options = dict(vocab_size=VOCAB, idim=8, enc_proj=32, enc_hidden=32, enc_layers=2,
                   subsample=[2, 2], dec_embed=16, dec_hidden=32, attn_dim=32,
                   attention=attention)
    options.update(kw)
    return Seq2SeqASR(**options)


def build_tiny_batch(seed=1):
    """4 utterances of random features (32..20 frames, 8..5 encoder frames), 6..3 tokens."""
    generator = torch.Generator().manual_seed(seed)
    feat_lengths = torch.tensor([32, 28, 24, 20])
    token_lengths = torch.tensor([6, 5, 4, 3])
    tokens = torch.randint(4, VOCAB, (4, 6), generator=generator)
    tokens = tokens * (torch.arange(6)[None, :] < token_lengths[:, None])  # pad id 0
    return dict(feats=torch.randn(4, 32, 8, generator=generator), feat_lengths=feat_lengths,
                tokens=tokens, token_lengths=token_lengths, utt_ids=["a", "b", "c", "d"])


@pytest.fixture
def make_asr():
    return build_tiny_asr


@pytest.fixture
def batch():
    return build_tiny_batch()


@pytest.fixture(scope="module", params=["mlp", "mlp_ma"])
def trained_asr(request):
    """A tiny ASR trained 25 steps on the tiny batch: hypotheses of varied lengths, some
    ending in </s>, in eval mode."""
    torch.set_num_threads(1)
    model = build_tiny_asr(request.param)
    data = build_tiny_batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(25):
        loss, _ = model(data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
