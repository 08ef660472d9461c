"""Acoustic features: log-mel / log-linear spectrograms (fbank), global CMVN (cmvn),
and the stage 1 extraction job (extract)."""
from chain.feats.cmvn import accumulate_cmvn, apply_cmvn, invert_cmvn, load_cmvn, save_cmvn
from chain.feats.fbank import Fbank, FbankConfig, log_linear, log_mel

__all__ = ["Fbank", "FbankConfig", "log_mel", "log_linear", "accumulate_cmvn", "apply_cmvn",
           "invert_cmvn", "load_cmvn", "save_cmvn"]
