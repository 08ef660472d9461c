"""Cost of one speech chain update against one paired update at the same batch size.

Paired update: both models teacher-forced on a paired batch, backward, both optimisers
(what stages 3 and 4 do, together). Chain update: the same plus a speech-only batch
(ASR greedy transcription + TTS teacher-forced) and a text-only batch (batched TTS
generation + ASR teacher-forced), ``--ratio 1 1 1`` of chain_train. Real batches and
trained models of the embedded recipe, so generations stop where trained models stop.
Needs the recipe's stage 1-4 outputs (e.g. after ``make demo``):

    tools/venv/bin/python bench/chain_step.py [--recipe egs/mini_espeak/chain1]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from chain.asr.recognize import load_asr
from chain.data.dataset import SpeechTextDataset
from chain.data.sampler import BucketBatchSampler, loader_factory
from chain.loop.steps import ChainOptions
from chain.loop.trainer import ModelOptions, ModelSlot, chain_forward_backward
from chain.train.experiment import load_config
from chain.tts.builder import add_arguments as add_tts_arguments
from chain.tts.synthesize import load_tts


def batches(dataset, batch_size: int, n: int) -> list[dict]:
    sampler = BucketBatchSampler(dataset.lengths, batch_size=batch_size, shuffle=True, seed=0)
    loader = loader_factory(dataset, sampler, pad_id=0)(1)
    return [b for b, _ in zip(loader, range(n))]


def time_update(models, group, chain: ChainOptions) -> float:
    start = time.perf_counter()
    chain_forward_backward(models, group, chain, grad_clip=1.0)
    for m in models.values():
        m.optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="egs/mini_espeak/chain1", help="recipe dir with dump/, data/, exp/")
    parser.add_argument("--asr-exp", default="exp/asr_asr_train_paired", help="ASR experiment (recipe-relative)")
    parser.add_argument("--tts-exp", default="exp/tts_tts_train_paired", help="TTS experiment (recipe-relative)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--updates", type=int, default=8, help="timed updates of each kind (after one warm-up)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.chdir(args.recipe)
    asr, tokenizer, _ = load_asr(args.asr_exp)
    tts, _, _, _ = load_tts(args.tts_exp)
    config = load_config(args.tts_exp, add_tts_arguments)
    speech = dict(tokenizer=tokenizer, cmvn=config.cmvn, use_linear=True, linear_cmvn=config.cmvn_linear)
    paired = SpeechTextDataset.from_dirs(dump_dir="dump/train_paired", data_dir="dump/train_paired", **speech)
    speech_only = SpeechTextDataset.from_dirs(dump_dir="dump/train_speech_only", data_dir=None, **speech)
    text_only = SpeechTextDataset.from_dirs(dump_dir=None, data_dir="data/train_text_only", tokenizer=tokenizer)
    n = args.updates + 1
    p, s, t = (batches(ds, args.batch_size, n) for ds in (paired, speech_only, text_only))
    models = {name: ModelSlot(name, model.train(), ModelOptions(), epochs=1)
              for name, model in (("asr", asr), ("tts", tts))}
    chain = ChainOptions()
    paired_times, chain_times = [], []
    for i, (a, b, c) in enumerate(zip(p, s, t)):  # interleaved, so drifting load hits both alike
        tp = time_update(models, {"paired": [a]}, chain)
        tc = time_update(models, {"paired": [a], "speech": [b], "text": [c]}, chain)
        if i > 0:  # the first of each is a warm-up
            paired_times.append(tp)
            chain_times.append(tc)
    mp, mc = statistics.median(paired_times), statistics.median(chain_times)
    print(f"batch {args.batch_size}, {args.threads} threads, {args.updates} timed updates each, models "
          f"{Path(args.asr_exp).name} + {Path(args.tts_exp).name}")
    print(f"paired update (ASR + TTS teacher-forced): median {mp:.3f} s")
    print(f"chain update (paired + speech-only + text-only): median {mc:.3f} s")
    print(f"chain / paired: {mc / mp:.2f}x (target <= 3.0)")


if __name__ == "__main__":
    main()
