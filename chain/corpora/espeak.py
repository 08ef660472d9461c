"""espeak-ng through ctypes: 16 kHz speech and time-aligned phones.

The library and its voice data come from the ``espeakng_loader`` package; nothing is
installed system-wide. A voice is named ``<language>[+<variant>]``, e.g. ``en-gb+m3``:
the language is looked up among the installed voices (``en-gb`` is the voice file
``gmw/en``), the variant is a file of ``espeak-ng-data/voices/!v`` (``m1``..``m7``,
``f1``..``f5`` give distinct speakers).

espeak-ng keeps global state: one library instance per process, one voice selected at
a time. :class:`EspeakSynth` re-selects its voice before each call when another
instance changed it, so several instances in one process are fine, but they must not
be used from several threads at once. Use processes for parallel synthesis. Some
synthesis state also carries over from one utterance to the next (the phase of the
pitch flutter), so the same text may come out a few samples longer or shorter later
in a process; the same sequence of calls in a fresh process gives the same bits
(:mod:`chain.corpora.espeak_batch` relies on that).
"""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soxr

SAMPLE_RATE = 16000
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_PITCH = 3


class Phone(NamedTuple):
    """One phone: espeak-ng mnemonic (stress marks kept, pauses as ``sil``), times in seconds."""

    phone: str
    start: float
    end: float


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),  # see _voice_languages
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


def _voice_languages(voice: _Voice) -> list[str]:
    """Decode espeak's ``languages`` field: (priority byte, NUL-terminated name)*, then 0."""
    raw = ctypes.cast(voice.languages, ctypes.POINTER(ctypes.c_ubyte))
    out, pos = [], 0
    while raw[pos] != 0:
        name = ctypes.string_at(voice.languages + pos + 1)
        out.append(name.decode())
        pos += len(name) + 2
    return out


class _Engine:
    """The process-wide espeak-ng instance (synchronous output, phoneme events on)."""

    _instance: "_Engine | None" = None

    def __init__(self) -> None:
        import espeakng_loader

        self.data_path = Path(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_GetCurrentVoice.argtypes = []
        lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_Voice)
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint),
                                     ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(),
                                     _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed with data at {self.data_path} "
                               "(reinstall the espeakng-loader package)")
        self.lib, self.sample_rate = lib, rate
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _Callback(self._on_audio)  # keep a reference: espeak holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.current: tuple | None = None
        self.languages = self._list_languages()

    @classmethod
    def get(cls) -> "_Engine":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_PHONEME:
                self._events.append((events[i].id.string.decode("utf-8", "replace"), events[i].sample))
            i += 1
        return 0  # go on synthesising

    def _list_languages(self) -> dict[str, str]:
        """Language code -> voice identifier, taking the voice that lists it first."""
        voices = self.lib.espeak_ListVoices(None)
        best: dict[str, tuple[int, str]] = {}
        i = 0
        while voices[i]:
            voice = voices[i].contents
            for rank, lang in enumerate(_voice_languages(voice)):
                key = (rank, voice.identifier.decode())
                if lang not in best or key < best[lang]:
                    best[lang] = key
            i += 1
        return {lang: ident for lang, (_, ident) in best.items()}

    def select(self, language: str, variant: str | None, rate_wpm: int, pitch: int) -> None:
        """Make ``language+variant`` the current voice; raise if espeak picked another."""
        key = (language, variant, rate_wpm, pitch)
        if key == self.current:
            return
        ident = self.languages[language]
        name = f"{ident}+{variant}" if variant else ident
        spec = _Voice(name=name.encode())
        if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
            raise RuntimeError(f"espeak-ng could not select voice '{name}'")
        got = self.lib.espeak_GetCurrentVoice().contents.identifier.decode()
        if got != name:
            raise RuntimeError(f"espeak-ng selected voice '{got}' instead of '{name}'")
        self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        self.current = key

    def synth(self, text: str) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """Synthesise with the current voice: int16 samples and (phone, start sample) events."""
        self._chunks, self._events = [], []
        data = text.encode("utf-8")
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                       None, None)
        if status != 0 or self.lib.espeak_Synchronize() != 0:
            raise RuntimeError(f"espeak_Synth failed (status {status}) on text {text!r}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio, self._events


def parse_voice(voice: str) -> tuple[str, str | None]:
    """Split ``en-gb+m3`` into ``("en-gb", "m3")``; ``en-us`` gives ``("en-us", None)``."""
    language, _, variant = voice.partition("+")
    return language.lower(), (variant or None)


def _phones(events: list[tuple[str, int]], num_samples: int, rate: int, duration: float) -> list[Phone]:
    """Phone events (start samples at ``rate``) -> phones with end times, in seconds.

    A phone ends where the next one starts (the last at the end of the audio); pauses
    (mnemonics starting with ``_``) become ``sil`` and adjacent pauses merge; phones of
    zero length are dropped; times are clipped to ``duration``.
    """
    out: list[Phone] = []
    for i, (name, start) in enumerate(events):
        end = events[i + 1][1] if i + 1 < len(events) else num_samples
        name = "sil" if name.startswith("_") else name
        start_s, end_s = min(start / rate, duration), min(end / rate, duration)
        if end_s <= start_s or not name:
            continue
        if out and name == "sil" and out[-1].phone == "sil" and out[-1].end == start_s:
            out[-1] = Phone("sil", out[-1].start, end_s)
        else:
            out.append(Phone(name, start_s, end_s))
    return out


class EspeakSynth:
    """A speaker: an espeak-ng voice, a speaking rate (words per minute) and a pitch.

    ``pitch`` (0-100) scales the voice's own pitch: 50 keeps it, 35 is ~13% lower, 65 ~15%
    higher (espeak-ng's ``-p``).
    """

    def __init__(self, voice: str, rate_wpm: int = 175, pitch: int = 50) -> None:
        engine = _Engine.get()
        language, variant = parse_voice(voice)
        if language not in engine.languages:
            family = language.split("-")[0]
            near = sorted(lang for lang in engine.languages if lang.split("-")[0] == family)
            raise ValueError(f"unknown espeak-ng language '{language}' in voice '{voice}': "
                             f"expected one of {near or sorted(engine.languages)}")
        if variant is not None and not (engine.data_path / "voices" / "!v" / variant).is_file():
            raise ValueError(f"unknown espeak-ng variant '{variant}' in voice '{voice}': "
                             f"expected one of {', '.join(VARIANTS)} (or another file of "
                             f"{engine.data_path / 'voices' / '!v'})")
        if not 80 <= rate_wpm <= 450:
            raise ValueError(f"rate_wpm must be within 80..450 words per minute: got {rate_wpm}")
        if not 0 <= pitch <= 100:
            raise ValueError(f"pitch must be within 0..100: got {pitch}")
        self.voice, self.rate_wpm, self.pitch = voice, rate_wpm, pitch
        self._key = (language, variant)
        self._engine = engine
        engine.select(language, variant, rate_wpm, pitch)  # fail now on a voice espeak lacks

    @property
    def gender(self) -> str | None:
        """``m`` or ``f`` from the variant name, None without a variant."""
        variant = self._key[1]
        return variant[0] if variant and variant[0] in "mf" else None

    def synth(self, text: str) -> tuple[np.ndarray, list[Phone]]:
        """Speak ``text``: float32 samples at 16 kHz in [-1, 1] and the phones aligned to them."""
        if not text.strip():
            raise ValueError("cannot synthesise empty text")
        self._engine.select(*self._key, self.rate_wpm, self.pitch)
        raw, events = self._engine.synth(text)
        rate = self._engine.sample_rate
        audio = soxr.resample(raw.astype(np.float32) / 32768.0, rate, SAMPLE_RATE)
        audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
        return audio, _phones(events, len(raw), rate, len(audio) / SAMPLE_RATE)
