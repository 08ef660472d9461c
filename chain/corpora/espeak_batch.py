"""Many utterances through espeak-ng in parallel processes: resumable and reproducible.

espeak-ng carries a little synthesis state from one utterance to the next inside a
process (the phase of its pitch flutter, its gain control), so the samples of an
utterance depend slightly on what the process spoke before it. To give the same
bits for any ``nj`` and after an interruption, the jobs are cut into fixed chunks
(one speaker each, in utterance order) and every chunk is spoken by a fresh process.

Each utterance leaves ``<utt>.wav`` (16 kHz, 16 bit) and, written after it, ``<utt>.ctm``
(its phones in Kaldi CTM, first line ``;; voice=... pitch=... rate_wpm=... text=...``).
A chunk whose files all exist, read back and match voice, pitch, rate and text is reused;
any other chunk is spoken again in full.
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import NamedTuple

import soundfile

from chain.corpora.espeak import SAMPLE_RATE, EspeakSynth
from chain.fileio import atomic_write

log = logging.getLogger(__name__)


class Job(NamedTuple):
    """One utterance to speak: ``wav`` is the output path, the ``.ctm`` goes next to it."""

    utt: str
    voice: str
    text: str
    wav: str
    pitch: int = 50


Done = tuple[int, list[str]]  # number of 16 kHz samples, CTM lines


def _header(job: Job, rate_wpm: int) -> str:
    return f";; voice={job.voice} pitch={job.pitch} rate_wpm={rate_wpm} text={job.text}\n"


def read_done(job: Job, rate_wpm: int) -> Done | None:
    """The result of an earlier run for ``job``, or None if it must be spoken (again)."""
    try:
        lines = Path(job.wav).with_suffix(".ctm").read_text(encoding="utf-8").splitlines(keepends=True)
        if not lines or lines[0] != _header(job, rate_wpm):
            return None
        audio, rate = soundfile.read(job.wav, dtype="int16")
    except (OSError, RuntimeError, soundfile.LibsndfileError):
        return None
    if rate != SAMPLE_RATE or audio.ndim != 1 or len(audio) == 0:
        return None
    return len(audio), lines[1:]


def speak_chunk(jobs: list[Job], rate_wpm: int) -> dict[str, Done]:
    """Speak ``jobs`` in order in this process; write each wav, then its ``.ctm``, atomically.

    CTM times are whole milliseconds, rounded down, so no phone ends past the audio.
    """
    out, synths = {}, {}
    for job in jobs:
        if (job.voice, job.pitch) not in synths:
            synths[job.voice, job.pitch] = EspeakSynth(job.voice, rate_wpm=rate_wpm, pitch=job.pitch)
        audio, phones = synths[job.voice, job.pitch].synth(job.text)
        lines = []
        for phone in phones:
            start, end = int(phone.start * 1000), int(phone.end * 1000)
            if end > start:
                dur = (end - start) / 1000
                lines.append(f"{job.utt} 1 {start / 1000:.3f} {dur:.3f} {phone.phone}\n")
        with atomic_write(job.wav, "wb") as f:
            soundfile.write(f, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
        with atomic_write(Path(job.wav).with_suffix(".ctm")) as f:
            f.write(_header(job, rate_wpm) + "".join(lines))
        out[job.utt] = (len(audio), lines)
    return out


def make_chunks(jobs: list[Job], chunk_size: int) -> list[list[Job]]:
    """Jobs grouped by voice and pitch, in utterance order, cut every ``chunk_size``."""
    by_voice: dict[tuple[str, int], list[Job]] = {}
    for job in sorted(jobs, key=lambda j: (j.voice, j.pitch, j.utt.encode())):
        by_voice.setdefault((job.voice, job.pitch), []).append(job)
    return [group[i:i + chunk_size] for group in by_voice.values()
            for i in range(0, len(group), chunk_size)]


def _context() -> multiprocessing.context.BaseContext:
    """A start method that gives each worker a fresh espeak-ng (never ``fork``)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])  # workers start with the imports done
        return ctx
    return multiprocessing.get_context("spawn")


def synthesise(jobs: list[Job], nj: int, rate_wpm: int = 175, chunk_size: int = 100) -> dict[str, Done]:
    """Speak every job (reusing finished chunks) with ``nj`` processes; utt -> (samples, CTM lines)."""
    if nj < 1 or chunk_size < 1:
        raise ValueError(f"nj and chunk_size must be >= 1: got {nj} and {chunk_size}")
    results: dict[str, Done] = {}
    todo = []
    for chunk in make_chunks(jobs, chunk_size):
        done = [read_done(job, rate_wpm) for job in chunk]
        if all(d is not None for d in done):
            results.update((job.utt, d) for job, d in zip(chunk, done))
        else:
            todo.append(chunk)
    if not todo:
        log.info("all %d utterances already synthesised", len(jobs))
        return results
    log.info("%d of %d utterances already synthesised; %d to do in %d processes",
             len(results), len(jobs), sum(map(len, todo)), min(nj, len(todo)))
    start, next_report, total = time.time(), 0, sum(map(len, todo))
    with ProcessPoolExecutor(max_workers=min(nj, len(todo)), mp_context=_context(),
                             max_tasks_per_child=1) as pool:
        pending = {pool.submit(speak_chunk, chunk, rate_wpm) for chunk in todo}
        made = 0
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                results.update(future.result())
                made += len(future.result())
            if made >= next_report or not pending:
                log.info("synthesised %d/%d utterances in %.1f s", made, total, time.time() - start)
                next_report = made + max(1, total // 10)
    return results
