"""Pack a trained ASR or TTS into one archive that decodes anywhere (chain-recognize,
chain-synthesize, chain.Speech2Text / chain.Text2Speech).

The archive holds config.yaml (paths relative to the archive), the model weights of
--checkpoint, the token inventory (units.txt, bpe.model), the CMVN stats (mel; linear for
a TTS) and meta.yaml (toolkit version, model kind, sample rate, feature config of
--fbank-conf). Run from the recipe dir, whose paths config.yaml names, e.g.:
  python -m chain.bin.pack_model exp/asr_asr_train_paired asr.tar.gz --checkpoint avg5.pt
"""
from __future__ import annotations

import configargparse

from chain.bin._args import make_parser, setup_logging


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("exp_dir", help="experiment dir of asr_train, tts_train or chain_train "
                                        "(exp/chain_*/asr, exp/chain_*/tts)")
    parser.add_argument("out", help="archive to write (.tar.gz)")
    parser.add_argument("--checkpoint", default="best.pt",
                        help="weights inside EXP_DIR (best.pt, avg<N>.pt, checkpoints/epoch<N>.pt) "
                             "or a path")
    parser.add_argument("--fbank-conf", default="conf/fbank.yaml",
                        help="feature configuration of stage 1 (the features the model was trained on)")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("pack_model")
    from chain.pack import pack_model

    try:
        meta = pack_model(args.exp_dir, args.out, checkpoint=args.checkpoint, fbank_conf=args.fbank_conf)
    except (ValueError, OSError) as err:  # PackError and CheckpointError are ValueErrors
        raise SystemExit(f"pack_model: error: {err}") from None
    print(f"pack_model: {meta['kind'].upper()} of {args.exp_dir}/{meta['checkpoint']} "
          f"({meta['sample_rate']} Hz) -> {args.out}")


if __name__ == "__main__":
    main()
