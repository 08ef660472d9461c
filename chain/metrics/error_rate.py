"""Character and word error rates (the papers' CER and WER) by Levenshtein distance.

A symbol written ``<name>`` in a transcript (WSJ's ``<noise>``) is one unit of the CER,
as it is one token of the character inventory. Language tags (``<en>``, ``<ja>``, ``<zh>``
of :mod:`chain.text.langtags`) are not characters: they are removed before scoring, and
:mod:`chain.metrics.lid` scores them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import editdistance

from chain.text.langtags import strip

_UNIT = re.compile(r"<[^<>\s]+>|.", re.DOTALL)


def chars(text: str) -> list[str]:
    """Characters of a transcript, the space included (written ``<spc>`` in units.txt);
    ``<noise>`` and other ``<name>`` symbols count as one character each; language tags none."""
    return _UNIT.findall(" ".join(strip(text).split()))


def words(text: str) -> list[str]:
    return strip(text).split()


@dataclass
class ErrorCounts:
    """Edit operations summed over utterances against the reference length."""

    errors: int = 0
    ref_len: int = 0
    utts: int = 0
    utts_wrong: int = 0

    def add(self, ref: list[str], hyp: list[str]) -> int:
        err = editdistance.eval(ref, hyp)
        self.errors += err
        self.ref_len += len(ref)
        self.utts += 1
        self.utts_wrong += int(err > 0)
        return err

    @property
    def rate(self) -> float:
        """Errors per reference token, in percent."""
        return 100.0 * self.errors / max(self.ref_len, 1)


@dataclass
class Score:
    """CER and WER of a set of hypotheses; ``per_utt`` holds (utt, char errors, word errors)."""

    cer: ErrorCounts = field(default_factory=ErrorCounts)
    wer: ErrorCounts = field(default_factory=ErrorCounts)
    per_utt: list[tuple[str, int, int]] = field(default_factory=list)


def score(refs: dict[str, str], hyps: dict[str, str]) -> Score:
    """Score ``hyps`` against ``refs`` (both utt -> text). Every reference needs a hypothesis."""
    missing = sorted(set(refs) - set(hyps))
    if missing:
        raise ValueError(f"{len(missing)} of {len(refs)} references have no hypothesis, "
                         f"e.g. '{missing[0]}' (did decoding finish?)")
    result = Score()
    for utt in sorted(refs, key=str.encode):
        ref, hyp = refs[utt], hyps[utt]
        c = result.cer.add(chars(ref), chars(hyp))
        w = result.wer.add(words(ref), words(hyp))
        result.per_utt.append((utt, c, w))
    return result
