"""Language identification accuracy of an ASR+LID (the ``[char, lang]`` outputs of slides 001).

Transcripts carry language tags (:mod:`chain.text.langtags`): every character belongs to
the tag in force. Two figures:

- **per token**: the reference characters (spaces excluded) are aligned to the
  hypothesis characters by Levenshtein distance; a reference character counts as
  correct when it is matched or substituted by a hypothesis character of the same
  language. Deleted characters count as wrong, inserted ones do not count.
- **per utterance**: the share of utterances whose sequence of languages (runs merged,
  e.g. ``ja en ja``) equals the reference's.
"""
from __future__ import annotations

from dataclasses import dataclass

from chain.text.langtags import char_langs, lang_sequence


def align(ref: list[str], hyp: list[str]) -> list[tuple[int | None, int | None]]:
    """A minimum-edit alignment: pairs (ref index or None, hyp index or None) in order."""
    n, m = len(ref), len(hyp)
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dist[i][0] = i
    for j in range(m + 1):
        dist[0][j] = j
    for i in range(1, n + 1):
        row, prev = dist[i], dist[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j - 1] + (ref[i - 1] != hyp[j - 1]), prev[j] + 1, row[j - 1] + 1)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and dist[i][j] == dist[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and dist[i][j] == dist[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


@dataclass
class LidScore:
    """Counts behind the two LID accuracies."""

    tokens_correct: int = 0
    tokens: int = 0
    utts_correct: int = 0
    utts: int = 0

    @property
    def token_accuracy(self) -> float:
        return 100.0 * self.tokens_correct / max(self.tokens, 1)

    @property
    def utt_accuracy(self) -> float:
        return 100.0 * self.utts_correct / max(self.utts, 1)

    def add(self, ref: str, hyp: str) -> None:
        """Score one tagged hypothesis against its tagged reference."""
        ref_chars, ref_langs = char_langs(ref)
        hyp_chars, hyp_langs = char_langs(hyp)
        for i, j in align(ref_chars, hyp_chars):
            if i is None or ref_chars[i].isspace():
                continue
            self.tokens += 1
            self.tokens_correct += int(j is not None and hyp_langs[j] == ref_langs[i])
        self.utts += 1
        self.utts_correct += int(lang_sequence(ref) == lang_sequence(hyp))

    def __str__(self) -> str:
        return (f"LID token accuracy {self.token_accuracy:.2f}% ({self.tokens_correct} / {self.tokens} chars)  "
                f"LID utterance accuracy {self.utt_accuracy:.2f}% ({self.utts_correct} / {self.utts})")


def score_lid(refs: dict[str, str], hyps: dict[str, str]) -> LidScore:
    """LID accuracies of ``hyps`` against ``refs`` (utt -> tagged text); every ref needs a hyp."""
    result = LidScore()
    for utt, ref in refs.items():
        if utt not in hyps:
            raise ValueError(f"reference '{utt}' has no hypothesis (did decoding finish?)")
        result.add(ref, hyps[utt])
    return result
