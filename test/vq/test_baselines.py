import numpy as np
import pytest

from chain.vq import baselines


def test_pool_frames():
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_allclose(baselines.pool_frames(x, 2), [[1, 2], [5, 6], [8, 9]])
    assert baselines.pool_frames(x, 1) is x


def test_kmeans_and_gmm_units(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    frames = np.concatenate([c + rng.normal(size=(200, 2)) for c in centres])
    km = baselines.fit("kmeans", frames, 3)
    units = baselines.encode(km, centres + 0.5)
    np.testing.assert_allclose(np.sort(units[:, 0] + units[:, 1]), np.sort(centres.sum(1)), atol=0.5)
    assert len({tuple(u) for u in units}) == 3  # each true centre gets its own centroid
    baselines.save(tmp_path / "gmm.npz", baselines.fit("gmm", frames, 3))
    post = baselines.encode(baselines.load(tmp_path / "gmm.npz"), centres)
    assert post.shape == (3, 3)
    np.testing.assert_allclose(post.sum(1), 1.0, rtol=1e-5)
    assert sorted(post.argmax(1)) == [0, 1, 2] and post.max(1).min() > 0.99


def test_mfcc_frames_match_the_fbank():
    from chain.feats.fbank import Fbank, FbankConfig

    x = np.random.default_rng(0).normal(size=16000 + 37).astype(np.float32) * 0.1
    m = baselines.mfcc(x, 16000)
    cfg = FbankConfig(win_length_ms=25.0, hop_length_ms=10.0, n_fft=512)
    assert m.shape == (Fbank(cfg).num_frames(len(x)), 39)
    with pytest.raises(ValueError, match="kmeans and gmm"):
        baselines.fit("mfcc", m, 4)
