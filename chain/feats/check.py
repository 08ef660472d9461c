"""Is a feature dir of stage 1 complete? Checked before it is marked done, and again on a re-run.

A complete ``dump/<set>`` has, for every utterance of its ``utt2spk``, a line in
``feats.scp``, in ``linear.scp`` (when the dir has one) and in ``utt2num_frames``, and
each scp line points to a readable matrix of that many frames, all of one width per
scp. "Readable" is checked from the matrix header (kaldiio's binary float matrix,
``\\0BFM `` + rows + cols): the ark exists, the header is there and the ark holds all
``rows x cols`` floats after it. Reading only the headers keeps the check at seconds on
a corpus of many hours.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

from chain.data.datadir import DataError, read_kv

_HEADER = struct.Struct("<5sbibi")  # b"\0BFM ", 4, rows, 4, cols (kaldiio.save_ark, float32)


def _matrix_shape(fd, size: int, offset: int) -> tuple[int, int]:
    """``(rows, cols)`` of the float32 matrix at ``offset``; ValueError saying what is wrong."""
    fd.seek(offset)
    raw = fd.read(_HEADER.size)
    if len(raw) < _HEADER.size:
        raise ValueError(f"offset {offset} is past the end of the ark ({size} bytes)")
    tag, four1, rows, four2, cols = _HEADER.unpack(raw)
    if tag != b"\0BFM " or four1 != 4 or four2 != 4 or rows < 0 or cols < 0:
        raise ValueError(f"no float matrix header at offset {offset}")
    end = offset + _HEADER.size + 4 * rows * cols
    if end > size:
        raise ValueError(f"the {rows} x {cols} matrix at offset {offset} ends at byte {end}, "
                         f"the ark has {size} (cut short)")
    return rows, cols


def check_scp(scp: Path, utts: list[str], num_frames: dict[str, str]) -> int:
    """Check one scp against the utterance list and frame counts; return the matrix width."""
    if not scp.is_file():
        raise DataError(scp, "no such file")
    entries = read_kv(scp)
    missing = [u for u in utts if u not in entries]
    if missing or len(entries) != len(utts):
        extra = sorted(set(entries) - set(utts))[:3]
        raise DataError(scp, f"has {len(entries)} utterances, utt2spk {len(utts)}: missing "
                        f"{missing[:3]}, extra {extra}")
    width, arks = None, {}
    try:
        for n, (utt, value) in enumerate(entries.items(), 1):
            path, _, offset = value.rpartition(":")
            try:
                if path not in arks:
                    arks[path] = (open(path, "rb"), os.path.getsize(path))
                rows, cols = _matrix_shape(*arks[path], int(offset))
            except (OSError, ValueError) as err:
                raise DataError(scp, f"utterance '{utt}': cannot read the matrix '{value}' ({err})",
                                n) from None
            if str(rows) != num_frames.get(utt):
                raise DataError(scp, f"utterance '{utt}': {rows} frames, utt2num_frames says "
                                f"{num_frames.get(utt)}", n)
            if width is not None and cols != width:
                raise DataError(scp, f"utterance '{utt}': {cols} dims, the utterances before have {width}", n)
            width = cols
    finally:
        for fd, _ in arks.values():
            fd.close()
    return width or 0


def check_feature_dir(dump_dir: str | os.PathLike) -> int:
    """Raise DataError (file, line, utterance) unless ``dump_dir`` is complete (see the module
    docstring); return its number of utterances."""
    dump_dir = Path(dump_dir)
    for name in ("utt2spk", "utt2num_frames"):
        if not (dump_dir / name).is_file():
            raise DataError(dump_dir / name, "no such file")
    utts = list(read_kv(dump_dir / "utt2spk"))
    num_frames = read_kv(dump_dir / "utt2num_frames")
    for name in ("feats.scp", "linear.scp"):
        if name == "feats.scp" or (dump_dir / name).is_file():
            check_scp(dump_dir / name, utts, num_frames)
    return len(utts)
