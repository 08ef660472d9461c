"""Packed models: one ``.tar.gz`` that decodes without the recipe dir it was trained in.

A packed model (design notes section 8, "Models that travel") holds:

- ``meta.yaml``: ``format`` (of the archive, :data:`FORMAT`), ``chain_version`` (of the
  toolkit that packed it), ``kind`` (``asr`` or ``tts``), ``sample_rate``, ``features``
  (the fields of ``conf/fbank.yaml``) and ``checkpoint`` (the file packed);
- ``config.yaml``: the training options, with ``lang_dir``, ``cmvn`` (and ``cmvn_linear``)
  relative to the archive;
- ``model.pt``: the model weights of the chosen checkpoint only (no optimizer), loaded
  with ``torch.load(weights_only=True)``;
- ``lang/``: ``units.txt``, ``token_type`` (and ``bpe.model``);
- ``cmvn.ark`` (and ``cmvn_linear.ark``): the CMVN stats of training;
- ``spk/`` (a multi-speaker TTS only): its frozen speaker encoder, ``config.yaml`` (``cmvn``
  relative to the archive), ``model.pt``, ``speakers`` and ``cmvn.ark``; the TTS's
  ``spk_exp_dir`` and ``spk_checkpoint`` name them.

A later chain reads every format up to its own :data:`FORMAT`; an archive of a newer
format is refused with the chain version that packed it.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

import yaml

import chain
from chain.asr.recognize import load_asr, longest_training_input
from chain.feats.fbank import FbankConfig
from chain.fileio import atomic_write
from chain.spk.builder import SPEAKERS
from chain.text.tokenizer import SP_MODEL, TOKEN_TYPE, UNITS
from chain.train.checkpoint import find_checkpoint, save_checkpoint
from chain.train.experiment import CONFIG
from chain.tts.synthesize import load_tts

FORMAT = 1
META, WEIGHTS, LANG, SPK = "meta.yaml", "model.pt", "lang", "spk"
SPK_CMVN = f"{SPK}/cmvn.ark"  # the speaker encoder's log-mel stats in the archive
# config.yaml key -> name inside the archive, per model kind
PACKED_PATHS = {"asr": {"cmvn": "cmvn.ark"},
                "tts": {"cmvn": "cmvn.ark", "cmvn_linear": "cmvn_linear.ark"}}


class PackError(ValueError):
    """A packed model that cannot be made or read; one line: the file, the problem, the fix."""


def model_kind(config: argparse.Namespace | dict, source: str | os.PathLike) -> str:
    """``asr`` or ``tts``: which trainer wrote the options ``config`` (read from ``source``)."""
    keys = config if isinstance(config, dict) else vars(config)
    if "cmvn_linear" in keys:
        return "tts"
    if "enc_hidden" in keys:
        return "asr"
    raise PackError(f"{source}: neither an ASR nor a TTS config (no enc_hidden, no cmvn_linear); "
                    "pack an experiment of asr_train, tts_train or chain_train")


def pack_model(exp_dir: str | os.PathLike, out: str | os.PathLike, *, checkpoint: str = "best.pt",
               fbank_conf: str | os.PathLike = "conf/fbank.yaml") -> dict:
    """Write the packed model of ``exp_dir`` (its ``checkpoint``) to ``out`` (a ``.tar.gz``,
    atomically); relative paths in its ``config.yaml`` are read from the working directory
    (the recipe dir). Returns the meta data written."""
    exp_dir = Path(exp_dir)
    path = find_checkpoint(exp_dir, checkpoint)
    if not (exp_dir / CONFIG).is_file():
        raise FileNotFoundError(f"{exp_dir / CONFIG}: no such file (is {exp_dir} a training run?)")
    config = yaml.safe_load((exp_dir / CONFIG).read_text(encoding="utf-8"))
    kind = model_kind(config, exp_dir / CONFIG)
    if config.get("spk_dim") and not config.get("spk_exp_dir"):
        raise PackError(f"{exp_dir / CONFIG}: a TTS with speaker conditioning (spk_dim "
                        f"{config['spk_dim']}) but no speaker encoder (spk_exp_dir) to make its "
                        "speaker vectors; train it with tts_train --spk-exp-dir")
    features = FbankConfig.from_yaml(fbank_conf)
    meta = {"format": FORMAT, "chain_version": chain.__version__, "kind": kind,
            "sample_rate": features.fs, "features": features.to_dict(),
            "checkpoint": str(path.relative_to(exp_dir) if path.is_relative_to(exp_dir) else path)}
    files = {f"{LANG}/{name}": Path(config["lang_dir"]) / name for name in (UNITS, TOKEN_TYPE, SP_MODEL)
             if name != SP_MODEL or (Path(config["lang_dir"]) / name).is_file()}
    files.update({packed: Path(config[key]) for key, packed in PACKED_PATHS[kind].items()})
    spk_config = _speaker_encoder_config(config, exp_dir / CONFIG, files) if config.get("spk_exp_dir") else None
    for name, source in files.items():
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no such file (named by {exp_dir / CONFIG}; run "
                                    "pack_model from the recipe dir)")
    config.update({"lang_dir": LANG, **PACKED_PATHS[kind]})
    if kind == "asr" and not config.get("max_train_frames"):  # a run that predates the key
        config["max_train_frames"] = longest_training_input(exp_dir)
    model = (load_asr if kind == "asr" else load_tts)(exp_dir, checkpoint)[0]  # the weights fit
    with tempfile.TemporaryDirectory() as tmp, atomic_write(out, "wb") as f, \
            tarfile.open(fileobj=f, mode="w:gz", dereference=True) as tar:
        save_checkpoint(Path(tmp) / WEIGHTS, {"model": model.state_dict()})
        tar.add(Path(tmp) / WEIGHTS, WEIGHTS)
        documents = [(META, meta), (CONFIG, config)]
        if spk_config is not None:
            save_checkpoint(Path(tmp) / f"{SPK}.pt", {"model": model.speaker_encoder.state_dict()})
            tar.add(Path(tmp) / f"{SPK}.pt", f"{SPK}/{WEIGHTS}")
            documents.append((f"{SPK}/{CONFIG}", spk_config))
        for name, data in documents:
            _add_bytes(tar, name, yaml.safe_dump(data, sort_keys=True).encode())
        for name, source in sorted(files.items()):
            tar.add(source, name)
    return meta


def _speaker_encoder_config(config: dict, source: Path, files: dict[str, Path]) -> dict:
    """The ``config.yaml`` of the speaker encoder of the multi-speaker TTS ``config`` (read from
    ``source``) as packed under ``spk/``; adds its speakers and CMVN stats to ``files`` and
    points the TTS's ``spk_exp_dir``/``spk_checkpoint`` into the archive."""
    spk_dir = Path(config["spk_exp_dir"])
    if not (spk_dir / CONFIG).is_file():
        raise FileNotFoundError(f"{spk_dir / CONFIG}: no such file (the speaker encoder named by {source}; "
                                "run pack_model from the recipe dir)")
    spk_config = yaml.safe_load((spk_dir / CONFIG).read_text(encoding="utf-8"))
    files.update({f"{SPK}/{SPEAKERS}": spk_dir / SPEAKERS, SPK_CMVN: Path(spk_config["cmvn"])})
    config.update(spk_exp_dir=SPK, spk_checkpoint=WEIGHTS)
    return {**spk_config, "cmvn": SPK_CMVN}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@contextlib.contextmanager
def unpacked(path: str | os.PathLike, kind: str) -> Iterator[tuple[Path, dict]]:
    """Extract the packed model ``path`` to a temp dir: ``(dir, meta)``, the dir removed on exit.

    Only regular files are extracted, each under its own name in the dir. A file that is not
    a packed model, one of another ``kind`` or of a newer format raises PackError.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such packed model (chain.bin.pack_model writes one)")
    with tempfile.TemporaryDirectory(prefix="chain-model.") as tmp:
        try:
            with tarfile.open(path, "r:*") as tar:
                for member in tar.getmembers():
                    if member.isfile() and not member.name.startswith("/") and ".." not in member.name:
                        target = Path(tmp) / member.name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(tar.extractfile(member).read())
        except (tarfile.TarError, EOFError, OSError) as err:
            raise PackError(f"{path}: not a packed model ({err}); make one with "
                            "chain.bin.pack_model") from None
        meta = _read_meta(path, Path(tmp) / META)
        if meta["kind"] != kind:
            raise PackError(f"{path}: a packed {meta['kind'].upper()}, not a {kind.upper()}; "
                            f"use the {'Speech2Text' if meta['kind'] == 'asr' else 'Text2Speech'} "
                            "side with it")
        yield Path(tmp), meta


def _read_meta(path: Path, meta_path: Path) -> dict:
    if not meta_path.is_file():
        raise PackError(f"{path}: not a packed model (no {META}); make one with chain.bin.pack_model")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(fmt, int):
        raise PackError(f"{path}: {META} has no format number; make the pack again with "
                        "chain.bin.pack_model")
    if fmt > FORMAT:
        raise PackError(f"{path}: packed in format {fmt} by chain {meta.get('chain_version', '?')}; "
                        f"chain {chain.__version__} reads formats up to {FORMAT}: install chain "
                        f"{meta.get('chain_version', '?')} or later")
    return meta


def packed_paths(root: Path, kind: str) -> dict[str, Path]:
    """Where the files of an unpacked model are: the ``lang_dir``, ``cmvn`` (and ``cmvn_linear``;
    ``spk_exp_dir`` and ``spk_cmvn`` of a multi-speaker TTS) keyword arguments of
    chain.asr.recognize.load_asr and chain.tts.synthesize.load_tts."""
    paths = {"lang_dir": root / LANG, **{key: root / name for key, name in PACKED_PATHS[kind].items()}}
    if kind == "tts" and (root / SPK).is_dir():
        paths.update(spk_exp_dir=root / SPK, spk_cmvn=root / SPK_CMVN)
    return paths
