"""Attention sequence-to-sequence ASR (``Seq2SeqASR``) and its batched beam search."""
from chain.asr.beam_search import beam_search
from chain.asr.seq2seq import DecoderState, EncoderMemory, Seq2SeqASR

__all__ = ["DecoderState", "EncoderMemory", "Seq2SeqASR", "beam_search"]
