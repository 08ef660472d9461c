"""Cost of the multi-speaker speech chain (section IV of the machine speech chain paper) at the demo size.

1. The speaker encoder's forward (eval, no gradients: how the TTS and the chain use it)
   on a batch, against one Tacotron training step on the same batch (zero_grad, loss,
   backward, Adam step), single-speaker and multi-speaker (z = SPKEMB(x) and the
   speaker term of Eq. (25) through the frozen encoder). Target: forward < 15% of a step.
2. One multi-speaker chain update (paired + speech-only + text-only batches, Eq. (18),
   text-only references drawn from a SpeakerPool) against one paired update (both
   models teacher-forced), multi-speaker and single-speaker. Target: <= 3.5x.

Models are built from the recipe's conf/{asr,tts,spk}.yaml (the demo sizes) with random
weights, inputs are synthetic (bench/models.py's batch: B utterances of 0.85-1 x
--frames frames, characters at --chars-per-second). Random weights never stop on their
own, so the caps are set to the batch's lengths (ASR: its characters, TTS: its frames)
and outputs that reach them are kept, not dropped: each update decodes and generates
exactly as much as a trained model would on such sentences. Run:

    tools/venv/bin/python bench/spk_step.py [--threads 2] [--batch 16] [--frames 240]
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import Trainer, interleaved_times  # noqa: E402
from synthetic import FRAME_SHIFT_S, cpu_busy, make_batch, options  # noqa: E402

from chain.asr import builder as asr_builder  # noqa: E402
from chain.loop.speakers import SpeakerPool  # noqa: E402
from chain.loop.steps import ChainOptions  # noqa: E402
from chain.loop.trainer import ModelOptions, ModelSlot, chain_forward_backward  # noqa: E402
from chain.spk import builder as spk_builder  # noqa: E402
from chain.tts import builder as tts_builder  # noqa: E402

VOCAB, LINEAR = 37, 513  # the paper's character set; the embedded recipe's 1024-point FFT


def build_models(conf_dir: Path, speakers: int):
    torch.manual_seed(0)
    encoder = spk_builder.freeze(spk_builder.build(options(spk_builder.add_arguments, conf_dir / "spk.yaml"),
                                                   80, speakers))
    tts_args = options(tts_builder.add_arguments, conf_dir / "tts.yaml")
    single = tts_builder.build(tts_args, VOCAB, 80, LINEAR)
    tts_args.spk_dim = encoder.embed_dim
    multi = tts_builder.build(tts_args, VOCAB, 80, LINEAR).attach_speaker_encoder(encoder)
    asr = asr_builder.build(options(asr_builder.add_arguments, conf_dir / "asr.yaml"), VOCAB, 80)
    return encoder, single, multi, asr


def keep_capped(asr, tts) -> None:
    """Random weights: count outputs that reach the caps as ended (the bench's length control)."""
    greedy, generate = asr.greedy, tts.generate

    def greedy_to_cap(*args, **kw):
        out = greedy(*args, **kw)
        hyps = out[0] if isinstance(out, tuple) else out
        trimmed = [h[:-1] for h in hyps]  # one short of the cap: kept by the speech-only step
        return (trimmed, *out[1:]) if isinstance(out, tuple) else trimmed

    def generate_to_cap(*args, **kw):
        out = generate(*args, **kw)
        out["hit_cap"] = torch.zeros_like(out["hit_cap"])
        return out

    asr.greedy, tts.generate = greedy_to_cap, generate_to_cap


def median(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s (min {min(times):.3f})"


class EncoderForward:
    """``step(batch)``: seconds of one speaker-encoder forward (eval, no gradients)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def step(self, batch: dict) -> float:
        start = time.perf_counter()
        with torch.no_grad():
            self.encoder.embed(batch["feats"], batch["feat_lengths"])
        return time.perf_counter() - start


def bench_encoder(encoder, single, multi, batch, args) -> None:
    step = lambda model, b: model(b)[0]  # noqa: E731
    trainers = [Trainer(single, step), Trainer(multi, step), EncoderForward(encoder)]
    times = interleaved_times(trainers, batch, args.warmup, args.steps)  # in turn: load hits all alike
    forwards = times[2]
    ratio = statistics.median(forwards) / statistics.median(times[0])
    print(f"== speaker encoder {sum(p.numel() for p in encoder.parameters()) / 1e6:.2f} M, Tacotron "
          f"{sum(p.numel() for p in single.parameters()) / 1e6:.2f} M (single) / "
          f"{sum(p.numel() for p in multi.parameters()) / 1e6:.2f} M (multi-speaker)")
    print(f"  speaker encoder forward:            {median(forwards)}")
    print(f"  Tacotron training step, single:     {median(times[0])}")
    print(f"  Tacotron training step, Eq. (25):   {median(times[1])}")
    print(f"  encoder forward / single-speaker step = {100 * ratio:.1f}% by medians, "
          f"{100 * min(forwards) / min(times[0]):.1f}% by minima (target < 15%); "
          f"multi / single step = {statistics.median(times[1]) / statistics.median(times[0]):.2f}x")


def bench_chain(asr, single, multi, batch, args) -> None:
    enc_frames = math.ceil(int(batch["feat_lengths"].max()) / 8)
    chain = ChainOptions(max_len_ratio=(int(batch["token_lengths"].max()) + 0.5) / enc_frames,
                         max_frames_per_token=int(batch["feat_lengths"].max()) / int(batch["token_lengths"].max()))
    speech = {k: batch[k] for k in ("feats", "feat_lengths", "linear")}
    text = {k: batch[k] for k in ("tokens", "token_lengths")}
    pool = SpeakerPool([f"ref{i}" for i in range(len(batch["feats"]))],
                       multi.speaker_vectors(batch["feats"], batch["feat_lengths"]))
    asr_single = copy.deepcopy(asr)  # one ASR per variant, so each has its own optimiser state
    keep_capped(asr, multi)
    keep_capped(asr_single, single)
    variants = {}
    for name, (a, tts) in (("single", (asr_single, single)), ("multi", (asr, multi))):
        slots = {n: ModelSlot(n, m.train(), ModelOptions(), 1) for n, m in (("asr", a), ("tts", tts))}
        variants[name] = slots, pool if tts.spk_dim else None

    def update(name, group) -> float:
        slots, speakers = variants[name]
        start = time.perf_counter()
        for slot in slots.values():
            slot.optimizer.zero_grad(set_to_none=True)
        _, stats, _ = chain_forward_backward(slots, group, chain, 1.0, speakers=speakers)
        for slot in slots.values():
            slot.optimizer.step()
        if stats.get("dropped_asr") or stats.get("dropped_tts"):
            raise RuntimeError(f"outputs dropped: {stats}")
        return time.perf_counter() - start

    rows = {name: ([], []) for name in variants}
    for i in range(args.warmup + args.steps):  # interleaved, so drifting load hits all alike
        for name, (paired, full) in rows.items():
            tp = update(name, {"paired": [batch]})
            tc = update(name, {"paired": [batch], "speech": [speech], "text": [text]})
            if i >= args.warmup:
                paired.append(tp)
                full.append(tc)
    print(f"== chain updates: ASR {sum(p.numel() for p in asr.parameters()) / 1e6:.2f} M; decoding to "
          f"{int(batch['token_lengths'].max())} characters, generating {int(batch['feat_lengths'].max())} frames")
    for name, (paired, full) in rows.items():
        print(f"  {name}-speaker paired update:  {median(paired)}")
        print(f"  {name}-speaker chain update:   {median(full)}")
    (sp, sc), (mp, mc) = rows["single"], rows["multi"]
    ratio = lambda f, a, b: f(a) / f(b)  # noqa: E731
    print(f"  multi-speaker chain / multi-speaker paired = {ratio(statistics.median, mc, mp):.2f}x by medians, "
          f"{ratio(min, mc, mp):.2f}x by minima (target <= 3.5); single-speaker chain / paired = "
          f"{ratio(statistics.median, sc, sp):.2f}x ({ratio(min, sc, sp):.2f}x); multi / single chain update = "
          f"{ratio(statistics.median, mc, sc):.2f}x ({ratio(min, mc, sc):.2f}x)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conf-dir", default="egs/mini_espeak/chain1/conf",
                        help="recipe conf dir with asr.yaml, tts.yaml, spk.yaml (the model sizes)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--batch", type=int, default=16, help="utterances per batch")
    parser.add_argument("--frames", type=int, default=240, help="frames of the longest utterance (12.5 ms)")
    parser.add_argument("--chars-per-second", type=float, default=14.0, help="characters per second of speech")
    parser.add_argument("--speakers", type=int, default=6, help="training speakers of the encoder's softmax")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps of each kind")
    parser.add_argument("--steps", type=int, default=5, help="timed steps of each kind")
    parser.add_argument("--sections", default="encoder,chain", help="comma-separated: encoder, chain")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    busy = cpu_busy()
    print(f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}, batch {args.batch} x {args.frames} frames "
          f"({args.frames * FRAME_SHIFT_S:.1f} s), {args.conf_dir}")
    if busy is not None and busy > 0.1:
        print(f"WARNING: the CPUs were {100 * busy:.0f}% busy before the run: figures may be too slow")
    encoder, single, multi, asr = build_models(Path(args.conf_dir), args.speakers)
    batch = make_batch(args, VOCAB, LINEAR, torch.Generator().manual_seed(0))
    sections = args.sections.split(",")
    if "encoder" in sections:
        bench_encoder(encoder, single, multi, batch, args)
    if "chain" in sections:
        bench_chain(asr, single, multi, batch, args)


if __name__ == "__main__":
    main()
