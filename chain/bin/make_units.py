"""Stage 2: build the token inventory (data/lang) and check Kaldi text files against it.

Writes OUT_DIR/units.txt (``token id`` per line), OUT_DIR/token_type and, for bpe and
unigram, OUT_DIR/bpe.model. Every text file is checked: unknown characters are
counted and reported with the first file:line of each (an error with --strict true);
an empty transcript is an error naming its file:line. Nothing is written on error.
Example:
  python -m chain.bin.make_units --token-type char --out-dir data/lang \
      --check-only data/dev/text data/train_paired/text data/train_text_only/text
"""
from __future__ import annotations

import configargparse

from chain.bin._args import add_strict_text_argument, make_parser, setup_logging
from chain.data.datadir import DataError
from chain.text.textfile import check_text_file
from chain.text.tokenizer import TOKEN_TYPES, UNITS, build



def read_chars(path: str) -> str:
    """The distinct non-space characters of ``path`` in order; DataError on ``<`` or ``>``
    (they delimit symbols) or an empty file."""
    out: dict[str, None] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            for char in line:
                if char in "<>":
                    raise DataError(path, f"{char!r} cannot be a character token (it delimits "
                                    "symbols such as <noise>; pass symbols with --symbols)", n)
                if not char.isspace():
                    out.setdefault(char, None)
    if not out:
        raise DataError(path, "no characters: the inventory would be empty")
    return "".join(out)


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--token-type", choices=TOKEN_TYPES, default="char",
                        help="char: the paper's characters a-z ,:'?.- with <spc>; "
                             "bpe/unigram: a sentencepiece model trained on the text files")
    parser.add_argument("--vocab-size", type=int, default=100,
                        help="number of sentencepiece pieces, specials included (bpe/unigram only)")
    parser.add_argument("--symbols", default="",
                        help="comma-separated extra whole tokens that appear in the text, e.g. '<noise>'")
    parser.add_argument("--chars", default="",
                        help="char only: a UTF-8 file whose characters (whitespace ignored, each once, in "
                             "order of first appearance) are the inventory, e.g. kana, hanzi and Latin "
                             "letters; empty: the paper's a-z ,:'?.-")
    parser.add_argument("--out-dir", default="data/lang", help="language dir to write")
    add_strict_text_argument(parser)
    parser.add_argument("--check-only", action="append", default=[], metavar="TEXT_FILE",
                        help="a Kaldi text file to check but not to train on (e.g. dev, test); repeatable")
    parser.add_argument("text_files", nargs="+", metavar="TEXT_FILE",
                        help="Kaldi text files (<utt> <transcript>) to train on and check")
    return parser


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging("make_units")
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    try:
        tokenizer = build(args.token_type, args.text_files, args.vocab_size, symbols,
                          chars=read_chars(args.chars) if args.chars else None)
        for path in [*args.text_files, *args.check_only]:
            check_text_file(tokenizer, path, args.strict)
    except (ValueError, OSError) as err:  # DataError is a ValueError
        raise SystemExit(f"make_units: error: {err}") from None
    tokenizer.save(args.out_dir)
    print(f"make_units: vocabulary size {len(tokenizer)} ({args.token_type}) -> {args.out_dir}/{UNITS}")


if __name__ == "__main__":
    main()
