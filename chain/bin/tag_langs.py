"""Add language tags to the transcripts of a data dir from its per-utterance languages.

For a real corpus (docs/data.md, "Code-switching"): reads a Kaldi ``text`` file and an
``utt2lang`` file (``<utt> <lang>``, lang one of en, ja, zh, or a code-switching pair such
as ``ja-en``, matrix language first) and writes the text with language tags (<en> <ja>
<zh>, chain.text.langtags): a monolingual transcript gets its language's tag, a
code-switched one a tag for each run of a script (Latin: en, kana: ja, Han: the pair's
zh or ja). Transcripts that already carry tags are checked and kept. An utterance without
a language, a letter that none of its languages writes, or Han characters in a ja-zh pair
is an error naming the file and line; with --skip-bad true such utterances are dropped
and counted instead.
Example:
  python -m chain.bin.tag_langs --utt2lang data/all/utt2lang data/all/text > data/all/text.tagged
"""
from __future__ import annotations

import sys

import configargparse

from chain.bin._args import make_parser, str2bool
from chain.data.datadir import DataError, read_kv
from chain.fileio import atomic_write
from chain.text import langtags
from chain.text.textfile import read_text


def get_parser() -> configargparse.ArgumentParser:
    parser = make_parser(__doc__)
    parser.add_argument("--utt2lang", required=True,
                        help="Kaldi file '<utt> <lang>': en, ja, zh or a pair such as ja-en")
    parser.add_argument("--skip-bad", type=str2bool, default=False,
                        help="true: drop (and count) utterances that cannot be tagged instead of failing")
    parser.add_argument("--out", default="-", help="tagged Kaldi text file to write; - is stdout")
    parser.add_argument("text", help="Kaldi text file (<utt> <transcript>)")
    return parser


def tag_line(text: str, lang: str) -> str:
    """The tagged transcript of one utterance of language (or pair) ``lang``."""
    if any(tag in text for tag in langtags.TAGS):
        langtags.parse(text)  # already tagged: check it
        return text
    return langtags.tag_by_script(text, lang.split("-"))


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    out, skipped, first_bad = [], 0, None
    try:
        utt2lang = read_kv(args.utt2lang)
        for n, utt, text in read_text(args.text):
            try:
                if utt not in utt2lang:
                    raise ValueError(f"no language for '{utt}' in {args.utt2lang}")
                out.append(f"{utt} {tag_line(text, utt2lang[utt])}\n")
            except ValueError as err:
                bad = DataError(args.text, f"utterance '{utt}': {err}", n)
                if not args.skip_bad:
                    raise bad from None
                skipped += 1
                first_bad = first_bad or bad
    except (ValueError, OSError) as err:
        raise SystemExit(f"tag_langs: error: {err}") from None
    if args.out == "-":
        sys.stdout.writelines(out)
    else:
        with atomic_write(args.out) as f:
            f.writelines(out)
    if skipped:
        print(f"tag_langs: skipped {skipped} of {skipped + len(out)} utterances that could not be "
              f"tagged (first: {first_bad})", file=sys.stderr)


if __name__ == "__main__":
    main()
