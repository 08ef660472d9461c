"""Benchmark of stage 1 feature extraction (chain.bin.feat_extract) in parallel jobs.

Synthesises ``--seconds`` of 16 kHz audio (noise, chirps, harmonic tones and
silence) as wav files in a temp dir, splits the wav.scp into nj parts and runs nj
jobs at once through utils/run.pl (plain subprocesses when utils/run.pl is missing),
for each nj of ``--nj-list``, ``--repeat`` times (the fastest run is shown). Prints,
per nj, the audio seconds; the wall seconds of the whole array of jobs (Python
start-up included) and of the slowest job's extraction loop alone (start-up
excluded), as x real time and x real time per core; the CPU seconds of all jobs
(start-up included); and the speed-up of each nj over the first one.

  python bench/feats.py [--seconds 1200] [--nj-list 1,2] [--n-fft 2048] [--repeat 3]

Other processes on the machine slow the jobs down: the load average before the
runs is printed, and the cpu columns are the figures that do not depend on it.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

FS = 16000
ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"job \S+: (\d+) utterances, ([\d.]+) s of audio, ([\d.]+) s \(RTF")


def synthesise(out_dir: Path, seconds: float, seed: int = 0) -> Path:
    """Write wav files of 3-12 s adding up to ``seconds``; return their wav.scp."""
    rng = np.random.default_rng(seed)
    lines, total, i = [], 0.0, 0
    while total < seconds:
        dur = min(rng.uniform(3, 12), max(seconds - total, 1.0))
        t = np.arange(int(dur * FS)) / FS
        f0, f1 = rng.uniform(80, 300), rng.uniform(500, 6000)
        chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * dur)))
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
        x = 0.2 * chirp + 0.1 * tone + 0.02 * rng.standard_normal(len(t))
        x[: int(0.2 * FS)] = 0.0  # leading digital silence, as in synthetic speech
        path = out_dir / f"utt{i:05d}.wav"
        soundfile.write(path, (0.5 * x).astype(np.float32), FS, subtype="PCM_16")
        lines.append(f"utt{i:05d} {path}\n")
        total, i = total + len(t) / FS, i + 1
    scp = out_dir / "wav.scp"
    scp.write_text("".join(lines))
    return scp


def split(scp: Path, nj: int, out_dir: Path) -> None:
    """Contiguous, near-equal splits wav.1.scp .. wav.nj.scp (as Kaldi's split_scp.pl)."""
    lines = scp.read_text().splitlines(keepends=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for j, part in enumerate(np.array_split(np.arange(len(lines)), nj), 1):
        (out_dir / f"wav.{j}.scp").write_text("".join(lines[k] for k in part))


def run_jobs(work: Path, nj: int, n_fft: int, write_linear: str) -> tuple[float, float, list[tuple]]:
    """Run nj jobs at once; return the wall and CPU seconds of all of them, and each
    job's (utterances, audio seconds, loop seconds)."""
    split(work / "wav.scp", nj, work / f"split{nj}")
    cmd = [sys.executable, "-m", "chain.bin.feat_extract", "--wav-scp", f"{work}/split{nj}/wav.JOB.scp",
           "--out-dir", f"{work}/out{nj}", "--job", "JOB", "--n-fft", str(n_fft),
           "--write-linear", write_linear]
    logs = work / f"log{nj}"
    run_pl = ROOT / "utils" / "run.pl"
    cpu0 = _children_cpu()
    start = time.perf_counter()
    if run_pl.is_file() and os.access(run_pl, os.X_OK):
        subprocess.run([str(run_pl), f"JOB=1:{nj}", f"{logs}/feat_extract.JOB.log", *cmd], check=True)
    else:
        logs.mkdir(parents=True, exist_ok=True)
        procs = []
        for j in range(1, nj + 1):
            with open(logs / f"feat_extract.{j}.log", "w") as log:
                procs.append(subprocess.Popen([c.replace("JOB", str(j)) for c in cmd],
                                              stdout=log, stderr=subprocess.STDOUT))
        if any(p.wait() for p in procs):
            raise SystemExit(f"bench/feats.py: a job failed, see {logs}")
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    jobs = []
    for j in range(1, nj + 1):
        m = SUMMARY.search((logs / f"feat_extract.{j}.log").read_text())
        jobs.append((int(m[1]), float(m[2]), float(m[3])))
    shutil.rmtree(work / f"out{nj}")  # keep the disk use of one run at a time
    return wall, cpu, jobs


def _children_cpu() -> float:
    """User + system CPU seconds of all finished child processes (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=1200.0,
                   help="seconds of audio to synthesise (long enough that start-up is a small part)")
    p.add_argument("--nj-list", default="1,2", help="comma-separated job counts to time")
    p.add_argument("--n-fft", type=int, default=2048, help="FFT size (the paper's is 2048)")
    p.add_argument("--repeat", type=int, default=2, help="runs per nj; the fastest (by wall) is shown")
    p.add_argument("--write-linear", default="true", help="also write the linear spectrogram (true/false)")
    args = p.parse_args()
    nj_list = [int(n) for n in args.nj_list.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench_feats.") as tmp:
        work = Path(tmp)
        (work / "wav").mkdir()
        shutil.move(str(synthesise(work / "wav", args.seconds)), work / "wav.scp")
        run_jobs(work, 1, args.n_fft, args.write_linear)  # warm-up: page cache, .pyc files
        print(f"cores: {os.cpu_count()}, n_fft {args.n_fft}, linear {args.write_linear}, "
              f"load average before: {os.getloadavg()[0]:.2f}")
        print("wall: the whole array of jobs, Python start-up included; cpu: user+system "
              "seconds of all jobs; loop: the slowest job's extraction loop (start-up excluded)")
        print(f"{'nj':>3} {'audio s':>8} | {'wall s':>6} {'x RT':>6} {'x RT/core':>9} | "
              f"{'cpu s':>6} {'x RT/cpu s':>10} | {'loop s':>6} {'x RT':>6} {'x RT/core':>9}")
        base = None
        for nj in nj_list:
            wall, cpu, jobs = min((run_jobs(work, nj, args.n_fft, args.write_linear)
                                   for _ in range(args.repeat)), key=lambda r: r[0])
            audio, loop = sum(j[1] for j in jobs), max(j[2] for j in jobs)
            print(f"{nj:>3} {audio:8.1f} | {wall:6.2f} {audio / wall:6.0f} {audio / wall / nj:9.0f} | "
                  f"{cpu:6.2f} {audio / cpu:10.0f} | {loop:6.2f} {audio / loop:6.0f} {audio / loop / nj:9.0f}")
            if base is None:
                base = (nj, wall, loop)
            else:
                print(f"    speed-up nj={nj} over nj={base[0]}: wall {base[1] / wall:.2f}x, "
                      f"loop {base[2] / loop:.2f}x")


if __name__ == "__main__":
    main()
