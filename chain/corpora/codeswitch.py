"""The embedded code-switching corpus (egs/codeswitch, slides 001): English, Japanese and
Mandarin sentences and Japanese-English / Mandarin-English code-switched sentences from
:mod:`chain.corpora.codeswitch_grammar`, spoken by espeak-ng.

Each language has its own voices (English ``en-us``/``en-gb``, Japanese ``ja``, Mandarin
``cmn``; variants ``m1``, ``f1``, ``m2``, ... give the speakers). A code-switched
utterance is spoken by a bilingual speaker, the matrix voice and the English voice of the
same variant: it is synthesised segment by segment, each segment with its language's
voice (16 kHz), and the segments are joined (:func:`speak_segments`), as the SLT 2018
corpus joined the output of a Japanese and an English TTS engine.

Sets (docs/data.md, "Code-switching"): ``train_paired`` (monolingual En + Ja + Zh, also
per language as ``train_paired_<lang>``), ``train_speech_only`` (Ja-En CS, no text),
``train_text_only`` (other Ja-En CS sentences, no wav), ``train_full`` (all of them
paired: the upper bound), ``dev`` (all three languages and Ja-En CS), ``test_en``,
``test_ja``, ``test_zh``, ``test_cs`` (Ja-En) and ``test_zhen`` (Mandarin-English CS,
which no training set contains: the zero-shot test). With ``num_jazh`` > 0 the two
unpaired sets also hold Japanese-Mandarin CS (the ASRU 2019 multilingual chain's
unsupervised Ja-Zh data): drawn after every other set, so the other sentences stay the same
(their audio may move by a few samples: espeak-ng carries a little state from call to call).
With ``num_text_extra`` > 0, ``train_text_only`` also holds that many more Ja-En sentences,
drawn last and never spoken (unpaired text is cheap where speech is not; ``train_full``,
the upper bound, does not hold them).
Every dir has ``utt2lang`` (``en``, ``ja``, ``zh``, ``ja-en``, ``ja-zh``, ``zh-en``);
transcripts carry language tags (:mod:`chain.text.langtags`).
"""
from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import soundfile

from chain.corpora import codeswitch_grammar as grammar
from chain.corpora.espeak import SAMPLE_RATE, EspeakSynth
from chain.corpora.mini_espeak import VARIANT_ORDER
from chain.data.datadir import DataDir, DataError, combine, replace_dir, write_kv
from chain.fileio import atomic_write
from chain.text import langtags

log = logging.getLogger(__name__)

VOICES = {"en": ("en-us", "en-gb"), "ja": ("ja",), "zh": ("cmn",)}


def speaker_voices(lang: str, k: int) -> dict[str, str]:
    """Voices of speaker ``k`` (from 0) of ``lang`` (``en``, ``ja``, ``zh`` or ``ja-en``,
    ``zh-en``): language -> espeak-ng voice, one variant for all of a speaker's languages."""
    if not 0 <= k < len(VARIANT_ORDER):
        raise ValueError(f"speakers per language must be within 1..{len(VARIANT_ORDER)}: got {k + 1}")
    variant = VARIANT_ORDER[k]
    return {part: f"{VOICES[part][k % len(VOICES[part])]}+{variant}" for part in lang.split("-")}


def speak_segments(segments: list[langtags.Segment],
                   synths: dict[str, EspeakSynth]) -> tuple[np.ndarray, list[int]]:
    """Speak each segment with its language's voice and join them end to end: 16 kHz float32
    audio and the length of each segment in it (espeak-ng leaves only ~10-40 ms of silence
    around a segment, so the joins need no trimming and the audio is their sum).

    ValueError for kanji in a Japanese segment (espeak-ng reads kana only).
    """
    pieces = []
    for seg in segments:
        if seg.lang not in synths:
            raise ValueError(f"no voice for <{seg.lang}> (have {', '.join(sorted(synths))})")
        if seg.lang == "ja":
            kanji = [c for c in seg.text if langtags.script(c) == "han"]
            if kanji:
                raise ValueError(f"kanji {''.join(kanji)!r} in the Japanese run {seg.text!r}: the "
                                 "Japanese voice of espeak-ng reads kana only; write it in kana")
        pieces.append(synths[seg.lang].synth(seg.text)[0])
    return np.concatenate(pieces).astype(np.float32), [len(p) for p in pieces]


def speak_text_file(text_path: str | os.PathLike, utt2spk: dict[str, str],
                    spk2voices: dict[str, dict[str, str]], wav_dir: str | os.PathLike) -> dict[str, str]:
    """Speak every tagged transcript of the Kaldi ``text_path`` with its speaker's voices;
    write ``wav_dir/<spk>/<utt>.wav`` (16 kHz, 16 bit, atomically); return utt -> duration (s).
    Bad text (no tag, mixed scripts, kanji for the Japanese voice) is a DataError naming file:line."""
    from chain.text.textfile import read_text

    synths: dict[str, EspeakSynth] = {}
    durations = {}
    for n, utt, text in read_text(text_path):
        try:
            segments = langtags.parse(text)
            voices = spk2voices[utt2spk[utt]]
            for voice in voices.values():
                if voice not in synths:
                    synths[voice] = EspeakSynth(voice)
            audio, _ = speak_segments(segments, {lang: synths[v] for lang, v in voices.items()})
        except (ValueError, KeyError) as err:
            raise DataError(text_path, f"utterance '{utt}': {err}", n) from None
        path = Path(wav_dir) / utt2spk[utt] / f"{utt}.wav"
        with atomic_write(path, "wb") as f:
            soundfile.write(f, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
        durations[utt] = f"{len(audio) / SAMPLE_RATE:.4f}"
    return durations


# set name -> (kind of sentence, count option); see make_corpus
SET_KINDS = {"train_paired_en": "en", "train_paired_ja": "ja", "train_paired_zh": "zh",
             "train_speech_only": "ja-en", "train_text_only": "ja-en",
             "dev_en": "en", "dev_ja": "ja", "dev_zh": "zh", "dev_cs": "ja-en",
             "test_en": "en", "test_ja": "ja", "test_zh": "zh", "test_cs": "ja-en", "test_zhen": "zh-en",
             "train_speech_only_jazh": "ja-zh", "train_text_only_jazh": "ja-zh",  # drawn last: see make_corpus
             "train_text_only_extra": "ja-en"}  # never spoken
UNSPOKEN = ("train_text_only_extra",)


def make_corpus(out_dir: str | os.PathLike, wav_dir: str | os.PathLike, *, num_mono: int = 300,
                num_cs: int = 300, num_jazh: int = 0, num_text_extra: int = 0, num_dev: int = 20,
                num_test: int = 40, speakers: int = 4, seed: int = 0) -> dict[str, DataDir]:
    """Generate, speak and write the corpus; return the data dirs written.

    ``num_mono`` paired utterances per language, ``num_cs`` Ja-En CS utterances in each of
    speech-only and text-only, ``num_jazh`` Ja-Zh CS utterances added to each of them (drawn
    after every other set: the same seed gives the same other sentences whatever its value),
    ``num_text_extra`` Ja-En CS sentences added to text-only after those (text only: not spoken),
    ``num_dev`` per language and CS in dev, ``num_test`` in each test set; ``speakers``
    voices per language (and per CS pair), taken in turn.
    Writes ``out_dir/local/text`` (every spoken utterance, tagged: the file synthesis reads and
    names in its errors), ``local/spk2voices`` and ``local/chars.txt`` (the inventory).
    """
    optional = {"train_speech_only_jazh": num_jazh, "train_text_only_jazh": num_jazh,
                "train_text_only_extra": num_text_extra}
    counts = {name: optional[name] if name in optional else num_mono if name.startswith("train_paired")
              else num_cs if name.startswith("train") else num_dev if name.startswith("dev") else num_test
              for name in SET_KINDS}
    if min(optional.values()) < 0 or min(n for name, n in counts.items() if name not in optional) < 1 \
            or speakers < 1:
        raise ValueError(f"every set needs at least one utterance (the Ja-Zh and extra text-only ones none "
                         f"or more) and one speaker: got {counts}, {speakers} speakers")
    wav_dir = Path(wav_dir).resolve()
    if any(c.isspace() for c in str(wav_dir)):
        raise ValueError(f"--wav-dir must have no whitespace in its absolute path: got '{wav_dir}'")
    rng, seen = random.Random(seed), set()
    spk2voices: dict[str, dict[str, str]] = {}
    sets: dict[str, DataDir] = {}
    text_all, utt2spk_all = {}, {}
    for name, kind in SET_KINDS.items():
        if not counts[name]:
            continue
        tag = kind.replace("-", "")
        for k in range(speakers):
            spk2voices[f"{tag}{k + 1:02d}"] = speaker_voices(kind, k)
        utt2spk, text, utt2lang = {}, {}, {}
        for i, segments in enumerate(grammar.sentences(kind, counts[name], rng, seen)):
            spk = f"{tag}{i % speakers + 1:02d}"
            utt = f"{spk}-{name}-{i + 1:05d}"
            utt2spk[utt], text[utt], utt2lang[utt] = spk, langtags.join(segments), kind
        sets[name] = DataDir(utt2spk=utt2spk, text=text, extra={"utt2lang": utt2lang})
        if name not in UNSPOKEN:
            text_all.update(text)
            utt2spk_all.update(utt2spk)
    local = Path(out_dir) / "local"
    write_kv(local / "text", text_all)
    write_kv(local / "spk2voices", {spk: " ".join(f"{lang}={v}" for lang, v in voices.items())
                                    for spk, voices in spk2voices.items()})
    with atomic_write(local / "chars.txt") as f:
        f.write(grammar.charset() + "\n")
    log.info("speaking %d utterances of %d speakers", len(text_all), len(spk2voices))
    durations = speak_text_file(local / "text", utt2spk_all, spk2voices, wav_dir)
    for name, data in sets.items():
        if name in UNSPOKEN:
            continue
        data.wav_scp = {u: str(wav_dir / spk / f"{u}.wav") for u, spk in data.utt2spk.items()}
        data.extra["utt2dur"] = {u: durations[u] for u in data.utts}
    return _write_sets(sets, out_dir)


def _write_sets(parts: dict[str, DataDir], out_dir: str | os.PathLike) -> dict[str, DataDir]:
    """The recipe's sets from the parts made by :func:`make_corpus`, each written whole."""
    def union(*names: str) -> DataDir:
        return combine({name: parts[name] for name in names})

    def without(data: DataDir, what: str) -> DataDir:
        text_only = what == "wav"
        return DataDir(utt2spk=data.utt2spk, wav_scp=None if text_only else data.wav_scp,
                       text=None if what == "text" else data.text,
                       extra={"utt2lang": data.extra["utt2lang"]} if text_only else data.extra)

    unpaired = [name for name in parts
                if name.startswith(("train_speech_only", "train_text_only")) and name not in UNSPOKEN]
    paired = union("train_paired_en", "train_paired_ja", "train_paired_zh")
    sets = {"train_paired": paired,
            "train_speech_only": without(union(*(n for n in unpaired if "speech" in n)), "text"),
            "train_text_only": without(union(*(n for n in parts if n.startswith("train_text_only"))), "wav"),
            "train_full": union("train_paired_en", "train_paired_ja", "train_paired_zh", *unpaired),
            "dev": union("dev_en", "dev_ja", "dev_zh", "dev_cs"),
            **{name: parts[name] for name in parts if name.startswith(("train_paired_", "test_"))}}
    for name, data in sets.items():
        replace_dir(data, Path(out_dir) / name)
    return sets
