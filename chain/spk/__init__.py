"""Speaker embedding: the DeepSpeaker-style speaker encoder of the multi-speaker speech chain (section IV-B of the machine speech chain paper)."""
from chain.spk.encoder import SpeakerEncoder

__all__ = ["SpeakerEncoder"]
