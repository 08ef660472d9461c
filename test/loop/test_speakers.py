"""Multi-speaker chain (Fig. 8): z = SPKEMB(x) in the paired and speech-only steps, a reference
from the paired and speech-only data in the text-only step, the speaker encoder frozen."""
import kaldiio
import numpy as np
import pytest
import torch

from chain.data.dataset import SpeechTextDataset
from chain.loop.speakers import SpeakerPool
from chain.loop.steps import ChainOptions, text_only_step
from chain.loop.trainer import ModelOptions, ModelSlot, chain_forward_backward
from chain.spk.encoder import SpeakerEncoder
from fixtures.chain_models import MEL, speech_batch, text_batch, tiny_asr, tiny_tts

Z = 4


def speaker_tts():
    torch.manual_seed(2)
    encoder = SpeakerEncoder(in_dim=MEL, num_speakers=2, conv_channels=(8,), conv_kernel=3, rnn_layers=0,
                             embed_dim=Z)
    return tiny_tts(spk_dim=Z).attach_speaker_encoder(encoder)


def dump_dir(path, utts, seed):
    """A feature dump dir of ``utts`` (random log-mel, two speakers)."""
    path.mkdir()
    rng = np.random.default_rng(seed)
    with kaldiio.WriteHelper(f"ark,scp:{path}/feats.ark,{path}/feats.scp") as writer:
        for utt in utts:
            writer(utt, rng.standard_normal((12, MEL)).astype(np.float32))
    (path / "utt2spk").write_text("".join(f"{u} {u[:4]}\n" for u in utts))
    return path


def test_text_only_references_come_from_paired_and_speech_only_data(tmp_path):
    paired = dump_dir(tmp_path / "paired", ["spkA_1", "spkA_2", "spkB_1"], 0)
    speech = dump_dir(tmp_path / "speech", ["spkC_1", "spkD_1"], 1)
    tts = speaker_tts()
    pool = SpeakerPool.from_datasets(tts.speaker_encoder, [SpeechTextDataset.from_dirs(dump_dir=d, data_dir=None)
                                                           for d in (paired, speech)], batch_size=2)
    assert sorted(pool.utts) == ["spkA_1", "spkA_2", "spkB_1", "spkC_1", "spkD_1"]
    assert torch.allclose(pool.vectors.norm(dim=-1), torch.ones(5), atol=1e-5)
    torch.manual_seed(0)
    drawn = {u for _ in range(40) for u in pool.sample(3)[0]}
    assert drawn == set(pool.utts)

    seen = []
    generate = tts.generate

    def recording(tokens, lengths, spk_vecs=None, **kw):
        seen.append(spk_vecs)
        return generate(tokens, lengths, spk_vecs, **kw)

    tts.generate = recording
    loss, _ = text_only_step(tiny_asr(), tts, text_batch(), ChainOptions(max_frames_per_token=3.0), pool)
    assert loss is not None and seen[0].shape == (2, Z)
    assert all((row == pool.vectors).all(dim=1).any() for row in seen[0])
    with pytest.raises(ValueError, match="SpeakerPool"):
        text_only_step(tiny_asr(), tts, text_batch(), ChainOptions())


@pytest.mark.parametrize("opts", [dict(), dict(alpha=0.5, beta=2.0, asr_decode="beam", beam=2),
                                  dict(st="argmax"), dict(st="gumbel", st_source="teacher_forced", tau=0.5)])
def test_speaker_aware_update_trains_asr_and_tts_not_the_encoder(fitted, opts):
    asr, _ = fitted
    tts = speaker_tts().train()
    pool = SpeakerPool(["r1", "r2"], torch.nn.functional.normalize(torch.randn(2, Z), dim=-1))
    slots = {name: ModelSlot(name, module, ModelOptions(), 1) for name, module in (("asr", asr), ("tts", tts))}
    group = {"paired": [speech_batch()], "speech": [speech_batch(seed=3, with_text=False)], "text": [text_batch()]}
    torch.manual_seed(0)
    loss, stats, norms = chain_forward_backward(slots, group, ChainOptions(max_frames_per_token=3.0, **opts), 1.0,
                                                speakers=pool)
    assert torch.isfinite(loss) and stats["tts_p"] > 0 and "asr_u" in stats and "tts_u" in stats
    assert norms["asr"] > 0 and norms["tts"] > 0
    assert tts.spk_in.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in tts.speaker_encoder.parameters())
