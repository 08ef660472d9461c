"""KernelChoice and set_kernels: hand-written kernels on CPU by default, native ops on request."""
import pytest
import torch

from chain.nets.attention import build_attention
from chain.nets.cbhg import CBHG
from chain.nets.kernels import KERNELS, set_kernels


def test_auto_picks_hand_written_kernels_on_cpu_only():
    attn = build_attention("mlp", query_dim=3, memory_dim=4, attn_dim=5)
    assert attn.kernels == "auto"
    assert attn.hand_kernels(torch.zeros(1)) and not attn.hand_kernels(torch.zeros(1, device="meta"))
    attn.kernels = "native"
    assert not attn.hand_kernels(torch.zeros(1))
    attn.kernels = "hand"
    assert attn.hand_kernels(torch.zeros(1, device="meta"))


def test_set_kernels_sets_every_choosing_module_and_rejects_bad_names():
    net = torch.nn.ModuleList([CBHG(in_dim=4, bank_size=2, bank_channels=3, proj_channels=(4,),
                                    highway_layers=1, highway_dim=4, rnn_dim=2),
                               build_attention("mlp_ma", query_dim=3, memory_dim=4, attn_dim=5),
                               build_attention("dot", query_dim=3, memory_dim=4, attn_dim=5)])
    assert set_kernels(net, "native") == 2  # the CBHG's BiRNN and the MLP scorer
    assert net[0].rnn.kernels == net[1].kernels == "native"
    with pytest.raises(ValueError, match="kernels must be one of auto, hand, native: got 'cudnn'"):
        set_kernels(net, "cudnn")
    net[1].kernels = "fast"
    with pytest.raises(ValueError, match="MLPMultiscaleAttention.kernels must be one of"):
        net[1].hand_kernels(torch.zeros(1))
    assert KERNELS == ("auto", "hand", "native")
