"""What the benchmarks share: the synthetic training batch, model options from a recipe
config, and the CPU load check. torch and PyYAML only (no chain.bin, librosa or ESPnet),
so that bench/train_step.py runs on a GPU machine that has nothing else installed."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

FRAME_SHIFT_S = 0.0125  # 12.5 ms, section III-D1 of the machine speech chain paper
FIRST_CHAR_ID = 5  # ids 0-4 are <pad> <unk> <s> </s> <spc>


def make_batch(args, vocab_size: int, linear_dim: int, gen: torch.Generator) -> dict:
    """Random log-mel-like features, linear targets and character sequences, longest first
    (ESPnet's packed encoder wants sorted lengths; chain does not care): ``args.batch``
    utterances of ``args.frames`` down to 85% of it, ``args.chars_per_second`` characters."""
    feat_lengths = torch.linspace(args.frames, 0.85 * args.frames, args.batch).round().long()  # (B,)
    token_lengths = (feat_lengths * FRAME_SHIFT_S * args.chars_per_second).round().long().clamp_min(1)
    mask = torch.arange(args.frames)[None, :] < feat_lengths[:, None]  # (B, T)
    feats = torch.randn(args.batch, args.frames, 80, generator=gen) * mask[:, :, None]
    linear = torch.randn(args.batch, args.frames, linear_dim, generator=gen) * mask[:, :, None]
    tokens = torch.randint(FIRST_CHAR_ID, vocab_size - 1, (args.batch, int(token_lengths.max())), generator=gen)
    tokens = tokens * (torch.arange(tokens.size(1))[None, :] < token_lengths[:, None])  # pad id 0
    return dict(feats=feats, feat_lengths=feat_lengths, linear=linear, tokens=tokens, token_lengths=token_lengths)


def options(add_arguments, conf: Path) -> argparse.Namespace:
    """Model options of ``add_arguments``' group with the values of a recipe config."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    values = yaml.safe_load(conf.read_text())
    vars(args).update({k: v for k, v in values.items() if hasattr(args, k)})
    return args


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of all CPU time that was not idle over ``seconds`` (Linux /proc/stat; else None)."""
    def read() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait

    try:
        total0, idle0 = read()
        time.sleep(seconds)
        total1, idle1 = read()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)
