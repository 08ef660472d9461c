"""Features of the ZeroSpeech recipe for data dirs: MFCC, log-mel and log-linear.

Writes, for each --data-dirs entry, into the --out-dirs entry of the same position, OUT_DIR/mfcc.{ark,scp} (13 MFCC + deltas + delta-deltas, librosa; section 4.1 of the
ZeroSpeech 2019 VQ-VAE paper), logmel.{ark,scp} (n_mels bands) and linear.{ark,scp}
(log magnitude, n_fft/2+1 bins: the Code2Spec targets), all at the hop of --feats-conf so
frame t of each is the same, then utt2num_frames and utt2dur (the completion marker: written
last). Example:
  python -m chain.bin.zs_feats --feats-conf conf/fbank.yaml --data-dirs data/dev data/test --out-dirs dump/dev dump/test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import kaldiio

from chain.bin._args import make_parser, setup_logging
from chain.data.wav import WavScpReader
from chain.feats.fbank import Fbank, FbankConfig
from chain.fileio import atomic_write
from chain.vq.baselines import mfcc

log = logging.getLogger("zs_feats")
OUTPUTS = ("mfcc", "logmel", "linear")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--feats-conf", required=True, help="FbankConfig YAML (fs, window, hop, n_fft, n_mels)")
    parser.add_argument("--data-dirs", nargs="+", required=True, help="Kaldi data dirs with wav.scp (and segments)")
    parser.add_argument("--out-dirs", nargs="+", required=True, help="where their features go (dump/<set>)")
    parser.add_argument("--n-mfcc", type=int, default=13, help="cepstra before the deltas")
    return parser


def extract(data: Path, out: Path, cfg: FbankConfig, n_mfcc: int) -> int:
    """Features of every utterance of data dir ``data`` into ``out``; returns the utterances."""
    segments = data / "segments"
    reader = WavScpReader(data / "wav.scp", segments if segments.is_file() else None, fs=cfg.fs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "utt2num_frames").unlink(missing_ok=True)
    fbank, frames, durations = Fbank(cfg), [], []
    writers = [kaldiio.WriteHelper(f"ark,scp:{out / n}.ark,{out / n}.scp") for n in OUTPUTS]
    try:
        for utt, samples in reader:
            logmel, linear = fbank(samples)
            cep = mfcc(samples, cfg.fs, win_length_ms=cfg.win_length_ms, hop_length_ms=cfg.hop_length_ms,
                       n_mfcc=n_mfcc)[:len(logmel)]
            for writer, mat in zip(writers, (cep, logmel, linear)):
                writer(utt, mat)
            frames.append(f"{utt} {len(logmel)}\n")
            durations.append(f"{utt} {len(samples) / cfg.fs:.4f}\n")
    finally:
        for writer in writers:
            writer.close()
    with atomic_write(out / "utt2dur") as f:
        f.writelines(durations)
    with atomic_write(out / "utt2num_frames") as f:
        f.writelines(frames)
    return len(frames)


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("zs_feats")
    if len(args.data_dirs) != len(args.out_dirs):
        raise SystemExit(f"zs_feats: error: {len(args.data_dirs)} --data-dirs but {len(args.out_dirs)} --out-dirs")
    try:
        cfg = FbankConfig.from_yaml(args.feats_conf)
        for data, out in zip(args.data_dirs, args.out_dirs):
            n = extract(Path(data), Path(out), cfg, args.n_mfcc)
            log.info("%s: %d utterances -> %s/{%s}.scp", data, n, out, ",".join(OUTPUTS))
    except (ValueError, OSError) as err:
        raise SystemExit(f"zs_feats: error: {err}") from None


if __name__ == "__main__":
    main()
