import pytest
import torch

from chain.nets.masks import make_non_pad_mask, make_pad_mask, reverse_padded, subsample_lengths


def test_make_pad_mask_marks_padding():
    mask = make_pad_mask(torch.tensor([3, 1, 2]))
    expected = torch.tensor([[False, False, False], [False, True, True], [False, False, True]])
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


def test_make_pad_mask_max_len_extends_and_checks():
    mask = make_pad_mask(torch.tensor([2, 1]), max_len=4)
    assert mask.shape == (2, 4)
    assert mask[0].tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match="max_len=1 is shorter"):
        make_pad_mask(torch.tensor([2, 1]), max_len=1)
    with pytest.raises(ValueError, match="1-D"):
        make_pad_mask(torch.tensor([[2, 1]]))


def test_make_non_pad_mask_is_complement():
    lengths = torch.tensor([4, 2, 3])
    assert torch.equal(make_non_pad_mask(lengths, 5), ~make_pad_mask(lengths, 5))


def test_reverse_padded_reverses_within_length_and_keeps_padding():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])[:, :, None].float()  # (B, T, 1)
    y = reverse_padded(x, torch.tensor([3, 2]))
    assert y[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]
    assert torch.equal(reverse_padded(y, torch.tensor([3, 2])), x)


def test_reverse_padded_works_on_2d_input():
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert reverse_padded(x, torch.tensor([2, 3])).tolist() == [[2, 1, 3], [6, 5, 4]]


def test_subsample_lengths_is_ceil():
    assert subsample_lengths(torch.tensor([1, 2, 3, 8, 9]), 2).tolist() == [1, 1, 2, 4, 5]
