"""Corpus preparation: each module turns one corpus into the chain's Kaldi data dirs.

- :mod:`chain.corpora.ljspeech`: LJSpeech-1.1, single speaker (paper section III).
- :mod:`chain.corpora.mini_espeak`: the embedded corpus, sentences spoken by espeak-ng
  voices (:mod:`chain.corpora.espeak`).
"""
