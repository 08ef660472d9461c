"""The token inventory shared by the ASR and the TTS (stage 2, docs/data.md).

A language dir (``data/lang``) holds:

- ``units.txt``: ``token id`` per line, ids 0..N-1 in order (Kaldi/ESPnet style);
- ``token_type``: one word, ``char``, ``bpe`` or ``unigram``;
- ``bpe.model``: the sentencepiece model (``bpe`` and ``unigram`` only).

Every tokenizer has the same fixed ids: 0 ``<pad>``, 1 ``<unk>``, 2 ``<s>``,
3 ``</s>``. :meth:`Tokenizer.encode` adds neither ``<s>`` nor ``</s>``; the models do.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from chain.data.datadir import DataError
from chain.fileio import atomic_write

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, SOS, EOS)
TOKEN_TYPES = ("char", "bpe", "unigram")
UNITS, TOKEN_TYPE, SP_MODEL = "units.txt", "token_type", "bpe.model"


class Tokenizer:
    """Text <-> ids. Subclasses set ``token_type`` and implement :meth:`encode`/:meth:`decode`.

    ``charset`` is the set of characters the inventory can spell (space included);
    ``symbols`` are multi-character tokens such as ``<noise>`` that may appear in text.
    """

    token_type: str = ""
    pad_id, unk_id, sos_id, eos_id = 0, 1, 2, 3

    def __init__(self, id2token: Sequence[str], charset: Iterable[str], symbols: Sequence[str] = ()):
        id2token = list(id2token)
        if tuple(id2token[:4]) != SPECIALS:
            raise ValueError(f"the first four tokens must be {' '.join(SPECIALS)}: got {id2token[:4]}")
        self.id2token: list[str] = id2token
        self.token2id: dict[str, int] = {tok: i for i, tok in enumerate(id2token)}
        if len(self.token2id) != len(id2token):
            dup = sorted({t for t in id2token if id2token.count(t) > 1})
            raise ValueError(f"duplicate tokens in the inventory: {dup}")
        self.charset = frozenset(charset)
        self.symbols = tuple(symbols)
        # Longest first, so '<noise>' wins over a shorter symbol sharing its prefix.
        alternatives = sorted(self.symbols, key=len, reverse=True)
        self._symbol_re = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def __len__(self) -> int:
        return len(self.id2token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token_type={self.token_type!r}, size={len(self)})"

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``, without ``<s>``/``</s>``; characters outside the inventory -> ``unk_id``."""
        raise NotImplementedError

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; ``<pad>``, ``<s>`` and ``</s>`` are skipped, ``<unk>`` is kept as is."""
        raise NotImplementedError

    def tokens(self, text: str) -> list[str]:
        """The tokens ``encode`` produces, as strings (unknown characters show as ``<unk>``)."""
        return [self.id2token[i] for i in self.encode(text)]

    def unknown_chars(self, text: str) -> list[str]:
        """The characters of ``text`` (in order, repeats kept) that the inventory cannot spell."""
        if self._symbol_re is not None:
            text = self._symbol_re.sub(" ", text)
        known = self.charset
        return [c for c in text if c not in known]

    # -- files ---------------------------------------------------------------------------

    def save_units(self, path: str | os.PathLike) -> None:
        """Write ``units.txt``: ``token id`` per line, in id order, atomically."""
        with atomic_write(path) as f:
            for i, tok in enumerate(self.id2token):
                f.write(f"{tok} {i}\n")

    def save(self, lang_dir: str | os.PathLike) -> None:
        """Write the language dir read by :func:`load`."""
        lang_dir = Path(lang_dir)
        self._save_model(lang_dir)
        self.save_units(lang_dir / UNITS)
        with atomic_write(lang_dir / TOKEN_TYPE) as f:
            f.write(self.token_type + "\n")

    def _save_model(self, lang_dir: Path) -> None:
        """Write or remove the files besides units.txt that this token type needs."""
        raise NotImplementedError


def read_units(path: str | os.PathLike) -> list[str]:
    """Read ``units.txt``; the ids must run 0, 1, 2, ... in file order."""
    tokens: list[str] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise DataError(path, f"expected 'token id', got {line.rstrip()!r}", n)
            if int(parts[1]) != len(tokens):
                raise DataError(path, f"id {parts[1]} out of order: expected {len(tokens)} "
                                "(ids run 0..N-1 in file order; re-run chain.bin.make_units)", n)
            tokens.append(parts[0])
    if not tokens:
        raise DataError(path, "empty token inventory (re-run chain.bin.make_units)")
    return tokens


def load(lang_dir: str | os.PathLike) -> Tokenizer:
    """The tokenizer saved in ``lang_dir`` (``units.txt``, ``token_type``, ``bpe.model``)."""
    from chain.text.char_tokenizer import CharTokenizer
    from chain.text.sentencepiece_tokenizer import SentencePieceTokenizer

    lang_dir = Path(lang_dir)
    for name in (UNITS, TOKEN_TYPE):
        if not (lang_dir / name).is_file():
            raise DataError(lang_dir / name, "no such file (stage 2, chain.bin.make_units, writes it)")
    token_type = (lang_dir / TOKEN_TYPE).read_text(encoding="utf-8").strip()
    units = read_units(lang_dir / UNITS)
    try:
        if token_type == "char":
            return CharTokenizer(units)
        if token_type in ("bpe", "unigram"):
            tok = SentencePieceTokenizer.from_file(lang_dir / SP_MODEL, token_type)
            if tok.id2token != units:
                raise ValueError(f"disagrees with {lang_dir / SP_MODEL} "
                                 "(re-run chain.bin.make_units)")
            return tok
    except DataError:
        raise
    except ValueError as err:
        raise DataError(lang_dir / UNITS, str(err)) from None
    raise DataError(lang_dir / TOKEN_TYPE, f"token type must be one of {', '.join(TOKEN_TYPES)}: "
                    f"got {token_type!r}", 1)


def build(token_type: str, text_files: Sequence[str | os.PathLike] = (), vocab_size: int = 100,
          symbols: Sequence[str] = (), chars: str | None = None) -> Tokenizer:
    """A new inventory: characters (``char``: ``chars``, by default the paper's) or a
    sentencepiece model trained on the transcripts of the Kaldi ``text_files`` (``bpe``, ``unigram``).

    ``symbols`` (e.g. ``<noise>``, language tags) are extra whole tokens; ``vocab_size`` is for sentencepiece.
    """
    from chain.text.char_tokenizer import CharTokenizer, char_units
    from chain.text.sentencepiece_tokenizer import SentencePieceTokenizer
    from chain.text.textfile import read_text

    if token_type == "char":
        return CharTokenizer(char_units(symbols=symbols) if chars is None else char_units(chars, symbols))
    if token_type in ("bpe", "unigram"):
        if not text_files:
            raise ValueError(f"a {token_type} model needs training text: give at least one text file")
        sentences = [text for path in text_files for _, _, text in read_text(path)]
        return SentencePieceTokenizer.train(sentences, token_type, vocab_size, symbols)
    raise ValueError(f"token type must be one of {', '.join(TOKEN_TYPES)}: got {token_type!r}")
