"""Character tokenizer with the character set of the machine speech chain paper (section III-D1).

Ids: 0 ``<pad>``, 1 ``<unk>``, 2 ``<s>``, 3 ``</s>``, 4 ``<spc>`` (the space), then the
characters ``a-z , : ' ? . -``, then optional symbols such as WSJ's ``<noise>``
(section IV-D2), which are matched whole in the text.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from chain.text.normalize import CHARSET
from chain.text.tokenizer import SP_MODEL, SPECIALS, Tokenizer

SPC = "<spc>"


def char_units(chars: str = CHARSET, symbols: Sequence[str] = ()) -> list[str]:
    """The token list of a :class:`CharTokenizer`: specials, ``<spc>``, ``chars``, ``symbols``."""
    return [*SPECIALS, SPC, *chars, *symbols]


class CharTokenizer(Tokenizer):
    """One token per character; a space is ``<spc>``. ``CharTokenizer()`` is the paper's set.

    ``id2token`` (as read from ``units.txt``) must start with the four specials and
    ``<spc>``; every other token is one non-space character or a ``<...>`` symbol.
    Encoding is one dict lookup per character.
    """

    token_type = "char"

    def __init__(self, id2token: Sequence[str] | None = None):
        id2token = char_units() if id2token is None else list(id2token)
        if len(id2token) < 5 or id2token[4] != SPC:
            raise ValueError(f"token 4 of a character inventory must be {SPC}: got {id2token[4:5]}")
        chars, symbols = [], []
        for tok in id2token[5:]:
            if len(tok) == 1 and not tok.isspace():
                chars.append(tok)
            elif len(tok) > 2 and tok[0] == "<" and tok[-1] == ">":
                symbols.append(tok)
            else:
                raise ValueError(f"character token {tok!r}: expected one non-space character "
                                 "or a symbol written <name>")
        super().__init__(id2token, charset=[*chars, " "], symbols=symbols)
        self.spc_id = self.token2id[SPC]
        self._lookup = {tok: i for i, tok in enumerate(id2token) if tok in self.charset or tok in symbols}
        self._lookup[" "] = self.spc_id
        self._text_of = list(id2token)
        for i in (self.pad_id, self.sos_id, self.eos_id):
            self._text_of[i] = ""
        self._text_of[self.spc_id] = " "

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; spaces -> ``<spc>``, unknown characters -> ``<unk>``."""
        get, unk = self._lookup.get, self.unk_id
        if self._symbol_re is None:
            return [get(c, unk) for c in text]
        ids: list[int] = []
        start = 0
        for m in self._symbol_re.finditer(text):
            ids.extend(get(c, unk) for c in text[start:m.start()])
            ids.append(self._lookup[m.group()])
            start = m.end()
        ids.extend(get(c, unk) for c in text[start:])
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: ``<spc>`` -> space; ``<pad>``, ``<s>``, ``</s>`` skipped."""
        text_of = self._text_of
        return "".join(text_of[i] for i in ids)

    def _save_model(self, lang_dir: Path) -> None:
        stale = lang_dir / SP_MODEL  # a char inventory must not leave an old model beside it
        if stale.exists():
            os.unlink(stale)
