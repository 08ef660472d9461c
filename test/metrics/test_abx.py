import math

import numpy as np
import pytest

from chain.metrics.abx import Item, abx, abx_from_features, frame_times, make_cells


def _unit(deg):
    return np.array([[math.cos(math.radians(deg)), math.sin(math.radians(deg))]])


def toy():
    """One context, phones x/y; s1 and s2 speak both, s3 only x. One frame per item."""
    spec = [("x", "s1", _unit(0)), ("y", "s1", _unit(90)), ("x", "s2", _unit(30)),
            ("y", "s2", np.array([[1.0, 1.0]])),  # at 45 degrees from s1's x and s1's y: a tie
            ("x", "s3", _unit(80))]
    items = [Item(f"f{k}", 0.0, 0.1, phone, "a_b", spk) for k, (phone, spk, _) in enumerate(spec)]
    return items, [v for *_, v in spec]


def test_abx_toy_equals_hand_value():
    items, feats = toy()
    # cells (A/B speaker, X speaker, phone A, phone B): score
    #   s1 s2 x y: d(0,30) < d(90,30): 1        s1 s2 y x: d(90,45) = d(0,45): tie 0.5
    #   s2 s1 x y: d(30,0) < d(45,0): 1         s2 s1 y x: d(45,90) < d(30,90): 1
    #   s1 s3 x y: d(0,80) > d(90,80): 0        s2 s3 x y: d(30,80) > d(45,80): 0
    # phone pair x,y: mean(1, 1, 0, 0) = 0.5; y,x: mean(0.5, 1) = 0.75; error (1 - 0.625) x 100
    result = abx(items, feats, "cosine")
    assert result.error == pytest.approx(37.5)
    assert result.triplets == 6 and result.cells == 6 and result.phone_pairs == 2
    assert result.by_phone_pair[("y", "x")] == pytest.approx(25.0)


def test_cells_are_across_speaker_only():
    items, _ = toy()
    for (context, spk, spk_x, p1, p2), a, b, x in make_cells(items):
        assert {items[k].speaker for k in np.r_[a, b]} == {spk}
        assert {items[k].speaker for k in x} == {spk_x} and spk_x != spk
        assert {items[k].phone for k in np.r_[a, x]} == {p1} and {items[k].phone for k in b} == {p2}
    one_speaker = [it._replace(speaker="s1") for it in items]  # within-speaker triplets only
    with pytest.raises(ValueError, match="no ABX triplet"):
        abx(one_speaker, toy()[1])


def test_abx_averages_contexts_before_speakers():
    items, feats = toy()
    # a second context where only s1/s2 x,y exist, all four cells right: (s1,s2,x,y) and the
    # others average 1 over contexts first, so the error must drop from 37.5 by a known amount
    extra = [Item(f"g{k}", 0.0, 0.1, p, "c_d", s) for k, (p, s) in
             enumerate([("x", "s1"), ("y", "s1"), ("x", "s2"), ("y", "s2")])]
    extra_feats = [_unit(0), _unit(90), _unit(10), _unit(80)]
    result = abx(items + extra, feats + extra_feats)
    # x,y: (s1,s2) mean(1,1)=1, (s2,s1) 1, (s1,s3) 0, (s2,s3) 0 -> 0.5
    # y,x: (s1,s2) mean(0.5, 1) = 0.75, (s2,s1) mean(1, 1) = 1 -> 0.875
    assert result.error == pytest.approx((1 - (0.5 + 0.875) / 2) * 100)


def test_abx_from_features_cuts_items_by_time():
    times = frame_times(6, 0.01, stride=2)
    np.testing.assert_allclose(times, [0.005, 0.025, 0.045, 0.065, 0.085, 0.105])
    items, feats = toy()
    # whole files: the item's frames in the middle, other frames far off
    files = {it.file: np.concatenate([np.full((3, 2), 9.0), f.repeat(2, 0), np.full((3, 2), -9.0)])
             for it, f in zip(items, feats)}
    timed = [it._replace(onset=0.03, offset=0.045) for it in items]
    assert abx_from_features(timed, files, frame_shift=0.01).error == pytest.approx(37.5)
    with pytest.raises(ValueError, match="no features for 1 files"):
        abx_from_features(timed, {k: v for k, v in files.items() if k != "f0"}, frame_shift=0.01)
