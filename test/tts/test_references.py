"""One-shot references of a multi-speaker TTS (chain.tts.references)."""
import kaldiio
import numpy as np
import pytest
import torch

from chain.spk.encoder import SpeakerEncoder
from chain.tts.references import default_references, one_shot_similarity
from fixtures.chain_models import MEL, tiny_tts


def test_default_reference_is_another_utterance_of_the_speaker(tmp_path):
    (tmp_path / "feats.scp").write_text("a1 x:1\na2 x:2\na3 x:3\nb1 x:4\n")
    (tmp_path / "utt2spk").write_text("a1 a\na2 a\na3 a\nb1 b\n")
    assert default_references(tmp_path, ["a2", "a1", "b1"]) == {"a2": "a1", "a1": "a2", "b1": "b1"}
    with pytest.raises(ValueError, match="'c1'"):
        default_references(tmp_path, ["c1"])


def write_feats(path, mats):
    path.mkdir()
    with kaldiio.WriteHelper(f"ark,scp:{path}/feats.ark,{path}/feats.scp") as writer:
        for utt, mat in mats.items():
            writer(utt, mat.astype(np.float32))


def test_one_shot_similarity_is_one_for_the_reference_itself(tmp_path):
    torch.manual_seed(0)
    encoder = SpeakerEncoder(in_dim=MEL, num_speakers=2, conv_channels=(8,), conv_kernel=3, rnn_layers=0,
                             embed_dim=4)
    model = tiny_tts(spk_dim=4).attach_speaker_encoder(encoder)
    rng = np.random.default_rng(0)
    mats = {u: rng.standard_normal((10, MEL)) + k for k, u in enumerate(["u1", "u2"])}
    write_feats(tmp_path / "data", mats)
    write_feats(tmp_path / "synth", mats)
    stats = np.zeros((2, MEL + 1))
    stats[0, -1], stats[1, :-1], stats[1, -1] = 1.0, 1.0, 1.0  # mean 0, variance 1: no change
    (tmp_path / "synth" / "ref").write_text("u1 u1\nu2 u2\n")
    similarity, n = one_shot_similarity(model, tmp_path / "synth", tmp_path / "data", mel_stats=stats)
    assert n == 2 and similarity == pytest.approx(1.0, abs=1e-5)
    (tmp_path / "synth" / "ref").write_text("u1 u2\nu2 u1\n")
    crossed, _ = one_shot_similarity(model, tmp_path / "synth", tmp_path / "data", mel_stats=stats)
    assert crossed < 0.999
