"""Text-to-speech: Tacotron with stop-token output and speaker conditioning (section III-C of the machine speech chain paper)."""
from chain.tts.tacotron import Tacotron

__all__ = ["Tacotron"]
