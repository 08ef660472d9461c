"""Acoustic features: log-mel / log-linear spectrograms (fbank), global CMVN (cmvn),
the stage 1 extraction job (extract), and WORLD F0 and mel-cepstra for the TTS scores
of stage 7 (world, imported on its own: it loads pyworld)."""
from chain.feats.cmvn import accumulate_cmvn, apply_cmvn, invert_cmvn, load_cmvn, save_cmvn
from chain.feats.fbank import Fbank, FbankConfig, log_linear, log_mel

__all__ = ["Fbank", "FbankConfig", "log_mel", "log_linear", "accumulate_cmvn", "apply_cmvn",
           "invert_cmvn", "load_cmvn", "save_cmvn"]
