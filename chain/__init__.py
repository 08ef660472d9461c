"""Recipes for the machine speech chain: an attention ASR and a Tacotron TTS that teach each other.

``from chain import Speech2Text, Text2Speech`` gives the inference API of packed models
(chain.inference); it is imported on first use, so ``import chain`` stays light.
"""
__version__ = "0.1.0"
__all__ = ["Speech2Text", "Text2Speech", "__version__"]


def __getattr__(name: str):
    if name in ("Speech2Text", "Text2Speech"):
        from chain import inference

        return getattr(inference, name)
    raise AttributeError(f"module 'chain' has no attribute {name!r}")
