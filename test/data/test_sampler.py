import numpy as np
import pytest

from chain.data.sampler import BucketBatchSampler, make_batches

RNG = np.random.default_rng(0)
LENGTHS = RNG.integers(5, 200, size=97).tolist()


@pytest.mark.parametrize("limits", [
    {"batch_bins": 4000, "dim": 10},
    {"batch_size": 7},
    {"batch_size": 7, "max_frames": 500},
    {"max_frames": 300},
])
def test_batches_respect_the_budget_and_cover_everything_once(limits):
    dim = limits.get("dim", 1)
    batches, oversized = make_batches(LENGTHS, **limits)
    assert oversized == 0
    assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
    for b in batches:
        padded = len(b) * max(LENGTHS[i] for i in b)
        if "batch_bins" in limits:
            assert padded * dim <= limits["batch_bins"]
        if "max_frames" in limits:
            assert padded <= limits["max_frames"]
        if "batch_size" in limits:
            assert len(b) <= limits["batch_size"]


def test_batches_are_length_buckets():
    batches, _ = make_batches(LENGTHS, batch_size=10)
    spans = [max(LENGTHS[i] for i in b) - min(LENGTHS[i] for i in b) for b in batches]
    # sorted input: a batch spans a small part of the length range
    assert max(spans) < (max(LENGTHS) - min(LENGTHS)) / 3
    assert sum(len(b) == 10 for b in batches) == len(LENGTHS) // 10


def test_oversized_utterance_gets_its_own_batch():
    batches, oversized = make_batches([10, 500, 20], max_frames=100)
    assert oversized == 1
    assert [1] in batches


def test_no_limit_raises():
    with pytest.raises(ValueError, match="batch_size, max_frames or batch_bins"):
        make_batches([1, 2, 3])


def test_epoch_order_is_reproducible_and_covers_every_utterance():
    sampler = BucketBatchSampler(LENGTHS, batch_size=5, seed=3)
    orders = {}
    for epoch in (1, 2, 1):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
        orders.setdefault(epoch, batches)
        assert orders[epoch] == batches  # same (seed, epoch) -> same order
    assert orders[1] != orders[2]
    other = BucketBatchSampler(LENGTHS, batch_size=5, seed=4)
    other.set_epoch(1)
    assert list(other) != orders[1]


def test_no_shuffle_keeps_sorted_order():
    sampler = BucketBatchSampler(LENGTHS, batch_size=5, shuffle=False)
    firsts = [LENGTHS[b[0]] for b in sampler]
    assert firsts == sorted(firsts, reverse=True)


@pytest.mark.parametrize("n_utts", [40, 43])
def test_rank_split_is_disjoint_and_even(n_utts):
    lengths = LENGTHS[:n_utts]
    world = 4
    per_rank = []
    for rank in range(world):
        sampler = BucketBatchSampler(lengths, batch_size=2, seed=1, rank=rank, world_size=world)
        sampler.set_epoch(5)
        per_rank.append(list(sampler))
        assert len(per_rank[-1]) == len(sampler)
    assert len({len(b) for b in per_rank}) == 1  # every rank: the same number of batches
    seen = [tuple(b) for batches in per_rank for b in batches]
    assert {i for b in seen for i in b} == set(range(n_utts))
    if n_utts % (2 * world) == 0:
        assert len(set(seen)) == len(seen)  # divisible: no batch on two ranks
    else:
        assert len(seen) - len(set(seen)) < world  # padding repeats fewer than world_size


def test_bad_rank_raises():
    with pytest.raises(ValueError, match="rank"):
        BucketBatchSampler(LENGTHS, batch_size=4, rank=2, world_size=2)
