"""Audio input for Kaldi data dirs: ``wav.scp`` values and ``segments``.

A ``wav.scp`` value is either a sound file path or a shell command ending in ``|``
whose stdout is a sound file stream (``sox in.flac -t wav - |``). Commands run under
``bash -o pipefail -c``, so a failure anywhere in the pipeline is caught. A WAV
stream whose header says "unknown length" (what ``sox``/``ffmpeg`` write to a pipe)
is accepted.

Samples come back as float32 mono in [-1, 1] at the target rate:
- a file at another rate is resampled (``librosa.resample``, soxr HQ) and counted;
- a multi-channel file gives its channel 0 (as Kaldi's ``compute-fbank-feats
  --channel=-1`` does) and is counted;
each reader then emits one warning for the whole job ("resampled 12 of 40 files
from 22050 Hz to 16000 Hz"). With ``strict=True`` either conversion is an error.

Bad input raises :class:`~chain.data.datadir.DataError` naming the ``wav.scp``
path and line (or the ``segments`` line) and the utterance: missing, empty or
unreadable file, a WAV file or stream whose header announces more samples than
follow it (truncated), failing command (exit status and its last stderr line), zero or
non-finite samples, segment outside its recording. (Kaldi's ``file.ark:offset``
wav entries are not supported: use a ``wav-copy ... - |`` command.)
"""
from __future__ import annotations

import io
import logging
import os
import struct
import subprocess
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np
import soundfile

from chain.data.datadir import DataError, read_kv

logger = logging.getLogger(__name__)

# A segment may end this far (seconds) past its recording and is then cut at the end,
# as Kaldi's extract-segments --max-overshoot does; further is an error.
MAX_OVERSHOOT = 0.5


class AudioError(Exception):
    """A problem with one audio source; the caller adds file and line."""


# Data chunk sizes that programs writing WAV to a pipe leave for "unknown length" (they
# cannot seek back): 0, 0xFFFFFFFF, or sox's 0x7FFFF000 and its neighbours.
_UNKNOWN_SIZE_MIN = 0x7FFF0000


def _riff_data_chunk(f: BinaryIO) -> tuple[int, int] | None:
    """``(offset, declared size)`` of the ``data`` chunk of a RIFF/WAVE file object, or
    None when it is not a WAV file (or has no data chunk)."""
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while True:
        f.seek(pos)
        chunk = f.read(8)
        if len(chunk) < 8:
            return None
        size = struct.unpack("<I", chunk[4:])[0]
        if chunk[:4] == b"data":
            return pos, size
        pos += 8 + size + (size & 1)


def _truncation(declared: int, present: int) -> str | None:
    """Why the samples are cut (the header announces more bytes than follow it), or None."""
    if declared <= present:
        return None
    return f"its header announces {declared} bytes of samples, {present} are there"


def _fix_riff_stream(data: bytes) -> bytes:
    """Set the RIFF and data chunk sizes of a WAV stream to the bytes actually there.

    Programs writing WAV to a pipe cannot seek back, so they leave 0 or 0xFFFFFFFF; a
    real size larger than the bytes that follow means a truncated stream (AudioError).
    """
    found = _riff_data_chunk(io.BytesIO(data))
    if found is None:
        return data
    pos, declared = found
    present = len(data) - pos - 8
    why = _truncation(declared, present)
    if why and 0 < declared < _UNKNOWN_SIZE_MIN:
        raise AudioError(f"truncated output of the command: {why}")
    buf = bytearray(data)
    struct.pack_into("<I", buf, 4, min(len(buf) - 8, 0xFFFFFFFF))
    struct.pack_into("<I", buf, pos + 4, present)
    return bytes(buf)


def _check_wav_file(path: str) -> None:
    """AudioError if the WAV file ``path`` holds fewer sample bytes than its header says
    (libsndfile would read the part that is there without a word)."""
    with open(path, "rb") as f:
        found = _riff_data_chunk(f)
    if found is not None:
        pos, declared = found
        why = _truncation(declared, os.path.getsize(path) - pos - 8)
        if why:
            raise AudioError(f"truncated file '{path}': {why} (a copy cut short? copy or "
                             "create it again)")


def _run_pipe(command: str) -> bytes:
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        err = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        last = f": {err[-1].strip()[:200]}" if err else ""
        raise AudioError(f"command '{command}' failed with exit status {proc.returncode}{last}")
    if not proc.stdout:
        raise AudioError(f"command '{command}' wrote nothing to stdout (expected a wav stream)")
    return _fix_riff_stream(proc.stdout)


def load_audio(value: str) -> tuple[np.ndarray, int]:
    """Read one ``wav.scp`` value: ``(samples (N, C) float32 in [-1, 1], rate)``.

    Raises AudioError with a one-line reason.
    """
    value = value.strip()
    if value.endswith("|"):
        source: str | io.BytesIO = io.BytesIO(_run_pipe(value[:-1].strip()))
        what = "output of the command"
    else:
        if not os.path.isfile(value):
            raise AudioError(f"no such file '{value}'")
        if os.path.getsize(value) == 0:
            raise AudioError(f"empty file '{value}' (0 bytes)")
        _check_wav_file(value)
        source, what = value, f"file '{value}'"
    try:
        samples, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        reason = str(e).splitlines()[-1] if str(e) else type(e).__name__
        raise AudioError(f"cannot read the {what} as audio ({reason})") from None
    if samples.shape[0] == 0:
        raise AudioError(f"the {what} has zero samples")
    if not np.isfinite(samples).all():
        raise AudioError(f"the {what} has NaN or infinite samples")
    return samples, int(rate)


class AudioReader:
    """Reads ``wav.scp`` values at rate ``fs``, counting the conversions it makes."""

    def __init__(self, fs: int = 16000, strict: bool = False):
        self.fs, self.strict = int(fs), strict
        self.n_files = 0
        self.resampled: Counter[int] = Counter()  # source rate -> files
        self.multichannel: Counter[int] = Counter()  # channel count -> files

    def read(self, value: str) -> np.ndarray:
        """Samples of one value, float32 mono at ``fs``; AudioError on bad input."""
        return self.convert(*load_audio(value))

    def convert(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """Samples (N, C) at ``rate`` -> float32 mono (N',) at ``fs``, as :meth:`read` does."""
        self.n_files += 1
        if samples.shape[1] > 1:
            if self.strict:
                raise AudioError(f"{samples.shape[1]} channels, expected mono "
                                 "(pass --strict false to take channel 0)")
            self.multichannel[samples.shape[1]] += 1
        mono = np.ascontiguousarray(samples[:, 0])
        if rate != self.fs:
            if self.strict:
                raise AudioError(f"sample rate {rate} Hz, expected {self.fs} Hz "
                                 "(resample the data, or pass --strict false to resample on the fly)")
            import librosa  # slow import: only when some file needs it

            mono = librosa.resample(mono, orig_sr=rate, target_sr=self.fs, res_type="soxr_hq")
            mono = mono.astype(np.float32, copy=False)
            self.resampled[rate] += 1
        return mono

    def warnings(self) -> list[str]:
        """One line per kind of conversion made so far (empty if none)."""
        out = []
        for rate, n in sorted(self.resampled.items()):
            out.append(f"resampled {n} of {self.n_files} files from {rate} Hz to {self.fs} Hz")
        for chans, n in sorted(self.multichannel.items()):
            out.append(f"took channel 0 of {n} of {self.n_files} files with {chans} channels")
        return out


@dataclass(frozen=True)
class _Entry:
    utt: str
    rec: str
    start: float = 0.0  # seconds
    end: float | None = None  # None: to the end of the recording
    seg_line: int | None = None  # line in segments


def _parse_segments(path: str, wav_scp: str, recordings: dict) -> list[_Entry]:
    entries = []
    for n, (utt, value) in enumerate(read_kv(path).items(), 1):  # read_kv forbids blank lines
        parts = value.split()
        if len(parts) != 3:
            raise DataError(path, f"'{utt} {value}': expected '<utt> <recording> <start> <end>'", n)
        rec = parts[0]
        try:
            start, end = float(parts[1]), float(parts[2])
        except ValueError:
            raise DataError(path, f"utterance '{utt}': times '{parts[1]} {parts[2]}' "
                            "are not numbers (seconds)", n) from None
        if rec not in recordings:
            raise DataError(path, f"utterance '{utt}': recording '{rec}' is not in {wav_scp}", n)
        if start < 0 or (end != -1 and end <= start):
            raise DataError(path, f"utterance '{utt}': bad times {start} {end} "
                            "(need 0 <= start < end, or end -1 for the end of the recording)", n)
        entries.append(_Entry(utt, rec, start, None if end == -1 else end, n))
    return entries


class WavScpReader:
    """Iterate ``(utt, samples)`` over a ``wav.scp`` (+ optional ``segments``).

    Without segments the utterances are the ``wav.scp`` keys; with segments they are
    the ``segments`` keys and each recording is read once for a run of its segments.
    After the last utterance the reader logs one warning per kind of conversion.

    >>> for utt, x in WavScpReader("data/train/wav.scp", fs=16000):
    ...     pass
    """

    def __init__(self, wav_scp: str | os.PathLike, segments: str | os.PathLike | None = None,
                 *, fs: int = 16000, strict: bool = False):
        self.wav_scp = str(wav_scp)
        if not os.path.isfile(self.wav_scp):
            raise DataError(self.wav_scp, "no such file (expected a Kaldi wav.scp)")
        # rec -> (value, line); read_kv forbids blank lines, so entry n is on line n
        self._wav = {rec: (value, n) for n, (rec, value) in enumerate(read_kv(self.wav_scp).items(), 1)}
        if segments is not None:
            self.segments = str(segments)
            if not os.path.isfile(self.segments):
                raise DataError(self.segments, "no such file (expected a Kaldi segments file)")
            self._entries = _parse_segments(self.segments, self.wav_scp, self._wav)
        else:
            self.segments = None
            self._entries = [_Entry(rec, rec) for rec in self._wav]
        self.audio = AudioReader(fs, strict)

    def __len__(self) -> int:
        return len(self._entries)

    def _read_recording(self, entry: _Entry) -> np.ndarray:
        value, line = self._wav[entry.rec]
        try:
            return self.audio.read(value)
        except AudioError as e:
            who = f"utterance '{entry.utt}'" if entry.utt == entry.rec else \
                f"recording '{entry.rec}' of utterance '{entry.utt}'"
            raise DataError(self.wav_scp, f"{who}: {e}", line) from None

    def _cut(self, entry: _Entry, rec: np.ndarray) -> np.ndarray:
        fs, dur = self.audio.fs, len(rec) / self.audio.fs
        end = dur if entry.end is None else entry.end
        if entry.start >= dur or end > dur + MAX_OVERSHOOT:
            _, line = self._wav[entry.rec]
            raise DataError(self.segments, f"utterance '{entry.utt}': segment {entry.start}-{end} s "
                            f"is outside recording '{entry.rec}' ({dur:.3f} s, "
                            f"{self.wav_scp}:{line})", entry.seg_line)
        return rec[int(round(entry.start * fs)):min(len(rec), int(round(end * fs)))]

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        cached_rec, cached = None, None
        for entry in self._entries:
            if entry.rec != cached_rec:
                cached_rec, cached = entry.rec, self._read_recording(entry)
            samples = cached if self.segments is None else self._cut(entry, cached)
            if len(samples) == 0:
                raise DataError(self.segments or self.wav_scp,
                                f"utterance '{entry.utt}': zero samples", entry.seg_line)
            yield entry.utt, samples
        for line in self.audio.warnings():
            logger.warning("%s: %s", self.wav_scp, line)
