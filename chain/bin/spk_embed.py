"""Speaker vectors of a set with a trained speaker encoder, and its verification scores.

z = SPKEMB(x) (Eq. (21) of the machine speech chain paper) of every utterance of
--data-dir (a dump dir: feats.scp, utt2spk), CMVN-normalised with the encoder's stats.
Writes in --out-dir: embeddings.ark + embeddings.scp (utterance -> z), spk_embeddings.ark +
spk_embeddings.scp (speaker -> mean of its utterances' z, L2-normalised) and, when the set
has two speakers or more (one with two utterances or more), result.txt: speaker-verification EER over all pairs of
utterances and identification accuracy (each speaker enrolled with its first --enroll
utterances; chain.metrics.speaker). Run from the recipe dir, e.g.:
  python -m chain.bin.spk_embed --exp-dir exp/spk_train_paired --data-dir dump/test \\
      --out-dir exp/spk_train_paired/embed_test
"""
from __future__ import annotations

import logging
from pathlib import Path

import configargparse
import kaldiio
import numpy as np
import torch

from chain.bin._args import add_device_arguments, make_parser, setup_logging
from chain.fileio import atomic_write
from chain.metrics.speaker import can_score, speaker_scores
from chain.spk.builder import load_speaker_encoder
from chain.spk.data import embed_dump, speaker_means, utt2spk_of
from chain.train.device import select_device

log = logging.getLogger("spk_embed")


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--exp-dir", required=True, help="speaker encoder experiment dir of chain.bin.spk_train")
    parser.add_argument("--checkpoint", default="best.pt", help="weights inside --exp-dir, or a path")
    parser.add_argument("--data-dir", required=True, help="dump dir of the utterances (feats.scp, utt2spk)")
    parser.add_argument("--out-dir", required=True, help="where the ark/scp files and result.txt go")
    parser.add_argument("--enroll", type=int, default=1,
                        help="utterances per speaker averaged into its enrolment vector (identification)")
    parser.add_argument("--batch-size", type=int, default=32, help="utterances per batch")
    add_device_arguments(parser, num_threads=2)
    return parser


def write_vectors(path_stem: Path, vectors: dict[str, np.ndarray]) -> None:
    """``<stem>.ark`` and ``<stem>.scp`` (keys sorted) of 1-D float32 vectors."""
    with kaldiio.WriteHelper(f"ark,scp:{path_stem}.ark,{path_stem}.scp") as writer:
        for key in sorted(vectors):
            writer(key, vectors[key].astype(np.float32))


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("spk_embed")
    torch.set_num_threads(args.num_threads)
    out = Path(args.out_dir)
    try:
        device = select_device(args.ngpu)
        encoder, cmvn = load_speaker_encoder(args.exp_dir, args.checkpoint, device)
        utts, vectors = embed_dump(encoder, args.data_dir, cmvn, batch_size=args.batch_size, device=device)
        speakers = utt2spk_of(args.data_dir, utts)
        out.mkdir(parents=True, exist_ok=True)
        write_vectors(out / "embeddings", dict(zip(utts, vectors)))
        write_vectors(out / "spk_embeddings", speaker_means(utts, vectors, speakers))
        summary = f"{len(utts)} utterances of {len(set(speakers))} speakers"
        if can_score(speakers, args.enroll):
            summary = f"{speaker_scores(vectors, speakers, args.enroll).line()}  [{summary}: {args.data_dir}]"
            with atomic_write(out / "result.txt") as f:
                f.write(summary + "\n")
    except (ValueError, OSError) as err:
        raise SystemExit(f"spk_embed: error: {err}") from None
    log.info("%s -> %s/embeddings.scp, spk_embeddings.scp", summary, out)


if __name__ == "__main__":
    main()
