"""Speed of chain's paired ASR and TTS against ESPnet, beam search and Griffin-Lim, on CPU.

One run prints three sections (see bench/README.md):

1. train: seconds per training step (forward + backward + Adam step; median and min of
   ``--steps`` after ``--warmup``, the two models of a row stepped in turn) of ``Seq2SeqASR`` vs ESPnet2's ``ESPnetASRModel``
   (blstmp encoder, RNN decoder with additive or location attention) and of ``Tacotron``
   vs ESPnet2's ``Tacotron2``, at matched parameter counts (both printed) on identical
   random batches, and ratio = ESPnet seconds / chain seconds.
2. beam: real-time factor of the batched beam search of a paper-size ``Seq2SeqASR``
   with random weights. Random weights would end hypotheses at random steps, so the
   </s> logit is pushed down and the length cap set to the tokens of a typical
   sentence (``--tokens-per-second`` x seconds): every utterance is decoded for exactly
   that many steps, as a trained model would on real speech.
3. gl: chain.feats.griffin_lim.griffin_lim vs librosa.griffinlim, same STFT settings,
   iterations and momentum, seconds each (median of ``--repeat``), the ratio, and the
   spectral convergence of each result (equal quality check).

  tools/venv_bench/bin/python bench/models.py [--threads 2] [--quick] [--profile N]

Run with tools/venv/bin/python (no ESPnet) and the ESPnet rows are skipped with a note.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import espnet_models  # noqa: E402  (bench/espnet_models.py, beside this file)
from synthetic import FRAME_SHIFT_S, cpu_busy, make_batch  # noqa: E402

from chain.asr.beam_search import beam_search  # noqa: E402
from chain.asr.seq2seq import Seq2SeqASR  # noqa: E402
from chain.bin._args import str2bool  # noqa: E402
from chain.feats.griffin_lim import griffin_lim, spectral_convergence  # noqa: E402
from chain.text.char_tokenizer import char_units  # noqa: E402
from chain.tts.tacotron import Tacotron  # noqa: E402

QUICK = dict(batch=2, frames=120, warmup=1, steps=1, decode_utts=4, decode_seconds=2.0, gl_seconds=1.0,
             gl_iters=5, repeat=1)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and every option's default."""


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    a = p.add_argument
    a("--threads", type=int, default=2, help="torch intra-op threads for every measurement")
    a("--sections", default="train,beam,gl", help="comma-separated sections to run: train, beam, gl")
    a("--quick", type=str2bool, nargs="?", const=True, default=False,
      help="tiny sizes and few repeats (%s): checks that everything runs in well under 30 s; "
           "its figures are not the benchmark" % ", ".join(f"{k}={v}" for k, v in QUICK.items()))
    a("--seed", type=int, default=0, help="seed of the random batches and weights")
    g = p.add_argument_group("train")
    g.add_argument("--batch", type=int, default=16, help="utterances per training batch")
    g.add_argument("--frames", type=int, default=400,
                   help="frames of the longest utterance; the others shrink linearly to 85%% of it")
    g.add_argument("--chars-per-second", type=float, default=14.0,
                   help="token sequence length per second of speech in the training batch")
    g.add_argument("--warmup", type=int, default=2, help="untimed training steps per model")
    g.add_argument("--steps", type=int, default=5, help="timed training steps per model")
    g.add_argument("--espnet-attention", default="add", choices=["add", "location"],
                   help="ESPnet ASR attention: add (additive, = our mlp) or location (location-aware)")
    g.add_argument("--profile", type=int, default=0, metavar="N",
                   help="after the timed steps, profile one more step of each chain model with "
                        "torch.profiler and print its N operators with the most self CPU time; 0: off")
    g = p.add_argument_group("beam")
    g.add_argument("--beam", type=int, default=5, help="beam width")
    g.add_argument("--decode-utts", type=int, default=32, help="utterances decoded in one batched call")
    g.add_argument("--decode-seconds", type=float, default=3.0, help="length of every decoded utterance")
    g.add_argument("--tokens-per-second", type=float, default=15.0,
                   help="decoder steps per second of speech (characters of a typical read sentence)")
    g = p.add_argument_group("gl")
    g.add_argument("--gl-seconds", type=float, default=5.0, help="seconds of 16 kHz audio to reconstruct")
    g.add_argument("--gl-iters", type=int, default=60, help="Griffin-Lim iterations")
    g.add_argument("--gl-momentum", type=float, default=0.99, help="fast Griffin-Lim momentum (librosa's default)")
    g.add_argument("--n-fft", type=int, default=2048, help="FFT size (paper: 2048)")
    g.add_argument("--hop", type=int, default=200, help="hop in samples (12.5 ms at 16 kHz)")
    g.add_argument("--win", type=int, default=800, help="window in samples (50 ms at 16 kHz)")
    g.add_argument("--repeat", type=int, default=3, help="timed runs of each beam search / Griffin-Lim (median)")
    return p


# ---------------------------------------------------------------- training steps
class Trainer:
    """One model, its Adam optimiser and its loss function; ``step()`` times one training step."""

    def __init__(self, model: torch.nn.Module, loss_fn) -> None:
        self.model, self.loss_fn = model.train(), loss_fn
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step(self, batch: dict) -> float:
        """zero_grad, loss, backward, Adam step -> wall seconds."""
        start = time.perf_counter()
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model, batch)
        loss.backward()
        self.opt.step()
        seconds = time.perf_counter() - start
        if not torch.isfinite(loss):
            raise RuntimeError(f"{type(self.model).__name__}: non-finite loss {float(loss)}")
        return seconds


def interleaved_times(trainers: list[Trainer], batch: dict, warmup: int, steps: int) -> list[list[float]]:
    """Step the models in turn (A B A B ...), so that load from other processes hits them
    alike; -> seconds of the timed steps of each model."""
    times = [[] for _ in trainers]
    for i in range(warmup + steps):
        for trainer, t in zip(trainers, times):
            seconds = trainer.step(batch)
            if i >= warmup:
                t.append(seconds)
    return times


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def summary(t: list[float]) -> str:
    return f"median {statistics.median(t):6.3f} s  (min {min(t):.3f}, max {max(t):.3f}, n={len(t)})"


def train_row(name: str, ours, ours_loss, theirs, theirs_loss, batch: dict, args) -> None:
    """Time both models on the same batch and print counts, step times and the ratio."""
    n_ours, n_theirs = n_params(ours), n_params(theirs)
    gap = n_theirs / n_ours - 1
    print(f"{name}: parameters chain {n_ours / 1e6:.2f} M, ESPnet {n_theirs / 1e6:.2f} M ({gap:+.1%})")
    if abs(gap) > espnet_models.MAX_SIZE_GAP:
        raise SystemExit(f"bench/models.py: {name} sizes differ by {gap:+.1%} (limit "
                         f"{espnet_models.MAX_SIZE_GAP:.0%}): fix the sizes in bench/espnet_models.py")
    trainer = Trainer(ours, ours_loss)
    t_ours, t_theirs = interleaved_times([trainer, Trainer(theirs, theirs_loss)], batch, args.warmup,
                                         args.steps)
    print(f"  chain  step {summary(t_ours)}")
    print(f"  ESPnet step {summary(t_theirs)}")
    ratio = statistics.median(t_theirs) / statistics.median(t_ours)
    print(f"  ratio ESPnet / chain = {ratio:.2f} by medians, {min(t_theirs) / min(t_ours):.2f} by minima "
          "(target >= 1.0, aim 1.5)")
    profile_step(trainer, batch, args.profile)


def ours_only(name: str, model, loss_fn, batch: dict, args) -> None:
    trainer = Trainer(model, loss_fn)
    (t,) = interleaved_times([trainer], batch, args.warmup, args.steps)
    print(f"{name}: chain {n_params(model) / 1e6:.2f} M parameters, step {summary(t)}")
    profile_step(trainer, batch, args.profile)


def profile_step(trainer: Trainer, batch: dict, rows: int) -> None:
    """Print the ``rows`` operators (by input shapes) with the most self CPU time in one more
    training step; nothing when ``rows`` is 0."""
    if rows <= 0:
        return
    with torch.profiler.profile(record_shapes=True) as prof:
        trainer.step(batch)
    print(f"  chain {type(trainer.model).__name__} step under torch.profiler, top {rows} operators:")
    print(prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=36, max_shapes_column_width=64))


def bench_train(args, vocab_size: int) -> None:
    print(f"== train: batch {args.batch} x {int(args.frames * 0.85)}-{args.frames} frames x 80, "
          f"{args.chars_per_second:g} chars/s, Adam; {args.steps} timed steps after {args.warmup}, "
          "the two models of a row stepped in turn")
    error = espnet_models.import_error()
    if error:
        print(f"  ESPnet rows skipped ({error}): build tools/venv_bench with `make -C tools bench-venv` "
              "and run tools/venv_bench/bin/python bench/models.py")
    else:
        print(f"  ESPnet {espnet_models.espnet_version()} (espnet2 model classes)")
    gen = torch.Generator().manual_seed(args.seed)
    batch = make_batch(args, vocab_size, 1025, gen)

    def ours_loss(model, b):
        return model(b)[0]

    torch.manual_seed(args.seed)
    asr = Seq2SeqASR(vocab_size=vocab_size)
    if error:
        ours_only("ASR", asr, ours_loss, batch, args)
    else:
        espnet_asr = espnet_models.build_asr(vocab_size, 80, args.espnet_attention)
        train_row(f"ASR (ESPnet blstmp + RNN decoder, {args.espnet_attention} attention)",
                  asr, ours_loss, espnet_asr, espnet_models.asr_loss, batch, args)
        del espnet_asr
    del asr
    torch.manual_seed(args.seed)
    tts = Tacotron(vocab_size=vocab_size)
    if error:
        ours_only("TTS", tts, ours_loss, batch, args)
    else:
        train_row("TTS (ESPnet Tacotron2)", tts, ours_loss, espnet_models.build_tts(vocab_size, 80),
                  espnet_models.tts_loss, batch, args)
        print("  note: chain's Tacotron also predicts the 1025-bin linear spectrogram through a post-CBHG "
              "(Eq. 14); ESPnet's Tacotron2 predicts the 80-bin mel only (conv postnet, zoneout LSTMs, "
              "location attention, guided-attention loss off). Same reduction factor 4.")


# ---------------------------------------------------------------- beam search
def bench_beam(args, vocab_size: int) -> None:
    frames = round(args.decode_seconds / FRAME_SHIFT_S)
    target_steps = math.ceil(args.decode_seconds * args.tokens_per_second)
    torch.manual_seed(args.seed)
    model = Seq2SeqASR(vocab_size=vocab_size).eval()
    out = model.output[-1] if isinstance(model.output, torch.nn.Sequential) else model.output
    with torch.no_grad():
        out.bias[model.eos_id] = -1e4  # random weights: no early </s>, decode to the cap
    enc_frames = math.ceil(frames / 8)  # the encoder keeps 1/8 of the frames
    ratio = (target_steps - 0.5) / enc_frames  # ceil(ratio * enc_frames) == target_steps
    gen = torch.Generator().manual_seed(args.seed)
    feats = torch.randn(args.decode_utts, frames, 80, generator=gen)
    lengths = torch.full((args.decode_utts,), frames)
    audio_s = args.decode_utts * frames * FRAME_SHIFT_S
    print(f"== beam: {args.decode_utts} utterances x {args.decode_seconds:g} s ({frames} frames) in one "
          f"batch, beam {args.beam}, {target_steps} decoder steps each ({args.tokens_per_second:g} "
          f"tokens/s), paper-size Seq2SeqASR with random weights")
    beam_search(model, feats[:2], lengths[:2], beam=args.beam, max_len_ratio=ratio)  # warm-up
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        nbest = beam_search(model, feats, lengths, beam=args.beam, max_len_ratio=ratio)
        times.append(time.perf_counter() - start)
    steps = {len(hyps[0][0]) for hyps in nbest}
    if steps != {target_steps}:
        raise RuntimeError(f"beam search ran {sorted(steps)} steps, expected {target_steps}")
    t = statistics.median(times)
    print(f"  decode {t:.3f} s (min {min(times):.3f}) for {audio_s:.0f} s of audio: RTF {t / audio_s:.4f} "
          f"(target <= 0.05)")


# ---------------------------------------------------------------- Griffin-Lim
def test_signal(seconds: float, fs: int, seed: int) -> np.ndarray:
    """Harmonic tone with a gliding pitch, a chirp and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / fs
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    x = x + 0.3 * np.sin(2 * np.pi * (300 * t + 400 * t ** 2 / seconds)) + 0.01 * rng.standard_normal(len(t))
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_gl(args) -> None:
    import librosa

    stft_kw = dict(n_fft=args.n_fft, hop_length=args.hop, win_length=args.win, window="hann", center=True)
    y = test_signal(args.gl_seconds, 16000, args.seed)
    mag = np.abs(librosa.stft(y, pad_mode="constant", **stft_kw))  # (F, T)
    mag_t = torch.from_numpy(mag.T.copy())  # (T, F)
    print(f"== gl: {args.gl_seconds:g} s at 16 kHz ({mag.shape[1]} frames), n_fft {args.n_fft}, hop "
          f"{args.hop}, win {args.win}, {args.gl_iters} iterations, momentum {args.gl_momentum:g}, "
          f"median of {args.repeat}")

    def ours(n_iter=args.gl_iters):
        return griffin_lim(mag_t, n_iter=n_iter, momentum=args.gl_momentum, **stft_kw)

    def theirs(n_iter=args.gl_iters):
        return librosa.griffinlim(mag, n_iter=n_iter, momentum=args.gl_momentum, init="random",
                                  random_state=args.seed, pad_mode="constant", **stft_kw)

    ours(2), theirs(2)  # warm-up (librosa's first call compiles with numba)
    t_ours, y_ours = median_time(ours, args.repeat)
    t_theirs, y_theirs = median_time(theirs, args.repeat)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t_ours1, _ = median_time(ours, args.repeat)
    torch.set_num_threads(threads)
    sc = {who: spectral_convergence(mag_t, torch.as_tensor(sig, dtype=torch.float32), **stft_kw)
          for who, sig in (("chain", y_ours), ("librosa", y_theirs))}
    print(f"  chain   {t_ours:6.3f} s ({threads} threads)  spectral convergence {sc['chain']:.4f}")
    print(f"  librosa {t_theirs:6.3f} s (numpy FFT)  spectral convergence {sc['librosa']:.4f}")
    print(f"  ratio librosa / chain = {t_theirs / t_ours:.2f} (target >= 2); with 1 torch thread: "
          f"chain {t_ours1:.3f} s, ratio {t_theirs / t_ours1:.2f}")


def main(argv=None) -> None:
    parser = get_parser()
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - {"train", "beam", "gl"})
    if unknown:
        parser.error(f"--sections takes train, beam, gl: got {', '.join(unknown)}")
    torch.set_num_threads(args.threads)
    vocab_size = len(char_units())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}, python {sys.executable}"
          + (", QUICK MODE (figures are not the benchmark)" if args.quick else ""))
    busy = cpu_busy()
    if busy is not None and busy > 0.1:
        print(f"WARNING: the CPUs were {busy:.0%} busy in the second before the run: other processes "
              f"compete with the {args.threads} torch threads, and a descheduled thread stalls the others "
              "at every parallel op; timings can be several times too slow (compare --threads 1)")
    start = time.perf_counter()
    if "train" in sections:
        bench_train(args, vocab_size)
    if "beam" in sections:
        bench_beam(args, vocab_size)
    if "gl" in sections:
        bench_gl(args)
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
