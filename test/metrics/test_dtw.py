import numpy as np
import pytest

from chain.metrics.dtw import cosine_distance, dtw_batch, dtw_pairs, dtw_reference, frame_distance, kl_distance


def test_dtw_hand_values():
    assert dtw_reference(np.array([[1.0, 2.0, 3.0]])) == pytest.approx(2.0)  # 6 over 3 cells
    assert dtw_reference(np.array([[0.0, 1.0], [1.0, 0.0]])) == 0.0          # the diagonal
    # (0,0) (1,1) (2,2) and (0,0) (1,0) (1,1) (2,2) both cost 2: the tie at (1,1) takes the
    # diagonal, so the path has 3 cells (2 / 4 with the other)
    d = np.array([[1.0, 5.0, 5.0], [0.0, 0.0, 5.0], [5.0, 5.0, 1.0]])
    assert dtw_reference(d) == pytest.approx(2 / 3)
    assert dtw_batch(d[None], np.array([3]), np.array([3]))[0] == pytest.approx(2 / 3)
    # the cheapest path (0,0) (1,0) (2,1) (2,2) costs 4 over 4 cells (the diagonal 7 over 3)
    d = np.array([[1.0, 5.0, 5.0], [1.0, 5.0, 5.0], [5.0, 1.0, 1.0]])
    assert dtw_reference(d) == pytest.approx(1.0)


def test_dtw_batch_matches_plain_dp_on_padded_pairs():
    rng = np.random.default_rng(0)
    sizes = [(1, 1), (1, 6), (7, 1), (5, 9), (12, 4), (10, 10)]
    pad = np.full((len(sizes), 12, 12), 7.0)
    for k, (n, m) in enumerate(sizes):
        pad[k, :n, :m] = rng.random((n, m)).round(1)  # rounding makes ties frequent
    got = dtw_batch(pad, np.array([n for n, _ in sizes]), np.array([m for _, m in sizes]))
    want = [dtw_reference(pad[k, :n, :m]) for k, (n, m) in enumerate(sizes)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("distance", ["cosine", "kl"])
def test_dtw_pairs_against_reference(distance):
    rng = np.random.default_rng(1)
    items = [rng.random((n, 5)) + 0.01 for n in (3, 8, 1, 6)]
    pairs = np.array([[0, 1], [1, 0], [2, 3], [3, 3], [0, 2]])
    got = dtw_pairs(items, pairs, distance, chunk=2)
    fn = frame_distance(distance)
    want = [dtw_reference(fn(items[a], items[b])) for a, b in pairs]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert got[3] == pytest.approx(0.0, abs=1e-6)  # an item against itself


def test_frame_distances():
    x = np.array([[1.0, 0.0], [0.0, 0.0]])
    y = np.array([[0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(cosine_distance(x, y), [[0.5, 1.0, 1.0], [1.0, 1.0, 0.0]])
    p = np.array([[0.5, 0.5]])
    q = np.array([[0.9, 0.1]])
    kl_pq = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    kl_qp = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert kl_distance(p, q)[0, 0] == pytest.approx((kl_pq + kl_qp) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="cosine, kl"):
        frame_distance("euclid")
