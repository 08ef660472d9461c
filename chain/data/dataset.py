"""Per-utterance features and token ids, read lazily from kaldiio scp files.

Stage 1 writes ``dump/<set>/feats.scp`` (log-mel), ``linear.scp`` (log-linear, TTS) and
``utt2num_frames``; ``data/<set>/text`` holds the transcripts and ``data/cmvn.ark`` the
global CMVN stats (docs/data.md). Only the scp lines are kept in memory; each
``__getitem__`` reads one matrix (ESPnet v1's single ``data.json`` ran out of memory).

A set may lack text (``train_speech_only``) or features (``train_text_only``). Keys of
the files given must agree; by default a mismatch raises a :class:`DataError` naming both
files and a missing key, with ``skip_missing=True`` the intersection is kept and the
number dropped is in ``skipped``.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Protocol

import kaldiio
import numpy as np
import torch
from torch.utils.data import Dataset

from chain.data.datadir import DataError, read_kv
from chain.feats.cmvn import apply_cmvn, load_cmvn

log = logging.getLogger(__name__)


class TokenizerLike(Protocol):
    pad_id: int

    def encode(self, text: str) -> list[int]: ...


class SpeechTextDataset(Dataset):
    """Items ``{"utt_id", "feats" (T, D), "linear" (T, n_lin), "tokens" (L,), "spk_vec" (S,)}``.

    Keys appear only when their file is given. ``feats`` are CMVN-normalised when
    ``cmvn`` (a Kaldi stats matrix ``(2, D + 1)`` or the path of one) is given, and
    ``linear`` when ``linear_cmvn`` (stats of the linear spectrograms) is (the TTS learns
    normalised targets, docs/data.md).
    ``lengths`` are frames (tokens for a text-only set), known without reading features
    when ``utt2num_frames`` is given.
    """

    def __init__(self, *,
                 # files (any of them may be None, but not both feats_scp and text)
                 feats_scp: str | os.PathLike | None = None,
                 text: str | os.PathLike | None = None,
                 linear_scp: str | os.PathLike | None = None,
                 utt2num_frames: str | os.PathLike | None = None,
                 spk_vecs_scp: str | os.PathLike | None = None,
                 # processing
                 tokenizer: TokenizerLike | None = None,
                 cmvn: np.ndarray | str | os.PathLike | None = None,
                 linear_cmvn: np.ndarray | str | os.PathLike | None = None,
                 norm_vars: bool = True,
                 skip_missing: bool = False):
        if feats_scp is None and text is None:
            raise ValueError("SpeechTextDataset needs feats_scp, text or both: got neither")
        if text is not None and tokenizer is None:
            raise ValueError(f"text {text} given without a tokenizer to encode it")
        if feats_scp is None and any(p is not None for p in (linear_scp, utt2num_frames, cmvn)):
            raise ValueError("linear_scp, utt2num_frames and cmvn need feats_scp")
        if linear_cmvn is not None and linear_scp is None:
            raise ValueError("linear_cmvn given without linear_scp to normalise")
        tables = {name: (Path(path), read_kv(path, check_sorted=False)) for name, path in
                  (("feats", feats_scp), ("text", text), ("linear", linear_scp),
                   ("utt2num_frames", utt2num_frames), ("spk_vec", spk_vecs_scp))
                  if path is not None}
        self.keys, self.skipped = _common_keys(tables, skip_missing)
        get = lambda name: [tables[name][1][k] for k in self.keys] if name in tables else None  # noqa: E731
        self._feats, self._linear, self._spk = get("feats"), get("linear"), get("spk_vec")
        self._paths = {name: path for name, (path, _) in tables.items()}
        self.tokens = None
        if "text" in tables:
            self.tokens = [np.asarray(tokenizer.encode(t), dtype=np.int64) for t in get("text")]
        self._num_frames: list[int] | None = None
        if "utt2num_frames" in tables:
            self._num_frames = [_to_int(v, self._paths["utt2num_frames"], k)
                                for k, v in zip(self.keys, get("utt2num_frames"))]
        if isinstance(cmvn, (str, os.PathLike)):
            cmvn = load_cmvn(cmvn)
        self.cmvn, self.norm_vars = cmvn, norm_vars
        if cmvn is not None:
            if cmvn.shape[1] - 1 != self.feat_dim:
                raise DataError(feats_scp, f"features have {self.feat_dim} dims, CMVN stats "
                                f"{cmvn.shape[1] - 1} (stats of another feature type? re-run stage 1)")
        if isinstance(linear_cmvn, (str, os.PathLike)):
            linear_cmvn = load_cmvn(linear_cmvn)
        self.linear_cmvn = linear_cmvn
        if linear_cmvn is not None and linear_cmvn.shape[1] - 1 != self.linear_dim:
            raise DataError(linear_scp, f"linear spectrograms have {self.linear_dim} dims, CMVN "
                            f"stats {linear_cmvn.shape[1] - 1} (stats of another feature type? "
                            "re-run stage 1)")

    @classmethod
    def from_dirs(cls, *, dump_dir: str | os.PathLike | None, data_dir: str | os.PathLike | None,
                  tokenizer: TokenizerLike | None = None, cmvn: str | os.PathLike | None = None,
                  use_linear: bool = False, linear_cmvn: str | os.PathLike | None = None,
                  use_text: bool = True,
                  skip_missing: bool = False) -> "SpeechTextDataset":
        """Dataset of ``dump/<set>`` (features) and ``data/<set>`` (text); either may be None.

        ``data_dir`` without a ``text`` file (speech-only) is fine; ``use_text=False``
        ignores one that exists. ``linear_cmvn`` (with ``use_linear``) normalises ``linear``.
        """
        dump = Path(dump_dir) if dump_dir is not None else None
        text = Path(data_dir) / "text" if data_dir is not None and use_text else None
        if text is not None and not text.is_file():
            text = None
        opt = lambda name: dump / name if dump is not None and (dump / name).is_file() else None  # noqa: E731
        if dump is not None and opt("feats.scp") is None:
            raise DataError(dump / "feats.scp", "no such file (run stage 1, feature extraction)")
        if use_linear and dump is None:
            raise ValueError("use_linear needs dump_dir (linear spectrograms are features)")
        if use_linear and opt("linear.scp") is None:
            raise DataError(dump / "linear.scp", "no such file (the TTS needs linear spectrograms: "
                            "run stage 1 with linear features)")
        return cls(feats_scp=opt("feats.scp"), text=text, tokenizer=tokenizer,
                   linear_scp=opt("linear.scp") if use_linear else None,
                   utt2num_frames=opt("utt2num_frames"), cmvn=cmvn if dump is not None else None,
                   linear_cmvn=linear_cmvn if use_linear else None, skip_missing=skip_missing)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def has_feats(self) -> bool:
        return self._feats is not None

    @functools.cached_property
    def feat_dim(self) -> int:
        """Width of one feature frame (reads the first matrix once); 1 for text-only sets."""
        return 1 if self._feats is None else _first_width(self._feats)

    @functools.cached_property
    def linear_dim(self) -> int:
        """Width of one linear-spectrogram frame (reads the first matrix once); 0 without linear."""
        return 0 if self._linear is None else _first_width(self._linear)

    @property
    def lengths(self) -> list[int]:
        """Frames per utterance, or tokens for a text-only set."""
        if self._feats is None:
            return [len(t) for t in self.tokens]
        if self._num_frames is None:
            log.warning("no utt2num_frames next to %s: reading every matrix for its length",
                        self._paths["feats"])
            self._num_frames = [int(kaldiio.load_mat(v).shape[0]) for v in self._feats]
        return self._num_frames

    def __getitem__(self, i: int) -> dict:
        utt = self.keys[i]
        item: dict = {"utt_id": utt}
        if self._feats is not None:
            feats = kaldiio.load_mat(self._feats[i]).astype(np.float32, copy=False)
            if self._num_frames is not None and feats.shape[0] != self._num_frames[i]:
                raise DataError(self._paths["utt2num_frames"], f"'{utt}' says {self._num_frames[i]} "
                                f"frames, {self._paths['feats']} has {feats.shape[0]} (stale dump: "
                                "re-run stage 1)")
            if self.cmvn is not None:
                feats = apply_cmvn(feats, self.cmvn, norm_vars=self.norm_vars)
            item["feats"] = _float_tensor(feats)
        if self._linear is not None:
            linear = kaldiio.load_mat(self._linear[i])
            if self.linear_cmvn is not None:
                linear = apply_cmvn(linear.astype(np.float32, copy=False), self.linear_cmvn,
                                    norm_vars=self.norm_vars)
            item["linear"] = _float_tensor(linear)
        if self.tokens is not None:
            item["tokens"] = torch.from_numpy(self.tokens[i])
        if self._spk is not None:
            item["spk_vec"] = _float_tensor(kaldiio.load_mat(self._spk[i])).reshape(-1)
        return item


def _float_tensor(mat: np.ndarray) -> torch.Tensor:
    """A float32 tensor of ``mat``, copied only if needed (kaldiio may return read-only arrays)."""
    mat = np.ascontiguousarray(mat, dtype=np.float32)
    return torch.from_numpy(mat if mat.flags.writeable else mat.copy())


def _to_int(value: str, path: Path, key: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(path, f"'{key}': expected a frame count, got '{value}'") from None


def _common_keys(tables: dict[str, tuple[Path, dict]], skip_missing: bool) -> tuple[list[str], int]:
    """Keys of the first table present in all; raise on a mismatch unless ``skip_missing``."""
    (first_path, first), *rest = tables.values()
    keys = list(first)
    union = set(first)
    for path, table in rest:
        union |= set(table)
        if skip_missing:
            continue
        for a_path, a, b_path, b in ((first_path, first, path, table), (path, table, first_path, first)):
            missing = [k for k in a if k not in b]
            if missing:
                raise DataError(b_path, f"no entry for '{missing[0]}' of {a_path} ({len(missing)} "
                                f"keys missing; run utils/fix_data_dir.sh, or skip them with "
                                "skip_missing)")
    keys = [k for k in keys if all(k in table for _, table in rest)]
    skipped = len(union) - len(keys)
    if skipped:
        log.warning("kept %d of %d utterances: %d are not in all of %s", len(keys), len(union),
                    skipped, ", ".join(str(p) for p, _ in tables.values()))
    return keys, skipped


def _first_width(scp_values: list[str]) -> int:
    """Columns of the first matrix of an scp column (0 for an empty set)."""
    return int(kaldiio.load_mat(scp_values[0]).shape[1]) if scp_values else 0
