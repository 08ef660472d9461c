import kaldiio
import numpy as np
import pytest
import torch

from chain.data.datadir import DataError
from chain.feats.cmvn import (CmvnAccumulator, accumulate_cmvn, apply_cmvn, cmvn_mean_std,
                              cmvn_stats_from_scp, invert_cmvn, load_cmvn, save_cmvn)


def mats(seed=0, dim=5):
    rng = np.random.default_rng(seed)
    scale = np.arange(1, dim + 1)
    return [(rng.standard_normal((n, dim)) * scale + 3.0).astype(np.float32) for n in (7, 13, 1, 20)]


def test_stats_are_kaldi_format_and_match_numpy():
    xs = mats()
    stats = accumulate_cmvn(xs)
    allx = np.concatenate(xs).astype(np.float64)
    assert stats.shape == (2, 6) and stats.dtype == np.float64
    assert stats[0, -1] == 41 and stats[1, -1] == 0
    np.testing.assert_allclose(stats[0, :-1], allx.sum(0))
    np.testing.assert_allclose(stats[1, :-1], (allx ** 2).sum(0))
    mean, std = cmvn_mean_std(stats)
    np.testing.assert_allclose(mean, allx.mean(0), rtol=1e-10)
    np.testing.assert_allclose(std ** 2, allx.var(0), rtol=1e-8)
    normed = apply_cmvn(allx.astype(np.float32), stats)
    np.testing.assert_allclose(normed.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(normed.std(0), 1, atol=1e-5)


def test_accumulator_rejects_dim_mismatch():
    acc = CmvnAccumulator()
    acc.add(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="utt2: 5 dims, but earlier matrices had 4"):
        acc.add(np.zeros((3, 5)), key="utt2")
    with pytest.raises(ValueError, match="no frames"):
        accumulate_cmvn([])


def test_save_load_round_trip_is_a_kaldi_matrix(tmp_path):
    stats = accumulate_cmvn(mats())
    path = tmp_path / "data" / "cmvn.ark"
    save_cmvn(path, stats)
    np.testing.assert_array_equal(load_cmvn(path), stats)
    np.testing.assert_array_equal(kaldiio.load_mat(str(path)), stats)
    assert path.read_bytes()[:5] == b"\0BDM "  # binary double matrix, no key
    assert [p.name for p in path.parent.iterdir()] == ["cmvn.ark"]  # no temp file left


def test_load_rejects_bad_stats(tmp_path):
    path = tmp_path / "cmvn.ark"
    kaldiio.save_mat(str(path), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"must be a \(2, D\+1\) matrix, got shape \(3, 4\)"):
        load_cmvn(path)
    with pytest.raises(FileNotFoundError, match="no such CMVN stats file"):
        load_cmvn(tmp_path / "nope.ark")


def test_apply_invert_round_trip_numpy_and_torch():
    xs = mats()
    stats = accumulate_cmvn(xs)
    x = xs[1]
    for norm_vars in (True, False):
        y = apply_cmvn(x, stats, norm_vars=norm_vars)
        assert y.dtype == np.float32
        np.testing.assert_allclose(invert_cmvn(y, stats, norm_vars=norm_vars), x, atol=1e-5)
    xt = torch.from_numpy(np.stack([x, x]))  # (B, T, D)
    yt = apply_cmvn(xt, stats)
    assert isinstance(yt, torch.Tensor) and yt.dtype == torch.float32
    np.testing.assert_allclose(yt[0].numpy(), apply_cmvn(x, stats), atol=1e-6)
    np.testing.assert_allclose(invert_cmvn(yt, torch.from_numpy(stats)).numpy()[1], x, atol=1e-5)
    assert invert_cmvn(yt.double(), stats).dtype == torch.float64


def test_variance_floor_for_a_constant_dimension():
    x = np.ones((10, 2), np.float32)
    x[:, 1] = np.arange(10)
    y = apply_cmvn(x, accumulate_cmvn([x]))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[:, 0], 0)
    np.testing.assert_allclose(invert_cmvn(y, accumulate_cmvn([x])), x, atol=1e-5)


def test_apply_rejects_wrong_dims():
    with pytest.raises(ValueError, match="features have 3 dims, CMVN stats 5"):
        apply_cmvn(np.zeros((2, 3)), accumulate_cmvn(mats()))


def test_stats_from_scp(tmp_path):
    xs = mats()
    scp = tmp_path / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'feats.ark'},{scp}") as writer:
        for i, x in enumerate(xs):
            writer(f"utt{i}", x)
    stats, n_utts = cmvn_stats_from_scp(scp)
    assert n_utts == 4
    np.testing.assert_allclose(stats, accumulate_cmvn(xs))
    scp.write_text(scp.read_text() + f"utt9 {tmp_path / 'gone.ark'}:5\n")
    with pytest.raises(DataError, match=f"{scp}:5: 'utt9'"):
        cmvn_stats_from_scp(scp)
