"""Kaldi data directories (docs/data.md).

A data dir holds ``key value`` files sorted by key with ``LC_ALL=C`` (byte order):
``wav.scp``, ``text``, ``utt2spk``, ``spk2utt`` and optionally ``segments``,
``utt2dur``, ``utt2num_frames``. Speaker ids prefix utterance ids. A data dir may
lack ``text`` (speech-only) or ``wav.scp`` (text-only); everything else is checked.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from chain.fileio import atomic_write


class DataError(ValueError):
    """Bad input: the message names the file and, where there is one, the line."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line = str(path), line


def read_kv(path: str | os.PathLike, *, allow_empty_value: bool = False,
            check_sorted: bool = True) -> dict[str, str]:
    """Read a ``key value`` file into an ordered dict.

    Raises DataError naming the line for a duplicate key, an unsorted key (byte
    order, as ``LC_ALL=C sort``) or, unless ``allow_empty_value``, a line with no value.
    """
    out: dict[str, str] = {}
    prev = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                raise DataError(path, "empty line", n)
            key, _, value = line.partition(" ")
            value = value.strip()
            if not value and not allow_empty_value:
                raise DataError(path, f"no value for key '{key}'", n)
            if key in out:
                raise DataError(path, f"duplicate key '{key}'", n)
            if check_sorted and prev is not None and key.encode() < prev.encode():
                raise DataError(path, f"key '{key}' is not sorted after '{prev}' "
                                "(sort with LC_ALL=C, or run utils/fix_data_dir.sh)", n)
            out[key] = value
            prev = key
    return out


def write_kv(path: str | os.PathLike, items: dict[str, str] | list[tuple[str, str]]) -> None:
    """Write ``key value`` lines sorted by key in byte order, atomically."""
    pairs = sorted(items.items() if isinstance(items, dict) else items, key=lambda kv: kv[0].encode())
    with atomic_write(path) as f:
        for key, value in pairs:
            if not key or any(c.isspace() for c in key):
                raise ValueError(f"{path}: bad key {key!r} (keys are non-empty, no whitespace)")
            f.write(f"{key} {value}\n")


def spk2utt_from_utt2spk(utt2spk: dict[str, str]) -> dict[str, str]:
    spk2utt: dict[str, list[str]] = {}
    for utt, spk in utt2spk.items():
        spk2utt.setdefault(spk, []).append(utt)
    return {spk: " ".join(sorted(utts, key=str.encode)) for spk, utts in spk2utt.items()}


@dataclass
class DataDir:
    """An in-memory Kaldi data dir. ``wav_scp``/``text``/``spk2gender`` are None when absent."""

    utt2spk: dict[str, str]
    wav_scp: dict[str, str] | None = None
    text: dict[str, str] | None = None
    segments: dict[str, str] | None = None
    extra: dict[str, dict[str, str]] = field(default_factory=dict)  # utt2dur, utt2num_frames...
    spk2gender: dict[str, str] | None = None  # every speaker's gender (m or f), as in Kaldi

    OPTIONAL = ("utt2dur", "utt2num_frames", "utt2gender")

    @property
    def utts(self) -> list[str]:
        return list(self.utt2spk)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DataDir":
        """Read and validate a data dir; raise DataError naming the file and line."""
        path = Path(path)
        if not (path / "utt2spk").is_file():
            raise DataError(path / "utt2spk", "no such file (every data dir needs utt2spk)")
        opt = lambda name: read_kv(path / name) if (path / name).is_file() else None  # noqa: E731
        d = cls(utt2spk=read_kv(path / "utt2spk"), wav_scp=opt("wav.scp"), text=opt("text"),
                segments=opt("segments"), spk2gender=opt("spk2gender"),
                extra={n: read_kv(path / n) for n in cls.OPTIONAL if (path / n).is_file()})
        d.validate(path)
        return d

    def validate(self, path: str | os.PathLike = "<data dir>") -> None:
        """Check the cross-file contract of docs/data.md."""
        path = Path(path)
        if self.wav_scp is None and self.text is None:
            raise DataError(path, "neither wav.scp nor text: nothing to use")
        utts = set(self.utt2spk)
        for utt, spk in self.utt2spk.items():
            if not utt.startswith(spk):
                raise DataError(path / "utt2spk", f"speaker id '{spk}' is not a prefix of '{utt}'")
        by_utt = {"text": self.text, "segments": self.segments, **self.extra}
        if self.segments is None:
            by_utt["wav.scp"] = self.wav_scp
        for name, table in by_utt.items():
            if table is None:
                continue
            if set(table) != utts:
                missing = sorted(utts - set(table))[:3]
                extra = sorted(set(table) - utts)[:3]
                raise DataError(path / name, f"keys disagree with utt2spk: missing {missing}, "
                                f"extra {extra} (run utils/fix_data_dir.sh)")
        if self.spk2gender is not None:
            speakers = set(self.utt2spk.values())
            if set(self.spk2gender) != speakers:
                missing = sorted(speakers - set(self.spk2gender))[:3]
                extra = sorted(set(self.spk2gender) - speakers)[:3]
                raise DataError(path / "spk2gender", f"speakers disagree with utt2spk: missing "
                                f"{missing}, extra {extra} (run utils/fix_data_dir.sh)")
            for spk, gender in self.spk2gender.items():
                if gender not in ("m", "f"):
                    raise DataError(path / "spk2gender", f"speaker '{spk}': gender must be m or f, "
                                    f"got '{gender}'")
        if self.segments is not None:
            if self.wav_scp is None:
                raise DataError(path / "segments", "segments given but no wav.scp")
            for utt, seg in self.segments.items():
                parts = seg.split()
                if len(parts) != 3 or parts[0] not in self.wav_scp:
                    raise DataError(path / "segments", f"'{utt} {seg}': expected "
                                    "'<utt> <recording-in-wav.scp> <start> <end>'")
                start, end = float(parts[1]), float(parts[2])
                if not 0 <= start < end:
                    raise DataError(path / "segments", f"'{utt}': bad times {start} {end}")

    def save(self, path: str | os.PathLike) -> None:
        """Write every file of the data dir (spk2utt derived), each atomically."""
        path = Path(path)
        self.validate(path)
        write_kv(path / "utt2spk", self.utt2spk)
        write_kv(path / "spk2utt", spk2utt_from_utt2spk(self.utt2spk))
        for name, table in (("wav.scp", self.wav_scp), ("text", self.text),
                            ("segments", self.segments), ("spk2gender", self.spk2gender),
                            *self.extra.items()):
            if table is not None:
                write_kv(path / name, table)
            elif (path / name).exists():
                os.unlink(path / name)  # a speech-only dir must not keep a stale text

    def subset(self, utts: list[str], *, keep_wav: bool = True, keep_text: bool = True) -> "DataDir":
        """The data dir restricted to ``utts``; optionally drop wav.scp or text."""
        keep = set(utts)
        pick = lambda t: None if t is None else {k: v for k, v in t.items() if k in keep}  # noqa: E731
        segments = pick(self.segments) if keep_wav else None
        if not keep_wav:
            wav = None
        elif segments is not None:
            recs = {s.split()[0] for s in segments.values()}
            wav = {k: v for k, v in self.wav_scp.items() if k in recs}
        else:
            wav = pick(self.wav_scp)
        utt2spk = pick(self.utt2spk)
        speakers = set(utt2spk.values())
        spk2gender = None if self.spk2gender is None else {
            spk: g for spk, g in self.spk2gender.items() if spk in speakers}
        return DataDir(utt2spk=utt2spk, wav_scp=wav,
                       text=pick(self.text) if keep_text else None, segments=segments,
                       extra={n: pick(t) for n, t in self.extra.items()} if keep_wav else {},
                       spk2gender=spk2gender)


def combine(dirs: dict[str, DataDir]) -> DataDir:
    """One data dir of the data dirs in ``dirs`` (by path, for messages).

    ``wav.scp``, ``text``, ``segments`` and ``spk2gender`` are kept when every dir has
    them, each optional file likewise. Raises DataError naming both dirs for a key in two of them.
    """
    if not dirs:
        raise ValueError("combine needs at least one data dir")
    with_segments = [path for path, data in dirs.items() if data.segments is not None]
    if with_segments and len(with_segments) < len(dirs):
        raise DataError(with_segments[0], "has segments and another data dir has none: "
                        "give segments to all of them or to none")
    seen: dict[str, str] = {}
    for path, data in dirs.items():
        for key in [*data.utts, *(data.wav_scp or {})]:
            if seen.setdefault(key, path) != path:
                raise DataError(path, f"'{key}' is also in {seen[key]} "
                                "(utterance and recording ids must be unique across data dirs)")

    def union(get) -> dict[str, str] | None:
        tables = [get(data) for data in dirs.values()]
        return None if any(t is None for t in tables) else {k: v for t in tables for k, v in t.items()}

    datas = list(dirs.values())
    extra_names = set.intersection(*(set(d.extra) for d in datas))
    return DataDir(utt2spk=union(lambda d: d.utt2spk), wav_scp=union(lambda d: d.wav_scp),
                   text=union(lambda d: d.text), segments=union(lambda d: d.segments),
                   spk2gender=union(lambda d: d.spk2gender),
                   extra={n: union(lambda d, n=n: d.extra[n]) for n in sorted(extra_names)})


def replace_dir(data: DataDir, path: str | os.PathLike) -> None:
    """Save ``data`` as the dir ``path``, replacing what was there.

    The dir is written under a temp name and renamed, so a killed run leaves either
    the old dir or the new one, and no file of the old one stays in the new.
    """
    path = Path(path)
    tmp, old = path.with_name(f".{path.name}.tmp"), path.with_name(f".{path.name}.old")
    for stale in (tmp, old):
        shutil.rmtree(stale, ignore_errors=True)
    data.save(tmp)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def summary_table(sets: dict[str, DataDir], order: tuple[str, ...] | None = None) -> str:
    """A table of data sets: utterances, speakers and minutes of speech (``utt2dur``; "text"
    for a set without audio), in ``order`` (default: that of ``sets``)."""
    names = [n for n in order if n in sets] if order is not None else list(sets)
    width = max([len("set"), *map(len, names)]) + 2
    lines = [f"{'set':<{width}} {'utts':>6} {'speakers':>8} {'minutes':>8}"]
    for name in names:
        data = sets[name]
        durations = data.extra.get("utt2dur")
        minutes = f"{sum(float(d) for d in durations.values()) / 60:8.2f}" if durations else f"{'text':>8}"
        lines.append(f"{name:<{width}} {len(data.utts):>6} {len(set(data.utt2spk.values())):>8} {minutes}")
    return "\n".join(lines)

