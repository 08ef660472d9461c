"""Kaldi ``text`` files (``<utt> <transcript>`` per line) checked against a token inventory.

Unknown characters are counted, not hidden: :func:`encode_text_file` returns an
:class:`UnknownReport` such as ``3 unknown characters in data/x/text (read as <unk>;
first at data/x/text:4): '!' x2 (first at line 4), 'é' x1 (first at line 7)``; with
``strict=True`` it raises a DataError naming the file and the line of the first one.
:func:`check_text_file` is the check every entry point that reads text runs (training,
decoding, evaluation, stage 2): an empty transcript is an error naming file:line, and
the report is logged (a warning when anything is unknown).
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from chain.data.datadir import DataError
from chain.text.tokenizer import Tokenizer

logger = logging.getLogger(__name__)


def read_text(path: str | os.PathLike) -> Iterator[tuple[int, str, str]]:
    """Yield ``(line number, utterance id, transcript)``; DataError on an empty line or transcript."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise DataError(path, f"not UTF-8 ({err.reason} at byte {err.start}); "
                                "convert the file to UTF-8", n) from None
            parts = line.split(maxsplit=1)
            if not parts:
                raise DataError(path, "empty line (remove it)", n)
            if len(parts) == 1 or not parts[1].strip():
                raise DataError(path, f"empty transcript for utterance '{parts[0]}' "
                                "(remove the utterance or give it text)", n)
            yield n, parts[0], parts[1].strip()


@dataclass
class UnknownReport:
    """Unknown characters of one text file: counts and the first line of each."""

    path: str
    num_lines: int = 0
    counts: Counter = field(default_factory=Counter)
    first_line: dict[str, int] = field(default_factory=dict)
    no_known: list[int] = field(default_factory=list)  # lines whose transcript is all unknown

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, chars: list[str], line: int) -> None:
        self.counts.update(chars)
        for c in chars:
            self.first_line.setdefault(c, line)

    def __str__(self) -> str:
        if not self.counts:
            return f"no unknown characters in {self.path} ({self.num_lines} lines)"
        order = sorted(self.counts, key=lambda c: (-self.counts[c], self.first_line[c]))
        items = ", ".join(f"{c!r} x{self.counts[c]} (first at line {self.first_line[c]})" for c in order)
        first = min(self.first_line.values())
        out = (f"{self.total} unknown characters in {self.path} (read as <unk>; first at "
               f"{self.path}:{first}): {items}")
        if self.no_known:
            out += (f"; {len(self.no_known)} transcript(s) with no known character (first at "
                    f"{self.path}:{self.no_known[0]})")
        return out


def encode_text_file(tokenizer: Tokenizer, path: str | os.PathLike,
                     strict: bool = False) -> tuple[dict[str, list[int]], UnknownReport]:
    """Encode every transcript of ``path``; return ``{utt: ids}`` and the unknown-character report.

    With ``strict``, any unknown character raises DataError at the line of the first one.
    """
    report = UnknownReport(str(path))
    encoded: dict[str, list[int]] = {}
    for n, utt, text in read_text(path):
        report.num_lines = n
        if utt in encoded:
            raise DataError(path, f"duplicate utterance id '{utt}'", n)
        unknown = tokenizer.unknown_chars(text)
        if unknown:
            report.add(unknown, n)
            if len(unknown) == sum(not c.isspace() for c in text):
                report.no_known.append(n)
        encoded[utt] = tokenizer.encode(text)
    if strict and report.counts:
        first = min(report.first_line, key=report.first_line.get)
        raise DataError(path, f"unknown character {first!r} (U+{ord(first):04X}) is not in the "
                        f"{tokenizer.token_type} inventory; normalise the text (chain.text.normalize) "
                        f"or add the character to the units; {report}", report.first_line[first])
    return encoded, report


def check_text_file(tokenizer: Tokenizer, path: str | os.PathLike, strict: bool = False) -> UnknownReport:
    """Check a Kaldi text file before it is used: DataError (file:line) on an empty
    transcript, or with ``strict`` on an unknown character; otherwise log the
    :class:`UnknownReport` (a warning if anything is unknown) and return it."""
    if not os.path.isfile(path):
        raise DataError(path, "no such file (expected a Kaldi text file: <utt> <transcript> per line)")
    report = encode_text_file(tokenizer, path, strict)[1]
    (logger.warning if report.counts else logger.info)("%s", report)
    return report
