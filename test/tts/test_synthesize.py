"""Batched synthesis: batch composition does not change outputs, de-normalisation, data dir output."""
import copy

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch

from chain.feats.cmvn import accumulate_cmvn, invert_cmvn
from chain.feats.fbank import FbankConfig
from chain.tts import Tacotron
from chain.tts.synthesize import synthesize, synthesize_set

torch.set_num_threads(1)

MEL, LIN = 6, 9
TEXTS = {"a-1": "abc ab", "a-2": "b", "a-3": "cab"}


class Chars:
    pad_id = 0

    def encode(self, text):
        return [4 if c == " " else 5 + ord(c) - ord("a") for c in text]


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = Tacotron(vocab_size=10, embed_dim=8, encoder_fc_dims=(8, 8), encoder_bank_size=2,
                     encoder_channels=8, encoder_highway_layers=1, encoder_rnn_dim=4, mel_dim=MEL,
                     linear_dim=LIN, reduction_factor=2, prenet_dims=(8, 8), decoder_dim=8,
                     attention_dim=8, attention_conf=dict(kernel_sizes=(3,), channels=2),
                     output_hidden_dim=8, postnet_bank_size=2, postnet_channels=8, postnet_proj_dim=8,
                     postnet_highway_layers=1, postnet_rnn_dim=4).eval()
    rng = np.random.default_rng(0)
    mel_stats = accumulate_cmvn([rng.normal(-3, 2, (50, MEL))])
    linear_stats = accumulate_cmvn([rng.normal(-5, 3, (50, LIN))])
    return model, mel_stats, linear_stats


def run(setup, **kw):
    model, mel_stats, linear_stats = setup
    return {s.utt: s for s in synthesize(model, TEXTS, Chars(), mel_stats=mel_stats,
                                         linear_stats=linear_stats, **kw)}


def test_batches_match_single_utterances_and_are_denormalised(setup):
    model, mel_stats, linear_stats = setup
    together, alone = run(setup, batch_size=3), run(setup, batch_size=1)
    assert list(together) == ["a-1", "a-3", "a-2"]  # longest text first
    for utt in TEXTS:
        assert together[utt].mel.shape == alone[utt].mel.shape and together[utt].mel.shape[1] == MEL
        np.testing.assert_allclose(together[utt].mel, alone[utt].mel, atol=1e-5)
        np.testing.assert_allclose(together[utt].linear, alone[utt].linear, atol=1e-5)
    tokens = torch.tensor([Chars().encode(TEXTS["a-3"])])
    out = model.generate(tokens, torch.tensor([3]))
    np.testing.assert_allclose(alone["a-3"].mel, invert_cmvn(out["mel"][0], mel_stats).numpy(), atol=1e-5)
    np.testing.assert_allclose(alone["a-3"].linear, invert_cmvn(out["linear"][0], linear_stats).numpy(),
                               atol=1e-4)


def test_length_cap(setup):
    capped = run(setup, batch_size=2, max_frames_per_token=1.0)
    assert capped["a-1"].mel.shape[0] <= 6 and capped["a-2"].mel.shape[0] <= 2
    assert all(s.mel.shape[0] == max(2, len(TEXTS[u])) for u, s in capped.items() if s.hit_cap)
    assert all(s.mel.shape[0] <= max(2, len(TEXTS[u])) for u, s in capped.items())


def test_synthesize_set_without_wavs(setup, tmp_path):
    model, mel_stats, linear_stats = setup
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    (data / "text").write_text("".join(f"{u} {t}\n" for u, t in TEXTS.items()))
    (out / "wav.scp").write_text("a-1 old.wav\n")  # stale: must go
    summary = synthesize_set(model, Chars(), data_dir=data, out_dir=out, mel_stats=mel_stats,
                             linear_stats=linear_stats, batch_size=2)
    feats = dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert list(feats) == sorted(TEXTS) and summary.utts == 3
    assert summary.frames == sum(m.shape[0] for m in feats.values())
    assert not (out / "wav.scp").exists() and not (out / "utt2spk").exists()
    assert (out / "hit_cap").read_text().split() == summary.hit_cap
    assert not list(out.glob(".*"))  # no temp files left


def test_a_tts_that_stops_at_its_first_frame_gives_one_frame_and_an_empty_wav(setup, tmp_path):
    model, mel_stats, linear_stats = setup
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.stop_out.bias.fill_(30.0)  # stop probability ~1 on every frame
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    (data / "text").write_text("".join(f"{u} {t}\n" for u, t in TEXTS.items()))
    fbank = FbankConfig(fs=16000, win_length_ms=1.0, hop_length_ms=0.5, n_fft=2 * (LIN - 1), n_mels=MEL)
    summary = synthesize_set(model, Chars(), data_dir=data, out_dir=out, mel_stats=mel_stats,
                             linear_stats=linear_stats, fbank_cfg=fbank, griffin_lim_iters=2)
    assert summary.frames == 3 and not summary.hit_cap
    assert all(m.shape == (1, MEL) for _, m in kaldiio.load_scp(str(out / "feats.scp")).items())
    wavs = dict(line.split() for line in (out / "wav.scp").read_text().splitlines())
    assert sorted(wavs) == sorted(TEXTS) and all(sf.info(p).frames == 0 for p in wavs.values())
