"""Subword tokenizer on sentencepiece (BPE or unigram), the subword option of docs/data.md.

Models are trained so that the ids agree with :class:`~chain.text.char_tokenizer.CharTokenizer`:
``pad_id=0, unk_id=1, bos_id=2, eos_id=3`` with the pieces ``<pad> <unk> <s> </s>``.
Training keeps the text as it is (``normalization_rule_name=identity``,
``character_coverage=1.0``), so normalised text (single spaces, no space at either
end) decodes back exactly.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterable, Sequence

import sentencepiece as spm

from chain.data.datadir import DataError
from chain.fileio import atomic_write
from chain.text.tokenizer import EOS, PAD, SOS, SP_MODEL, UNK, Tokenizer

WORD_START = "\u2581"  # sentencepiece's '▁', a space before the piece


class SentencePieceTokenizer(Tokenizer):
    """Wraps a sentencepiece model held in memory (``model_proto`` bytes)."""

    def __init__(self, model_proto: bytes, token_type: str = "bpe"):
        if token_type not in ("bpe", "unigram"):
            raise ValueError(f"sentencepiece token type must be bpe or unigram: got {token_type!r}")
        self.token_type = token_type
        self._proto = model_proto
        self._sp = spm.SentencePieceProcessor(model_proto=model_proto)
        sp = self._sp
        id2token = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        # Symbols (user-defined pieces such as <noise>) are the other pieces written <name>;
        # the characters of all remaining pieces are what the model can spell.
        special = [sp.is_control(i) or sp.is_unknown(i) for i in range(len(id2token))]
        symbols = [p for p, s in zip(id2token, special)
                   if not s and len(p) > 2 and p[0] == "<" and p[-1] == ">"]
        charset = {" "}
        for piece, s in zip(id2token, special):
            if not s and piece not in symbols:
                charset.update(piece.replace(WORD_START, " "))
        super().__init__(id2token, charset=charset, symbols=symbols)
        self._encode = sp.encode_as_ids

    @classmethod
    def from_file(cls, path: str | os.PathLike, token_type: str = "bpe") -> "SentencePieceTokenizer":
        """Load ``bpe.model``."""
        if not Path(path).is_file():
            raise DataError(path, "no such file (stage 2, chain.bin.make_units, writes it)")
        try:
            return cls(Path(path).read_bytes(), token_type)
        except RuntimeError:
            raise DataError(path, "not a sentencepiece model (re-run chain.bin.make_units)") from None

    @classmethod
    def train(cls, sentences: Iterable[str], token_type: str = "bpe", vocab_size: int = 100,
              symbols: Sequence[str] = ()) -> "SentencePieceTokenizer":
        """Train a model on ``sentences`` (plain text, one sentence each).

        ``symbols`` (e.g. ``<noise>``) become user-defined pieces, never split.
        Raises ValueError when ``vocab_size`` does not fit the text.
        """
        if token_type not in ("bpe", "unigram"):
            raise ValueError(f"sentencepiece token type must be bpe or unigram: got {token_type!r}")
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences), model_writer=model,
                model_type=token_type, vocab_size=vocab_size, character_coverage=1.0,
                pad_id=0, unk_id=1, bos_id=2, eos_id=3,
                pad_piece=PAD, unk_piece=UNK, bos_piece=SOS, eos_piece=EOS, unk_surface=UNK,
                user_defined_symbols=list(symbols), normalization_rule_name="identity",
                num_threads=1, minloglevel=2)
        except RuntimeError as err:
            reason = str(err).split("]")[-1].strip()
            raise ValueError(f"cannot train a {token_type} model with vocabulary size "
                             f"{vocab_size}: {reason}") from None
        return cls(model.getvalue(), token_type)

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; a run of unknown characters becomes one ``<unk>``."""
        return self._encode(text)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; ``<pad>``, ``<s>``, ``</s>`` are skipped."""
        return self._sp.decode([int(i) for i in ids])

    def _save_model(self, lang_dir: Path) -> None:
        with atomic_write(lang_dir / SP_MODEL, "wb") as f:
            f.write(self._proto)
