"""ZeroSpeech 2019 files and the bitrate: ABX ``.item`` files, the submission layout.

- ``.item`` files (the official ``byCtxt_acSpkr`` task's items, and ours built from phone
  alignments): a header ``#file onset offset #phone prev-phone next-phone speaker``, then
  one item per line. The first column after the second ``#`` is the phone; a column named
  ``speaker`` or ``talker`` (else the last) the speaker; the others form the context.
- The submission: ``<dir>/english/test/<utt>.txt`` with one line per unit, its vector as
  space-separated numbers, and ``<dir>/metadata.yaml`` describing the system.
- Bitrate (as the 2019 evaluation of bootphon/zerospeech2020): ``(N / D) * H`` bits/s over a whole test set, with ``N``
  the number of units (lines), ``D`` the total duration in seconds and ``H`` the entropy
  in bits of the distribution of distinct unit vectors (a line is a symbol).
- Speaker information (not part of the challenge's evaluation): ``I(U; S) / H(S)`` of the
  same symbols and the speaker of each utterance, 0 for units whose distribution is the
  same for every speaker, 1 for units that tell the speaker; like the bitrate, it means
  something only for discrete units (every frame of a raw feature is a symbol of its own).
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import yaml

from chain.fileio import atomic_write
from chain.metrics.abx import Item

SPEAKER_COLUMNS = ("speaker", "talker")


def read_item_file(path: str | os.PathLike) -> list[Item]:
    """Items of an ABX ``.item`` file; a malformed line is an error naming ``path:line``."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("#"):
        raise ValueError(f"{path}:1: expected a header like '#file onset offset #phone prev-phone "
                         "next-phone speaker'")
    parts = lines[0][1:].split("#")
    if len(parts) != 2 or len(parts[0].split()) != 3 or len(parts[1].split()) < 2:
        raise ValueError(f"{path}:1: the header needs '#file onset offset' then '#phone ... speaker': "
                         f"got '{lines[0]}'")
    labels = parts[1].split()
    spk = next((labels.index(c) for c in SPEAKER_COLUMNS if c in labels), len(labels) - 1)
    if spk == 0:
        raise ValueError(f"{path}:1: the first label column is the phone, not the speaker")
    context_cols = [k for k in range(1, len(labels)) if k != spk]
    items = []
    for n, line in enumerate(lines[1:], 2):
        cols = line.split()
        if not cols:
            continue
        if len(cols) != 3 + len(labels):
            raise ValueError(f"{path}:{n}: expected {3 + len(labels)} columns: got {len(cols)}")
        try:
            onset, offset = float(cols[1]), float(cols[2])
        except ValueError:
            raise ValueError(f"{path}:{n}: onset and offset must be numbers: got '{cols[1]}' '{cols[2]}'") from None
        lab = cols[3:]
        items.append(Item(cols[0], onset, offset, lab[0], "_".join(lab[k] for k in context_cols), lab[spk]))
    return items


def write_item_file(path: str | os.PathLike, items: Iterable[Item]) -> None:
    """Write triphone items (context ``prev_next``) as a ``.item`` file (atomically)."""
    with atomic_write(path) as f:
        f.write("#file onset offset #phone prev-phone next-phone speaker\n")
        for it in items:
            prev, _, nxt = it.context.partition("_")
            f.write(f"{it.file} {it.onset:.4f} {it.offset:.4f} {it.phone} {prev} {nxt} {it.speaker}\n")


def items_from_ctm(ctm: str | os.PathLike, utt2spk: Mapping[str, str], *,
                   skip: Iterable[str] = ("_", "sil", "SIL", "sp")) -> list[Item]:
    """Triphone items from a Kaldi CTM of phone alignments (``utt channel start dur phone``):
    each phone with a neighbour on both sides, none of them in ``skip`` (pauses), in the
    utterances of ``utt2spk``."""
    phones: dict[str, list[tuple[float, float, str]]] = {}
    with open(ctm, encoding="utf-8") as f:
        for line in f:
            cols = line.split()
            if len(cols) < 5 or line.startswith(";;") or cols[0] not in utt2spk:
                continue
            start, dur = float(cols[2]), float(cols[3])
            phones.setdefault(cols[0], []).append((start, start + dur, cols[4]))
    skip = set(skip)
    items = []
    for utt in sorted(phones):
        seq = sorted(phones[utt])
        for (_, _, prev), (start, end, phone), (_, _, nxt) in zip(seq, seq[1:], seq[2:]):
            if not {prev, phone, nxt} & skip:
                items.append(Item(utt, start, end, phone, f"{prev}_{nxt}", utt2spk[utt]))
    return items


def write_submission(out_dir: str | os.PathLike, units: Mapping[str, np.ndarray], metadata: Mapping,
                     language: str = "english") -> Path:
    """Write units ``utt -> (T, D)`` as ``out_dir/<language>/test/<utt>.txt`` and
    ``out_dir/metadata.yaml``; integers are written as such, other numbers with 6 significant
    digits. Returns the test dir."""
    test_dir = Path(out_dir) / language / "test"
    test_dir.mkdir(parents=True, exist_ok=True)
    for utt, mat in units.items():
        mat = np.asarray(mat)
        if mat.ndim != 2 or not len(mat):
            raise ValueError(f"units of {utt}: expected a non-empty (T, D) matrix: got shape {mat.shape}")
        fmt = "%d" if np.issubdtype(mat.dtype, np.integer) else "%.6g"
        with atomic_write(test_dir / f"{utt}.txt") as f:
            np.savetxt(f, mat, fmt=fmt, delimiter=" ")
    with atomic_write(Path(out_dir) / "metadata.yaml") as f:
        yaml.safe_dump(dict(metadata), f, sort_keys=False)
    return test_dir


def read_submission(test_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """``utt -> (T, D)`` of every ``<utt>.txt`` in a submission's test dir."""
    out = {}
    for path in sorted(Path(test_dir).glob("*.txt")):
        mat = np.loadtxt(path, ndmin=2)
        if not len(mat):
            raise ValueError(f"{path}: empty (every file needs at least one line)")
        out[path.stem] = mat
    return out


def entropy_bits(counts: Iterable[int]) -> float:
    """Entropy in bits of the distribution given by symbol counts."""
    counts = np.asarray(list(counts), dtype=np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: one symbol gives 0.0, not -0.0


def _symbols(seq: np.ndarray) -> list[bytes]:
    """The symbols of a unit sequence ``(T, D)`` (a row a symbol) or ``(T,)`` (an id a symbol)."""
    seq = np.asarray(seq)
    return [np.ascontiguousarray(r).tobytes() for r in seq.reshape(len(seq), -1)]


def bitrate(units: Iterable[np.ndarray], total_duration: float) -> float:
    """Bits per second ``(N / D) * H`` of unit sequences (each ``(T, D)``, a row a symbol; or
    ``(T,)`` of symbol ids) spanning ``total_duration`` seconds."""
    if total_duration <= 0:
        raise ValueError(f"bitrate: the total duration must be positive: got {total_duration}")
    counts: Counter = Counter()
    for seq in units:
        counts.update(_symbols(seq))
    n = sum(counts.values())
    return n * entropy_bits(counts.values()) / total_duration if n else 0.0


def speaker_information(units: Mapping[str, np.ndarray], utt2spk: Mapping[str, str]) -> float:
    """``I(U; S) / H(S) = (H(U) + H(S) - H(U, S)) / H(S)`` over every unit of ``units``
    (utterance -> sequence as in :func:`bitrate`), ``S`` the speaker of its utterance; 0 when
    there is one speaker."""
    missing = sorted(set(units) - set(utt2spk))
    if missing:
        raise ValueError(f"speaker information: no speaker for {len(missing)} utterances, e.g. {missing[0]}")
    joint: Counter = Counter()
    for utt, seq in units.items():
        joint.update((sym, utt2spk[utt]) for sym in _symbols(seq))
    sym_counts, spk_counts = Counter(), Counter()
    for (sym, spk), n in joint.items():
        sym_counts[sym] += n
        spk_counts[spk] += n
    h_spk = entropy_bits(spk_counts.values())
    if h_spk == 0.0:
        return 0.0
    mutual = entropy_bits(sym_counts.values()) + h_spk - entropy_bits(joint.values())
    return min(max(mutual / h_spk, 0.0), 1.0)
