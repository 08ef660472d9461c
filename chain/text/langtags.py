"""Transcripts with language identity: language tags in the text (code-switching, slides 001).

The multilingual speech chain ("Zero-shot code-switching ASR and TTS with the multilingual
machine speech chain", slides 001) has the ASR emit ``[char, lang]`` at every output step.
Here the language is carried by tag tokens in the character sequence: a tag ``<en>``,
``<ja>`` or ``<zh>`` opens each run of one language, and every character belongs to the
tag in force::

    <ja>これは<en>still water<ja>ですか？

So the ASR predicts a character and its language per step with its one softmax (a tag is
emitted once per switch and costs one step), the TTS reads the same token sequence to
know which language it speaks, and neither model needs a second output head.

Scripts constrain the tags: Latin letters are English, kana Japanese, Han characters
Chinese or Japanese (kanji); spaces, punctuation and digits may appear in any language.
A character whose script does not belong to its tag's language (``<en>stillです``, a
word that mixes scripts) is an error naming its column.
"""
from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

LANGS = ("en", "ja", "zh")
TAGS = tuple(f"<{lang}>" for lang in LANGS)
SCRIPT_LANGS = {"latin": ("en",), "kana": ("ja",), "han": ("zh", "ja")}
_TAG = re.compile(r"<([^<>\s]+)>")


class Segment(NamedTuple):
    """A run of text in one language."""

    lang: str
    text: str


def script(char: str) -> str:
    """``latin``, ``kana``, ``han`` or ``other`` (space, punctuation, digits, symbols)."""
    if "a" <= char.lower() <= "z":
        return "latin"
    if "\u3041" <= char <= "\u30ff" and char not in "\u30fb\u30a0":  # hiragana, katakana, ー
        return "kana"
    if "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or char == "\u3005":
        return "han"
    if unicodedata.category(char).startswith("L"):
        name = unicodedata.name(char, "")
        return "latin" if name.startswith("LATIN") else f"letter:{name.split(' ')[0].lower()}"
    return "other"


def check_segment(segment: Segment) -> None:
    """ValueError naming the first character whose script is not of ``segment.lang``."""
    if segment.lang not in LANGS:
        raise ValueError(f"language tag <{segment.lang}>: expected one of {' '.join(TAGS)}")
    for i, char in enumerate(segment.text):
        kind = script(char)
        if kind != "other" and segment.lang not in SCRIPT_LANGS.get(kind, ()):
            raise ValueError(f"mixed scripts: {char!r} ({kind}) at character {i + 1} of the "
                             f"<{segment.lang}> run {segment.text!r}; tag each language's run")


def join(segments: list[Segment]) -> str:
    """Tagged text of ``segments``; a tag is written where the language changes."""
    out, current = [], None
    for seg in segments:
        check_segment(seg)
        if seg.lang != current:
            out.append(f"<{seg.lang}>")
            current = seg.lang
        out.append(seg.text)
    return "".join(out)


def parse(text: str) -> list[Segment]:
    """The segments of tagged ``text``; ValueError if it does not open with a tag, a tag is
    unknown, a run is empty or mixes scripts (see :func:`check_segment`)."""
    parts = _TAG.split(text)  # [before the first tag, lang, run, lang, run, ...]
    if parts[0].strip():
        raise ValueError(f"text before the first language tag: {parts[0]!r} "
                         f"(open the transcript with one of {' '.join(TAGS)})")
    segments = []
    for lang, run in zip(parts[1::2], parts[2::2]):
        if not run:
            raise ValueError(f"empty <{lang}> run in {text!r}")
        segments.append(Segment(lang, run))
        check_segment(segments[-1])
    if not segments:
        raise ValueError(f"no language tag in {text!r} (expected one of {' '.join(TAGS)})")
    return segments


def strip(text: str) -> str:
    """``text`` without its language tags (other ``<name>`` symbols are kept)."""
    return re.sub("|".join(map(re.escape, TAGS)), "", text)


def char_langs(text: str) -> tuple[list[str], list[str | None]]:
    """Characters of tagged ``text`` (tags removed) and the language each belongs to (None
    before the first tag, which only a malformed hypothesis has)."""
    chars, langs, current = [], [], None
    for m in re.finditer(r"<[^<>\s]+>|.", text, re.DOTALL):
        token = m.group()
        if token in TAGS:
            current = token[1:-1]
        else:
            chars.append(token)
            langs.append(current)
    return chars, langs


def lang_sequence(text: str) -> list[str]:
    """The languages of tagged ``text`` in order, repeats of a language in a row merged."""
    out: list[str] = []
    for lang in _TAG.findall(text):
        if f"<{lang}>" in TAGS and (not out or out[-1] != lang):
            out.append(lang)
    return out


def tag_by_script(text: str, langs: list[str]) -> str:
    """Tag plain ``text`` of an utterance whose languages are ``langs`` (e.g. ``["ja", "en"]``,
    the first the matrix language): each character's language is the one of ``langs`` its
    script belongs to; space, punctuation and digits stay with the run they are in.

    ValueError for a letter no language of ``langs`` writes, or a Han character with both
    Chinese and Japanese in ``langs``.
    """
    for lang in langs:
        if lang not in LANGS:
            raise ValueError(f"language '{lang}': expected one of {', '.join(LANGS)}")
    segments: list[list[str]] = []  # [lang, text]
    pending = ""  # 'other' characters before the first letter
    for i, char in enumerate(text):
        kind = script(char)
        if kind == "other":
            if segments:
                segments[-1][1] += char
            else:
                pending += char
            continue
        options = [lang for lang in langs if lang in SCRIPT_LANGS.get(kind, ())]
        if len(options) != 1:
            why = "none" if not options else "both"
            raise ValueError(f"{char!r} ({kind}) at character {i + 1}: {why} of the languages "
                             f"{'/'.join(langs)} write it")
        if segments and segments[-1][0] == options[0]:
            segments[-1][1] += char
        else:
            # A space between two runs goes with the run it ends (the matrix keeps its spacing).
            segments.append([options[0], pending + char if not segments else char])
            pending = ""
    if not segments:
        return f"<{langs[0]}>{pending}" if pending.strip() else ""
    return join([Segment(lang, run) for lang, run in segments])
