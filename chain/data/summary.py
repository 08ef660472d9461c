"""What a recipe has produced so far: per data set, utterances, speakers, hours, frames."""
from __future__ import annotations

import os
from pathlib import Path

from chain.data.datadir import read_kv

SETS = ("train_full", "train_paired", "train_speech_only", "train_text_only", "dev", "test")


def summarize_sets(recipe_dir: str | os.PathLike, sets: tuple[str, ...] = SETS) -> list[dict]:
    """One row per existing ``data/<set>``: utterances, speakers, what it holds, and,
    when stage 1 has run, hours of audio and feature frames from ``dump/<set>``."""
    root = Path(recipe_dir)
    rows = []
    for name in sets:
        data, dump = root / "data" / name, root / "dump" / name
        if not (data / "utt2spk").is_file():
            continue
        utt2spk = read_kv(data / "utt2spk")
        row = {"set": name, "utts": len(utt2spk), "spks": len(set(utt2spk.values())),
               "has": "+".join(f for f in ("wav.scp", "text") if (data / f).is_file())}
        if (dump / "utt2dur").is_file():
            row["hours"] = sum(float(v) for v in read_kv(dump / "utt2dur").values()) / 3600
        if (dump / "utt2num_frames").is_file():
            row["frames"] = sum(int(v) for v in read_kv(dump / "utt2num_frames").values())
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """A plain-text table of ``summarize_sets`` rows."""
    head = f"{'set':<18} {'utts':>6} {'spks':>5} {'hours':>7} {'frames':>9}  has"
    lines = [head, "-" * len(head)]
    for r in rows:
        hours = f"{r['hours']:.3f}" if "hours" in r else "-"
        frames = str(r["frames"]) if "frames" in r else "-"
        lines.append(f"{r['set']:<18} {r['utts']:>6} {r['spks']:>5} {hours:>7} {frames:>9}  {r['has']}")
    return "\n".join(lines)
