"""Stage 1: extract log-mel and log-linear features of one wav.scp split (one job).

Writes OUT_DIR/feats.JOB.ark + feats.JOB.scp (log-mel, T x n_mels float32),
linear.JOB.ark + linear.JOB.scp (log-magnitude linear, T x (n_fft/2+1)),
utt2num_frames.JOB and utt2dur.JOB. feats.JOB.scp is the completion marker: it is
renamed into place last, after the arks are complete; a failing job exits 1 and
leaves no scp. With --segments, --wav-scp lists whole recordings and the segments
file lists this job's utterances. A wav.scp value ending in '|' is a shell command
whose stdout is the audio; it runs with bash, as Kaldi runs it.

Features of section III-D1 of the machine speech chain paper; conf/fbank.yaml:
  fs: 16000
  preemph: 0.97
  win_length_ms: 50.0
  hop_length_ms: 12.5
  n_fft: 2048
  n_mels: 80
  fmin: 0.0
  fmax: null
  window: hann
  center: true
  pad_mode: constant
  log_floor: 1.0e-05
Example (one of nj jobs):
  python -m chain.bin.feat_extract --config conf/fbank.yaml \\
      --wav-scp dump/train/split4/wav.2.scp --out-dir dump/train/data --job 2
"""
from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import fields

import configargparse

from chain.bin._args import make_parser, setup_logging, str2bool
from chain.feats.fbank import PAD_MODES, WINDOWS, FbankConfig



def _optional_float(value: str) -> float | None:
    return None if str(value).lower() in ("", "none", "null") else float(value)


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    d = FbankConfig()
    add = parser.add_argument
    add("--wav-scp", required=True,
        help="Kaldi wav.scp of this job: '<key> <path>' or '<key> <command> |'; a command (its stdout "
             "is the audio, e.g. 'sox a.flac -t wav - |') runs with 'bash -o pipefail -c', as in "
             "Kaldi: a wav.scp runs code, so use data dirs you trust")
    add("--segments", default=None, help="Kaldi segments of this job ('<utt> <recording> <start> <end>'); "
        "--wav-scp then lists the recordings")
    add("--out-dir", required=True, help="directory for the ark/scp and utt2* files")
    add("--job", default=None, help="job id, the JOB in feats.JOB.scp")
    add("--strict", type=str2bool, default=False,
        help="true: a file at another sample rate or with several channels is an error; "
             "false: resample it / take channel 0, with one warning for the job")
    add("--write-linear", type=str2bool, default=True,
        help="also write the log-linear spectrogram linear.JOB.ark/scp (the TTS target)")
    add("--num-threads", type=int, default=1,
        help="BLAS threads of this job; run one job per core and keep 1")
    g = parser.add_argument_group("features (FbankConfig; section III-D1 of the speech chain paper)")
    g.add_argument("--fs", type=int, default=d.fs, help="sample rate in Hz")
    g.add_argument("--preemph", type=float, default=d.preemph,
                   help="pre-emphasis coefficient, 0 for none")
    g.add_argument("--win-length-ms", type=float, default=d.win_length_ms,
                   help="window length in ms")
    g.add_argument("--hop-length-ms", type=float, default=d.hop_length_ms,
                   help="frame shift in ms")
    g.add_argument("--n-fft", type=int, default=d.n_fft,
                   help="FFT size; the linear spectrogram has n_fft/2+1 bins")
    g.add_argument("--n-mels", type=int, default=d.n_mels, help="mel bands")
    g.add_argument("--fmin", type=float, default=d.fmin, help="lowest mel frequency in Hz")
    g.add_argument("--fmax", type=_optional_float, default=d.fmax,
                   help="highest mel frequency in Hz, none for fs/2")
    g.add_argument("--window", choices=WINDOWS, default=d.window, help="window function")
    g.add_argument("--center", type=str2bool, default=d.center,
                   help="true: frame t is centred on sample t*hop, the signal padded at both ends")
    g.add_argument("--pad-mode", choices=PAD_MODES, default=d.pad_mode,
                   help="padding for --center true")
    g.add_argument("--log-floor", type=float, default=d.log_floor,
                   help="features are log(max(magnitude, floor))")
    return parser


def fbank_config_from_args(args) -> FbankConfig:
    """The FbankConfig of the parsed options (one option per field)."""
    return FbankConfig(**{f.name: getattr(args, f.name) for f in fields(FbankConfig)})


def _process_age(default: float) -> float:
    """Seconds since this process started (Linux /proc; ``default`` elsewhere)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            return float(f.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return default


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through extract_job, which removes its partial files


def main(argv=None) -> None:
    start = time.perf_counter()
    args = get_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # run.pl and Slurm stop jobs with SIGTERM
    setup_logging("feat_extract")
    from chain.feats.extract import extract_job  # after --help: imports numpy, kaldiio

    try:
        summary = extract_job(args.wav_scp, args.out_dir, args.job, fbank_config_from_args(args),
                              segments=args.segments, strict=args.strict, write_linear=args.write_linear,
                              num_threads=args.num_threads)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"feat_extract: error: {err}") from None
    setup = _process_age(time.perf_counter() - start) - summary.seconds  # interpreter start included
    logging.info("%s; set-up %.2f s", summary, setup)


if __name__ == "__main__":
    main()
