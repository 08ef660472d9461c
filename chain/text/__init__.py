"""Text: the paper's normalisation, character and sentencepiece tokenizers, text-file checks."""
from chain.text.char_tokenizer import CharTokenizer
from chain.text.normalize import CHARSET, normalize
from chain.text.sentencepiece_tokenizer import SentencePieceTokenizer
from chain.text.textfile import UnknownReport, check_text_file, encode_text_file, read_text
from chain.text.tokenizer import TOKEN_TYPES, Tokenizer, load, read_units

__all__ = ["CHARSET", "CharTokenizer", "SentencePieceTokenizer", "TOKEN_TYPES", "Tokenizer",
           "UnknownReport", "check_text_file", "encode_text_file", "load", "normalize", "read_text", "read_units"]
