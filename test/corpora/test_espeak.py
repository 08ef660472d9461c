"""espeak-ng synthesis through ctypes: audio, phone alignments, voices."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from chain.corpora.espeak import SAMPLE_RATE, EspeakSynth, Phone, _phones, parse_voice
from chain.corpora.mini_espeak import speaker_voices

TEXT = "the dog's bone, is it forty-two?"


def test_synth_gives_16k_float_audio_and_aligned_phones():
    audio, phones = EspeakSynth("en-gb+m3").synth(TEXT)
    duration = len(audio) / SAMPLE_RATE
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.0 < duration < 5.0  # a short sentence at 175 words per minute
    assert np.abs(audio).max() <= 1.0 and np.abs(audio).max() > 0.1
    assert len(phones) > 15
    assert "sil" in [p.phone for p in phones]  # the comma pause
    for prev, cur in zip(phones, phones[1:]):
        assert prev.end <= cur.start + 1e-9
    for phone in phones:
        assert 0.0 <= phone.start < phone.end <= duration + 1e-9
        assert phone.phone and not any(c.isspace() for c in phone.phone)
    # the phones cover the speech: from the first few ms to the end of the audio
    assert phones[0].start < 0.05 and phones[-1].end > duration - 0.05


def analyse(audio: np.ndarray) -> tuple[float, np.ndarray]:
    """Median autocorrelation F0 (Hz) of the voiced frames and the long-term log spectrum."""
    n, hop = 640, 160  # 40 ms frames, 10 ms hop
    frames = np.lib.stride_tricks.sliding_window_view(audio.astype(np.float64), n)[::hop]
    frames = frames - frames.mean(1, keepdims=True)
    energy = (frames ** 2).sum(1)
    frames = frames[energy > energy.max() * 1e-2]
    spectrum = np.log((np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2).mean(0) + 1e-10)
    lo, hi = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    f0 = []
    for x in frames:
        corr = np.correlate(x, x, "full")[n - 1:]
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.5 * corr[0]:
            f0.append(SAMPLE_RATE / lag)
    return float(np.median(f0)), spectrum


def differ(a: tuple[float, np.ndarray], b: tuple[float, np.ndarray]) -> bool:
    """Another voice quality (long-term spectrum) or a pitch more than 8% apart."""
    spectral = float(np.sqrt(np.mean((a[1] - b[1]) ** 2)))
    return spectral > 0.4 or abs(np.log(a[0] / b[0])) > 0.08


def test_voice_switches_between_instances():
    first, second = EspeakSynth("en-us+m1"), EspeakSynth("en-us+f2")
    a1, p1 = first.synth(TEXT)
    b, _ = second.synth(TEXT)  # switches espeak's global voice
    a2, p2 = first.synth(TEXT)  # must switch back
    # espeak carries its pitch-flutter phase over, so a2 may differ from a1 by a few samples
    assert abs(len(a1) - len(a2)) < 0.01 * len(a1)
    assert [p.phone for p in p1] == [p.phone for p in p2]
    assert not differ(analyse(a1), analyse(a2))
    assert analyse(b)[0] > 1.5 * analyse(a2)[0]  # f2 speaks higher than m1


def test_pitch_parameter_scales_pitch():
    low, mid, high = (analyse(EspeakSynth("en-gb+m3", pitch=p).synth(TEXT)[0])[0] for p in (35, 50, 65))
    assert low < 0.95 * mid and high > 1.05 * mid


def test_all_speakers_are_distinct():
    text = "she sells sea shells by the sea shore, doesn't she?"
    speakers = speaker_voices(36)
    feats = [analyse(EspeakSynth(s.voice, pitch=s.pitch).synth(text)[0]) for s in speakers]
    for i, j in itertools.combinations(range(len(speakers)), 2):
        assert differ(feats[i], feats[j]), (speakers[i], speakers[j])
    # the measure is not trivially true: the same speaker again is not "different"
    for k in (0, 13, 27):
        synth = EspeakSynth(speakers[k].voice, pitch=speakers[k].pitch)
        assert not differ(feats[k], analyse(synth.synth(text)[0])), speakers[k]


def test_gender_and_parse_voice():
    assert EspeakSynth("en-gb-scotland+f3").gender == "f"
    assert EspeakSynth("en-us").gender is None
    assert parse_voice("en-GB+m3") == ("en-gb", "m3")
    assert parse_voice("en-us") == ("en-us", None)


@pytest.mark.parametrize("voice, match", [("xx-yy+m1", "unknown espeak-ng language 'xx-yy'"),
                                          ("en-gb+q9", "unknown espeak-ng variant 'q9'")])
def test_bad_voice_is_named(voice, match):
    with pytest.raises(ValueError, match=match):
        EspeakSynth(voice)


def test_bad_rate_pitch_and_empty_text():
    with pytest.raises(ValueError, match="rate_wpm"):
        EspeakSynth("en-us", rate_wpm=20)
    with pytest.raises(ValueError, match="pitch"):
        EspeakSynth("en-us", pitch=120)
    with pytest.raises(ValueError, match="empty"):
        EspeakSynth("en-us").synth("  ")


def test_phones_from_events_merge_pauses_and_clip():
    rate = 1000  # one sample per millisecond
    events = [("h", 10), ("'oU", 60), ("_:", 200), ("_", 300), ("k", 300), ("s", 400)]
    assert _phones(events, num_samples=500, rate=rate, duration=0.45) == [
        Phone("h", 0.010, 0.060), Phone("'oU", 0.060, 0.200), Phone("sil", 0.200, 0.300),
        Phone("k", 0.300, 0.400), Phone("s", 0.400, 0.450)]
