"""Score ASR hypotheses against references: CER and WER (stage 6).

Reads Kaldi-style ``text`` files (``<utt> <transcript>``) and writes, in --out-dir,
``ref.trn`` and ``hyp.trn`` (sclite style, ``<transcript> (<utt>)``), ``per_utt``
(utt, char errors, ref chars, word errors, ref words) and ``result.txt`` with the summary.
Language tags (``<en>``, ``<ja>``, ``<zh>``: chain.text.langtags) are not counted as
characters; when the references carry them, a second line of ``result.txt`` gives the
LID accuracy per token and per utterance (chain.metrics.lid).
Example:
  python -m chain.bin.score --ref data/test/text --hyp exp/asr/decode_test/text \
      --out-dir exp/asr/decode_test
"""
from __future__ import annotations

from pathlib import Path

import configargparse

from chain.bin._args import make_parser
from chain.data.datadir import read_kv
from chain.fileio import atomic_write
from chain.metrics.error_rate import chars, score, words
from chain.metrics.lid import score_lid
from chain.text.langtags import TAGS


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--ref", required=True, help="reference Kaldi text file")
    parser.add_argument("--hyp", required=True, help="hypothesis Kaldi text file (empty text allowed)")
    parser.add_argument("--out-dir", required=True, help="where ref.trn, hyp.trn, per_utt, result.txt go")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    try:
        refs = read_kv(args.ref)
        hyps = read_kv(args.hyp, allow_empty_value=True)
        result = score(refs, hyps)
        tagged = any(tag in ref for ref in refs.values() for tag in TAGS)
        lid = score_lid(refs, hyps) if tagged else None
    except (ValueError, OSError) as err:
        raise SystemExit(f"score: error: {err}") from None
    out = Path(args.out_dir)
    for name, table in (("ref.trn", refs), ("hyp.trn", hyps)):
        with atomic_write(out / name) as f:
            for utt, _, _ in result.per_utt:
                f.write(f"{table[utt]} ({utt})\n")
    with atomic_write(out / "per_utt") as f:
        for utt, c, w in result.per_utt:
            f.write(f"{utt} {c} {len(chars(refs[utt]))} {w} {len(words(refs[utt]))}\n")
    summary = (f"CER {result.cer.rate:.2f}% ({result.cer.errors} / {result.cer.ref_len} chars)  "
               f"WER {result.wer.rate:.2f}% ({result.wer.errors} / {result.wer.ref_len} words)  "
               f"sentence errors {result.cer.utts_wrong} / {result.cer.utts}  [{args.hyp}]")
    with atomic_write(out / "result.txt") as f:
        f.write(summary + "\n")
        if lid is not None:
            f.write(f"{lid}\n")
    print(f"score: {summary}")
    if lid is not None:
        print(f"score: {lid}")


if __name__ == "__main__":
    main()
