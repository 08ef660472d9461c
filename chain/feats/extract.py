"""One feature-extraction job (stage 1): a ``wav.scp`` split -> ark/scp files.

Outputs in ``out_dir`` for job ``J``:

- ``feats.J.ark`` / ``feats.J.scp``: log-mel ``(T, n_mels)`` float32
- ``linear.J.ark`` / ``linear.J.scp``: log-linear ``(T, n_fft // 2 + 1)`` float32 (optional)
- ``utt2num_frames.J``, ``utt2dur.J`` (seconds, after resampling)

Completion marker: ``feats.J.scp``. A job first deletes this job's old scp and
utt2* files, then writes the arks, the scp files under temporary names and, only
after the arks are closed, renames utt2num_frames, utt2dur, linear.J.scp and lastly
feats.J.scp into place. A job that fails or is killed therefore never leaves an scp
that points into an incomplete ark; on a failure it also deletes its partial arks.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from chain.data.wav import WavScpReader
from chain.feats.fbank import Fbank, FbankConfig
from chain.fileio import atomic_write

logger = logging.getLogger(__name__)


@dataclass
class JobSummary:
    job: str
    utterances: int
    frames: int
    audio_seconds: float
    seconds: float  # wall time of the reading/extraction/writing loop
    warnings: list[str]

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0

    def __str__(self) -> str:
        return (f"job {self.job}: {self.utterances} utterances, {self.audio_seconds:.1f} s of audio, "
                f"{self.seconds:.2f} s (RTF {self.rtf:.4f})")


def output_paths(out_dir: str | os.PathLike, job: str | None) -> dict[str, Path]:
    """Final output paths of a job (names without ``.J`` when ``job`` is None)."""
    suffix = f".{job}" if job else ""
    out = Path(out_dir)
    return {"feats_ark": out / f"feats{suffix}.ark", "feats_scp": out / f"feats{suffix}.scp",
            "linear_ark": out / f"linear{suffix}.ark", "linear_scp": out / f"linear{suffix}.scp",
            "utt2num_frames": out / f"utt2num_frames{suffix}", "utt2dur": out / f"utt2dur{suffix}"}


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _remove(*paths: Path) -> None:
    for p in paths:
        if p.exists():
            os.unlink(p)


def extract_job(wav_scp: str | os.PathLike, out_dir: str | os.PathLike, job: str | None = None,
                cfg: FbankConfig = FbankConfig(), *, segments: str | os.PathLike | None = None,
                strict: bool = False, write_linear: bool = True, num_threads: int = 1) -> JobSummary:
    """Extract features of every utterance of ``wav_scp`` (+ ``segments``) into ``out_dir``.

    ``num_threads`` caps the BLAS threads (one job per core, as Kaldi jobs; a multi-
    threaded mel product in each of nj jobs slows them all). Raises DataError (naming
    file, line and utterance) on bad input, leaving no scp.
    """
    with blas_threads(num_threads):
        return _extract(wav_scp, out_dir, job, cfg, segments, strict, write_linear)


def blas_threads(n: int):
    """Context manager capping the BLAS threads at ``n`` (the float rounding of the mel product
    depends on the thread count: 1 everywhere gives the same features as stage 1)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # comes with scikit-learn, a librosa dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _extract(wav_scp, out_dir, job, cfg, segments, strict, write_linear) -> JobSummary:
    import kaldiio

    paths = output_paths(out_dir, job)
    reader = WavScpReader(wav_scp, segments, fs=cfg.fs, strict=strict)  # checks its inputs first
    fbank = Fbank(cfg)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    # 1. the old completion markers go first: they may point into the arks about to be rewritten
    _remove(paths["feats_scp"], paths["linear_scp"], paths["utt2num_frames"], paths["utt2dur"])
    if not write_linear:
        _remove(paths["linear_ark"])
    tmp_feats, tmp_linear = _tmp(paths["feats_scp"]), _tmp(paths["linear_scp"])
    num_frames: list[tuple[str, int]] = []
    durations: list[tuple[str, float]] = []
    total, start, done_tenths = len(reader), time.perf_counter(), 0
    try:
        # 2. the arks, with their scp files under temporary names
        with kaldiio.WriteHelper(f"ark,scp:{paths['feats_ark']},{tmp_feats}") as feats_out, \
                (kaldiio.WriteHelper(f"ark,scp:{paths['linear_ark']},{tmp_linear}")
                 if write_linear else _NoWriter()) as linear_out:
            for utt, samples in reader:
                mel, linear = fbank(samples, linear=write_linear)
                feats_out(utt, mel)
                if write_linear:
                    linear_out(utt, linear)
                num_frames.append((utt, mel.shape[0]))
                durations.append((utt, len(samples) / cfg.fs))
                if total and 10 * len(num_frames) // total > done_tenths:
                    done_tenths = 10 * len(num_frames) // total
                    logger.info("job %s: %d%% (%d of %d utterances, %.1f s of audio)", job,
                                100 * len(num_frames) // total, len(num_frames), total,
                                sum(d for _, d in durations))
        # 3. the small files, then the scp files: feats.J.scp last
        with atomic_write(paths["utt2num_frames"]) as f:
            f.writelines(f"{u} {n}\n" for u, n in num_frames)
        with atomic_write(paths["utt2dur"]) as f:
            f.writelines(f"{u} {d:.4f}\n" for u, d in durations)
        if write_linear:
            os.replace(tmp_linear, paths["linear_scp"])
        os.replace(tmp_feats, paths["feats_scp"])
    except BaseException:
        _remove(tmp_feats, tmp_linear, paths["feats_ark"], paths["linear_ark"],
                paths["utt2num_frames"], paths["utt2dur"], paths["linear_scp"])
        raise
    return JobSummary(job=str(job), utterances=len(num_frames), frames=sum(n for _, n in num_frames),
                      audio_seconds=sum(d for _, d in durations),
                      seconds=time.perf_counter() - start, warnings=reader.audio.warnings())


class _NoWriter:
    """Stands in for the linear WriteHelper when linear features are not written."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
