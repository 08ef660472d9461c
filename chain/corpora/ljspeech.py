"""LJSpeech-1.1: one speaker, 13,100 clips of 22.05 kHz speech (paper section III-D1).

Download: https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2 (2.6 GB; the
recipe's ``local/data.sh`` fetches and unpacks it). The unpacked corpus holds
``LJSpeech-1.1/metadata.csv`` and ``LJSpeech-1.1/wavs/<id>.wav``.

``metadata.csv`` has one clip per line, ``id|raw text|normalised text``, separated
by ``|``. It is *not* CSV-quoted: fields contain ``"`` characters, so the lines are
split on ``|`` by hand. The normalised third column (numbers and abbreviations
spelled out) is used, the raw second one only where the third is empty; both go
through :func:`chain.text.normalize.normalize`.

:func:`prepare` writes the chain's data dirs (docs/data.md): speaker ``LJ``,
utterance id = clip id (``LJ001-0001``), ``wav.scp`` with absolute paths (the wavs
are resampled to 16 kHz at feature extraction); shuffled 94% train / 3% dev / 3%
test, and train cut into paired 30%, speech-only 35% and text-only 35%.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from chain.data.datadir import DataDir, DataError
from chain.data.split import split_corpus, write_sets
from chain.text.normalize import normalize

URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
SPEAKER = "LJ"
_CLIP_ID = re.compile(r"LJ\d{3}-\d{4}")


def read_metadata(db_dir: str | os.PathLike) -> DataDir:
    """Parse ``db_dir/metadata.csv`` into one paired data dir (wav.scp, text, utt2spk).

    Raises DataError naming ``metadata.csv`` and the line for a line without three
    fields, a bad or repeated clip id, a clip without text, or a missing wav.
    """
    db_dir = Path(db_dir).resolve()
    metadata = db_dir / "metadata.csv"
    if not metadata.is_file():
        raise DataError(metadata, "no such file (--db-dir must be the unpacked LJSpeech-1.1 "
                        f"directory; download {URL})")
    wav_scp: dict[str, str] = {}
    text: dict[str, str] = {}
    with open(metadata, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(metadata, "not UTF-8 (is the download complete?)", n) from None
            fields = line.split("|")
            if len(fields) != 3:
                raise DataError(metadata, f"expected 3 fields 'id|raw text|normalised text', "
                                f"got {len(fields)}: {line[:80]!r}", n)
            utt, raw_text, norm_text = fields
            if not _CLIP_ID.fullmatch(utt):
                raise DataError(metadata, f"bad clip id {utt!r} (expected LJnnn-nnnn)", n)
            if utt in wav_scp:
                raise DataError(metadata, f"clip id {utt} appears twice", n)
            sentence = normalize(norm_text) or normalize(raw_text)
            if not sentence:
                raise DataError(metadata, f"no text for clip {utt} (both text fields are empty)", n)
            wav = db_dir / "wavs" / f"{utt}.wav"
            if not wav.is_file():
                raise DataError(metadata, f"no such wav file {wav} (is the download complete?)", n)
            if any(c.isspace() for c in str(wav)):
                raise DataError(metadata, f"wav path {wav} contains whitespace, which wav.scp "
                                "cannot hold: move the corpus to a path without spaces", n)
            wav_scp[utt] = str(wav)
            text[utt] = sentence
    if not wav_scp:
        raise DataError(metadata, "no clips listed")
    return DataDir(utt2spk=dict.fromkeys(wav_scp, SPEAKER), wav_scp=wav_scp, text=text)


def prepare(db_dir: str | os.PathLike, out_dir: str | os.PathLike, *, seed: int = 0,
            dev: float = 0.03, test: float = 0.03, paired: float = 0.30,
            speech_only: float = 0.35) -> dict[str, DataDir]:
    """Write ``out_dir/{train_full,train_paired,train_speech_only,train_text_only,dev,test}``.

    The clips are cut by :func:`chain.data.split.split_corpus` with these fractions and
    ``seed``. Returns the data dirs by name. Every set must get at least one clip.
    """
    sets = split_corpus(read_metadata(db_dir), dev=dev, test=test, paired=paired,
                        speech_only=speech_only, seed=seed)
    write_sets(sets, out_dir)
    return sets
