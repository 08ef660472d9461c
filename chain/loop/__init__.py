"""The speech chain (Algorithm 1 of the machine speech chain paper): the ASR and the TTS
teach each other on unpaired speech and text, optionally with straight-through feedback;
and label propagation's pseudo-labelled training set (labelprop)."""
