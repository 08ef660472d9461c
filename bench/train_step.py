"""Training steps per second of the ASR and the Tacotron, fp32 against bf16 / fp16 autocast.

Models are built from a recipe's conf/asr.yaml and conf/tts.yaml (default
egs/TEMPLATE/chain1/conf: the paper's sizes) with random weights, for the paper's
character set, 80 mel bins and the n_fft / 2 + 1 linear bins of the recipe's
conf/fbank.yaml. The batch is synthetic (bench/models.py's): ``--batch`` utterances of
0.85-1 x ``--frames`` frames, characters at ``--chars-per-second``.

A step is the training engine's (chain.train.engine): forward under ``autocast``, then
``backward`` (zero_grad, backward through the GradScaler for fp16, gradient clipping at
the conf's ``grad_clip``), then Adam's step (through the scaler for fp16) with the conf's
``lr``. Unlike the engine, AMP also runs on CPU here (torch's CPU autocast), so that a
CPU run checks the AMP code paths; only GPU figures answer the speed question.

Every model x ``--kernels`` x ``--amp`` row builds the model afresh from the same seed,
runs ``--warmup`` untimed steps and times ``--steps`` (``torch.cuda.synchronize()``
around each on CUDA). ``--kernels`` (chain.nets.kernels) picks the hand-written CPU
kernels (``hand``) or torch's native ops (``native``; ``auto``: by device): on a GPU the
two show whether a hand-written kernel slows the CUDA path. A row that fails prints
FAILED with the error and the run goes on (exit status 1 at the end).

Output: a header (device and card, torch / CUDA / cuDNN versions, TF32 settings, the
command line), then one markdown table row per model x kernels x amp: median and min
seconds per step, steps/s (by the median), ratio of the median to that model's and
kernels' fp32 row (< 1: faster), peak GPU memory (CUDA only).

    tools/venv/bin/python bench/train_step.py --device cuda --amp none bf16 fp16
    tools/venv/bin/python bench/train_step.py --quick       # tiny CPU run: does it work?
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]  # bench/synthetic.py; this checkout's chain, installed or not
from synthetic import FRAME_SHIFT_S, cpu_busy, make_batch, options  # noqa: E402

from chain.asr import builder as asr_builder  # noqa: E402
from chain.nets.kernels import KERNELS, set_kernels  # noqa: E402
from chain.text.char_tokenizer import char_units  # noqa: E402
from chain.train.device import autocast, make_scaler  # noqa: E402
from chain.train.engine import ModelOptions, ModelSlot, backward, to_device  # noqa: E402
from chain.train.options import AMP_MODES, OptimOptions  # noqa: E402
from chain.tts import builder as tts_builder  # noqa: E402

MODELS = ("asr", "tts")
TTS_TARGET_S = 0.150  # the open issue's target for a TTS step on a GPU, batch 32
QUICK = dict(batch=2, frames=48, warmup=1, steps=2)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and every option's default."""


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=_HelpFormatter)
    a = p.add_argument
    a("--device", default="cpu", choices=("cpu", "cuda"), help="where the models train")
    a("--amp", nargs="+", default=["none"], choices=AMP_MODES,
      help="autocast modes, one row each (none: fp32; bf16; fp16 with the GradScaler)")
    a("--kernels", nargs="+", default=None, choices=KERNELS,
      help="hand-written CPU kernels or native ops (chain.nets.kernels), one row each; "
           "default: native hand on cuda, auto on cpu")
    a("--models", nargs="+", default=list(MODELS), choices=MODELS, help="which models to time")
    a("--conf-dir", default="egs/TEMPLATE/chain1/conf",
      help="recipe conf dir with asr.yaml, tts.yaml (model sizes, lr, grad_clip) and fbank.yaml (n_fft)")
    a("--batch", type=int, default=32, help="utterances per batch")
    a("--frames", type=int, default=560,
      help="frames of the longest utterance (12.5 ms each); the others shrink linearly to 85%% of it "
           "(560: 6.5 s on average, about LJSpeech's mean utterance)")
    a("--chars-per-second", type=float, default=14.0, help="characters per second of speech")
    a("--warmup", type=int, default=3, help="untimed steps per row")
    a("--steps", type=int, default=10, help="timed steps per row")
    a("--threads", type=int, default=2, help="torch CPU threads")
    a("--seed", type=int, default=0, help="seed of the weights and the batch")
    a("--quick", action="store_true",
      help="tiny sizes (%s) on the CPU: checks that every row runs, in seconds; its figures are "
           "not the benchmark" % ", ".join(f"{k}={v}" for k, v in QUICK.items()))
    return p


def build(name: str, conf_dir: Path, vocab_size: int, linear_dim: int, seed: int) -> tuple[torch.nn.Module, dict]:
    """Model ``name`` of the recipe conf with seeded random weights, and its conf values."""
    conf_path = conf_dir / f"{name}.yaml"
    torch.manual_seed(seed)
    if name == "asr":
        model = asr_builder.build(options(asr_builder.add_arguments, conf_path), vocab_size, 80)
    elif name == "tts":
        model = tts_builder.build(options(tts_builder.add_arguments, conf_path), vocab_size, 80, linear_dim)
    else:
        raise ValueError(f"model must be one of {', '.join(MODELS)}: got {name!r}")
    return model, yaml.safe_load(conf_path.read_text())


def make_slot(model: torch.nn.Module, conf: dict) -> ModelSlot:
    """The engine's model slot: Adam with the conf's optimiser settings (lr, betas, ...)."""
    optim = OptimOptions(**{f.name: conf[f.name] for f in dataclasses.fields(OptimOptions) if f.name in conf})
    return ModelSlot("model", model.train(), ModelOptions(optim=optim), epochs=1)


def train_step(slot: ModelSlot, batch: dict, device: torch.device, amp: str,
               scaler: torch.amp.GradScaler | None, grad_clip: float) -> float:
    """One training step as the engine takes it -> wall seconds (GPU work included)."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    with autocast(device, amp):
        loss, _ = slot.module(batch)
    backward({"model": slot}, loss, grad_clip, scaler)
    if scaler is not None:
        scaler.step(slot.optimizer)  # skipped by the scaler when the gradients overflowed
        scaler.update()
    else:
        slot.optimizer.step()
    sync()
    seconds = time.perf_counter() - start
    if not torch.isfinite(loss):
        raise RuntimeError(f"non-finite loss {float(loss)}")
    return seconds


def time_row(base: torch.nn.Module, conf: dict, batch: dict, device: torch.device, amp: str,
             args) -> tuple[list[float], int | None]:
    """Seconds of the timed steps of a fresh copy of ``base``, and its peak GPU bytes (None on CPU)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    slot = make_slot(copy.deepcopy(base).to(device), conf)
    scaler = make_scaler(device, amp)
    grad_clip = float(conf.get("grad_clip", 1.0))
    times = [train_step(slot, batch, device, amp, scaler, grad_clip) for _ in range(args.warmup + args.steps)]
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return times[args.warmup:], peak


def header(args, argv: list[str], device: torch.device) -> str:
    if device.type == "cuda":
        card = (f"{torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, cuDNN "
                f"{torch.backends.cudnn.version()}, TF32 matmul {torch.backends.cuda.matmul.allow_tf32} "
                f"cuDNN {torch.backends.cudnn.allow_tf32}")
    else:
        card = f"CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads, " \
               f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    return (f"device: {card}\ntorch {torch.__version__}; command: bench/train_step.py {' '.join(argv)}\n"
            f"batch {args.batch} x {int(args.frames * 0.85)}-{args.frames} frames "
            f"({args.frames * FRAME_SHIFT_S:.1f} s), {args.chars_per_second:g} chars/s; "
            f"{args.steps} timed steps after {args.warmup}; conf {args.conf_dir}")


def main(argv=None) -> int:
    parser = get_parser()
    args = parser.parse_args(argv)
    if args.quick:
        if args.device != "cpu":
            parser.error("--quick runs on the CPU: drop --device cuda")
        vars(args).update(QUICK)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but torch sees no CUDA device (torch.cuda.is_available() is False)")
    for name in ("batch", "frames", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1: got {getattr(args, name)}")
    kernels = args.kernels or (["native", "hand"] if args.device == "cuda" else ["auto"])
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    conf_dir = Path(args.conf_dir)
    fbank = yaml.safe_load((conf_dir / "fbank.yaml").read_text())
    linear_dim, vocab_size = fbank["n_fft"] // 2 + 1, len(char_units())
    busy = cpu_busy() if device.type == "cpu" and not args.quick else None
    print(header(args, sys.argv[1:] if argv is None else argv, device))
    if busy is not None and busy > 0.1:
        print(f"WARNING: the CPUs were {100 * busy:.0f}% busy before the run: figures may be too slow")
    if args.quick:
        print("QUICK MODE: tiny sizes, the figures are not the benchmark")
    batch = to_device(make_batch(args, vocab_size, linear_dim, torch.Generator().manual_seed(args.seed)), device)
    print("\n| model | kernels | amp | s/step (median) | min | steps/s | vs fp32 | peak GPU MiB |")
    print("|---|---|---|---|---|---|---|---|")
    failed, best_tts = 0, None
    for name in args.models:
        base, conf = build(name, conf_dir, vocab_size, linear_dim, args.seed)
        for kernel in kernels:
            set_kernels(base, kernel)
            fp32 = None
            for amp in args.amp:
                cells = f"| {name.upper()} | {kernel} | {amp} |"
                try:
                    times, peak = time_row(base, conf, batch, device, amp, args)
                except Exception as error:  # noqa: BLE001 (one row fails, the others still run)
                    failed += 1
                    message = (str(error).splitlines() or [""])[0][:200].replace("|", "/")
                    print(f"{cells} FAILED: {type(error).__name__}: {message} |")
                    continue
                median = statistics.median(times)
                fp32 = median if amp == "none" else fp32
                ratio = f"{median / fp32:.2f}" if fp32 else "-"
                memory = f"{peak / 2**20:.0f}" if peak is not None else "-"
                print(f"{cells} {median:.4f} | {min(times):.4f} | {1 / median:.2f} | {ratio} | {memory} |")
                if name == "tts" and (best_tts is None or median < best_tts[0]):
                    best_tts = median, f"{kernel}, {amp}"
        del base
    if best_tts is not None and device.type == "cuda" and args.batch == 32:
        met = "met" if best_tts[0] < TTS_TARGET_S else "missed"
        print(f"\nfastest TTS step {1000 * best_tts[0]:.0f} ms ({best_tts[1]}): target < "
              f"{1000 * TTS_TARGET_S:.0f} ms {met}")
    if failed:
        print(f"\n{failed} row(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
