"""Speak units in the target voice: Code2Spec (Eq. (5) of the ZeroSpeech 2019 VQ-VAE paper),
then Griffin-Lim on the predicted linear magnitudes.

Writes OUT_DIR/wav/<utt>.wav (16-bit), OUT_DIR/wav.scp and OUT_DIR/utt2spk (every utterance
spoken by --target-speaker). Example:
  python -m chain.bin.code2spec_synth --exp-dir exp/vqvae/code2spec --units-dir exp/vqvae/units_test \\
      --feats-conf conf/fbank.yaml --out-dir exp/vqvae/code2spec/synth_test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import torch

from chain.bin._args import make_parser, setup_logging
from chain.feats.cmvn import load_cmvn
from chain.feats.fbank import FbankConfig
from chain.feats.griffin_lim import log_linear_to_wav, write_wav
from chain.fileio import atomic_write
from chain.vq.builder import load_code2spec
from chain.vq.data import read_units, read_units_meta

log = logging.getLogger("code2spec_synth")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="a code2spec_train experiment")
    parser.add_argument("--checkpoint", default="best.pt", help="weights in --exp-dir")
    parser.add_argument("--units-dir", required=True, help="unit dir to speak (same kind of units as trained on)")
    parser.add_argument("--feats-conf", required=True, help="FbankConfig YAML of the training targets")
    parser.add_argument("--out-dir", required=True, help="where wav/, wav.scp and utt2spk go")
    parser.add_argument("--target-speaker", default="target", help="speaker name written to utt2spk")
    parser.add_argument("--griffin-lim-iters", type=int, default=60, help="Griffin-Lim iterations")
    parser.add_argument("--num-threads", type=int, default=2, help="torch CPU threads")
    return parser


@torch.no_grad()
def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("code2spec_synth")
    torch.set_num_threads(args.num_threads)
    try:
        model, config = load_code2spec(args.exp_dir, args.checkpoint)
        stride = read_units_meta(args.units_dir)["stride"]
        if stride != config.unit_stride:
            raise ValueError(f"{args.units_dir}: units of stride {stride}, the inverter was trained on stride "
                             f"{config.unit_stride}")
        cfg, stats = FbankConfig.from_yaml(args.feats_conf), load_cmvn(config.cmvn_linear)
        out = Path(args.out_dir)
        (out / "wav").mkdir(parents=True, exist_ok=True)
        scp = []
        for utt, units in sorted(read_units(args.units_dir).items()):
            x = torch.tensor(units, dtype=torch.float32)[None]  # (1, T_z, D)
            spec = model(x, len(units) * stride)[0]  # (T, F), normalised log magnitude
            wav = log_linear_to_wav(spec, cfg, cmvn_stats=stats, n_iter=args.griffin_lim_iters, peak=0.9)
            path = (out / "wav" / f"{utt}.wav").resolve()
            write_wav(path, wav, cfg.fs)
            scp.append((utt, path))
        with atomic_write(out / "wav.scp") as f:
            f.writelines(f"{u} {p}\n" for u, p in scp)
        with atomic_write(out / "utt2spk") as f:
            f.writelines(f"{u} {args.target_speaker}\n" for u, _ in scp)
    except (ValueError, OSError) as err:
        raise SystemExit(f"code2spec_synth: error: {err}") from None
    log.info("%d utterances -> %s", len(scp), out)


if __name__ == "__main__":
    main()
