"""ESPnet2's RNN ASR and Tacotron2, sized to match chain's paper-size models (bench/models.py).

ESPnet is not part of tools/venv: build tools/venv_bench with ``make -C tools bench-venv``
and run the benchmark with tools/venv_bench/bin/python. ``import_error()`` tells whether
the classes import here.

The sizes below were chosen so that the parameter counts match chain's defaults
(``Seq2SeqASR``: 6.90 M, ``Tacotron``: 4.89 M with the paper's 37-token character set);
bench/models.py prints both counts and refuses to compare beyond ``MAX_SIZE_GAP``.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings

import torch

MAX_SIZE_GAP = 0.10  # the largest relative parameter-count difference a comparison accepts

# ESPnet2 ASR: RNNEncoder "blstmp" (BiLSTM + projection after every layer, ESPnet's own
# subsampling by frame skipping) and RNNDecoder (1 LSTM layer, embedding size = LSTM size,
# output from the LSTM state only). Encoder cells as the paper (3 x 256 per direction,
# 1/8 of the frames); projection 320 is ESPnet's default eprojs.
ESPNET_ASR = dict(enc_layers=3, enc_hidden=256, enc_proj=320, subsample=(2, 2, 2),
                  dec_hidden=512, adim=256)

# ESPnet2 Tacotron2: conv + BiLSTM encoder, location-sensitive attention, 2 zoneout LSTMs,
# conv postnet on the mel; it predicts no linear spectrogram. Reduction factor 4 as ours.
ESPNET_TTS = dict(embed_dim=256, econv_chans=256, eunits=256, adim=256, dunits=320,
                  prenet_units=256, postnet_chans=256, reduction_factor=4,
                  use_guided_attn_loss=False)


def import_error() -> str | None:
    """None when the ESPnet2 model classes import, else the error as one line."""
    try:
        _quiet_import()
    except ImportError as err:  # ModuleNotFoundError included
        return f"{type(err).__name__}: {err}"
    return None


def _quiet_import():
    """Import the classes; ESPnet prints a flash-attention notice at import, kept out of the report."""
    # ESPnet warns about CUDA autocast and list lengths on every CPU step: keep the report readable
    warnings.filterwarnings("ignore", category=FutureWarning, module="espnet2")
    logging.getLogger().setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()):
        from espnet2.asr.ctc import CTC
        from espnet2.asr.decoder.rnn_decoder import RNNDecoder
        from espnet2.asr.encoder.rnn_encoder import RNNEncoder
        from espnet2.asr.espnet_model import ESPnetASRModel
        from espnet2.tts.tacotron2.tacotron2 import Tacotron2
    return CTC, RNNDecoder, RNNEncoder, ESPnetASRModel, Tacotron2


def espnet_version() -> str:
    import espnet

    return getattr(espnet, "__version__", "unknown")


def build_asr(vocab_size: int, idim: int, atype: str = "add"):
    """ESPnetASRModel, attention decoder only (ctc_weight 0: no CTC branch is built)."""
    CTC, RNNDecoder, RNNEncoder, ESPnetASRModel, _ = _quiet_import()
    c = ESPNET_ASR
    encoder = RNNEncoder(idim, rnn_type="lstm", bidirectional=True, use_projection=True,
                         num_layers=c["enc_layers"], hidden_size=c["enc_hidden"],
                         output_size=c["enc_proj"], subsample=c["subsample"])
    decoder = RNNDecoder(vocab_size, c["enc_proj"], rnn_type="lstm", num_layers=1,
                         hidden_size=c["dec_hidden"], att_conf=dict(atype=atype, adim=c["adim"]))
    tokens = [f"t{i}" for i in range(vocab_size)]
    return ESPnetASRModel(vocab_size=vocab_size, token_list=tokens, frontend=None, specaug=None,
                          normalize=None, preencoder=None, encoder=encoder, postencoder=None,
                          decoder=decoder, ctc=CTC(vocab_size, c["enc_proj"]), joint_network=None,
                          ctc_weight=0.0, report_cer=False, report_wer=False)


def asr_loss(model, batch: dict) -> torch.Tensor:
    """Training loss of the ESPnet ASR on a chain batch (tokens padded with -1 for ESPnet)."""
    mask = torch.arange(batch["tokens"].size(1))[None, :] < batch["token_lengths"][:, None]
    text = batch["tokens"].masked_fill(~mask, -1)
    loss, _, _ = model(batch["feats"], batch["feat_lengths"], text, batch["token_lengths"])
    return loss


def build_tts(vocab_size: int, mel_dim: int):
    """espnet2.tts.tacotron2.Tacotron2 with ``ESPNET_TTS`` sizes, other options at ESPnet's defaults."""
    *_, Tacotron2 = _quiet_import()
    return Tacotron2(idim=vocab_size, odim=mel_dim, **ESPNET_TTS)


def tts_loss(model, batch: dict) -> torch.Tensor:
    """Training loss of the ESPnet Tacotron2 on a chain batch (the linear targets are unused)."""
    loss, _, _ = model(batch["tokens"], batch["token_lengths"], batch["feats"], batch["feat_lengths"])
    return loss
