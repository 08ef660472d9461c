import logging
import struct

import numpy as np
import pytest
import soundfile

from chain.data.datadir import DataError
from chain.data.wav import WavScpReader, load_audio

FS = 16000


def tone(seconds=0.5, fs=FS, freq=440.0, channels=1):
    t = np.arange(int(seconds * fs)) / fs
    x = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return x if channels == 1 else np.stack([x] + [0.1 * x] * (channels - 1), axis=1)


def write_wav(path, x, fs=FS):
    soundfile.write(path, x, fs, subtype="PCM_16")
    return path


def write_scp(path, entries):
    path.write_text("".join(f"{k} {v}\n" for k, v in entries))
    return path


def test_path_and_pipe_give_the_same_samples(tmp_path):
    wav = write_wav(tmp_path / "a.wav", tone())
    scp = write_scp(tmp_path / "wav.scp", [("a", wav), ("b", f"cat {wav} |")])
    out = dict(WavScpReader(scp))
    assert list(out) == ["a", "b"]
    assert out["a"].dtype == np.float32 and out["a"].shape == (FS // 2,)
    np.testing.assert_array_equal(out["a"], out["b"])
    np.testing.assert_allclose(out["a"], tone(), atol=1 / 32768 + 1e-6)


def test_pipe_wav_stream_with_unknown_length(tmp_path):
    """Programs writing WAV to a pipe leave the chunk sizes as 0xFFFFFFFF."""
    wav = write_wav(tmp_path / "a.wav", tone())
    data = bytearray(wav.read_bytes())
    struct.pack_into("<I", data, 4, 0xFFFFFFFF)
    struct.pack_into("<I", data, data.index(b"data") + 4, 0xFFFFFFFF)
    (tmp_path / "stream.bin").write_bytes(bytes(data))
    samples, rate = load_audio(f"cat {tmp_path / 'stream.bin'} |")
    assert rate == FS and samples.shape == (FS // 2, 1)


def test_segments_cut_recordings(tmp_path):
    x = np.linspace(-0.5, 0.5, 2 * FS).astype(np.float32)
    wav = write_wav(tmp_path / "rec.wav", x)
    scp = write_scp(tmp_path / "wav.scp", [("rec1", wav)])
    segs = tmp_path / "segments"
    segs.write_text("rec1-a rec1 0.0 0.5\nrec1-b rec1 0.5 1.25\nrec1-c rec1 1.5 -1\n")
    reader = WavScpReader(scp, segs)
    out = dict(reader)
    assert len(reader) == 3 and reader.audio.n_files == 1  # one read for three segments
    assert [len(out[u]) for u in ("rec1-a", "rec1-b", "rec1-c")] == [8000, 12000, 8000]
    full = dict(WavScpReader(scp))["rec1"]
    np.testing.assert_array_equal(out["rec1-b"], full[8000:20000])


def test_segment_may_overshoot_a_little(tmp_path):
    scp = write_scp(tmp_path / "wav.scp", [("r", write_wav(tmp_path / "r.wav", tone(1.0)))])
    segs = tmp_path / "segments"
    segs.write_text("r-1 r 0.5 1.2\n")
    assert len(dict(WavScpReader(scp, segs))["r-1"]) == FS // 2


@pytest.mark.parametrize("seg, what", [
    ("u r 0.5 3.0\n", "outside recording 'r'"),
    ("u r 1.5 1.8\n", "outside recording 'r'"),
])
def test_segment_out_of_range(tmp_path, seg, what):
    scp = write_scp(tmp_path / "wav.scp", [("r", write_wav(tmp_path / "r.wav", tone(1.0)))])
    segs = tmp_path / "segments"
    segs.write_text(seg)
    with pytest.raises(DataError, match=f"{segs}:1: utterance 'u': .*{what}.*{scp}:1"):
        list(WavScpReader(scp, segs))


@pytest.mark.parametrize("seg, what", [
    ("u r 0.5\n", "expected '<utt> <recording> <start> <end>'"),
    ("u r a b\n", "not numbers"),
    ("u r 0.8 0.2\n", "bad times"),
    ("u x 0.0 0.2\n", "recording 'x' is not in"),
])
def test_bad_segments_line(tmp_path, seg, what):
    scp = write_scp(tmp_path / "wav.scp", [("r", write_wav(tmp_path / "r.wav", tone(1.0)))])
    segs = tmp_path / "segments"
    segs.write_text("a r 0.0 0.1\n" + seg)
    with pytest.raises(DataError, match=f"{segs}:2: .*{what}"):
        WavScpReader(scp, segs)


def _bad_value(tmp_path, kind):
    if kind == "missing":
        return str(tmp_path / "nope.wav"), "no such file"
    if kind == "empty":
        (tmp_path / "empty.wav").write_bytes(b"")
        return str(tmp_path / "empty.wav"), "empty file"
    if kind == "corrupt":
        (tmp_path / "bad.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" * 4)
        return str(tmp_path / "bad.wav"), "cannot read"
    if kind == "no samples":
        write_wav(tmp_path / "zero.wav", np.zeros(0, np.float32))
        return str(tmp_path / "zero.wav"), "zero samples"
    if kind == "nan":
        soundfile.write(tmp_path / "nan.wav", np.full(100, np.nan, np.float32), FS, subtype="FLOAT")
        return str(tmp_path / "nan.wav"), "NaN or infinite"
    if kind == "failing pipe":
        return "echo oops >&2; exit 3 |", "exit status 3: oops"
    if kind == "failing pipe stage":
        return f"cat {tmp_path / 'nope.wav'} | cat |", "exit status 1"
    if kind == "silent pipe":
        return "true |", "wrote nothing"
    if kind == "truncated":
        data = write_wav(tmp_path / "full.wav", tone()).read_bytes()
        (tmp_path / "cut.wav").write_bytes(data[:len(data) - 3001])  # header intact, samples cut
        return str(tmp_path / "cut.wav"), r"truncated file .*cut.wav': its header announces 16000 " \
            r"bytes of samples, 12999 are there"
    if kind == "truncated pipe":
        data = write_wav(tmp_path / "full.wav", tone()).read_bytes()
        (tmp_path / "cut.wav").write_bytes(data[:len(data) - 3001])
        return f"cat {tmp_path / 'cut.wav'} |", "truncated output of the command"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "corrupt", "no samples", "nan", "failing pipe",
                                  "failing pipe stage", "silent pipe", "truncated", "truncated pipe"])
def test_bad_input_names_wav_scp_line_and_utterance(tmp_path, kind):
    value, what = _bad_value(tmp_path, kind)
    good = write_wav(tmp_path / "good.wav", tone())
    scp = write_scp(tmp_path / "wav.scp", [("a", good), ("b", value), ("c", good)])
    reader = iter(WavScpReader(scp))
    assert next(reader)[0] == "a"
    with pytest.raises(DataError, match=f"{scp}:2: utterance 'b': .*{what}"):
        next(reader)


def test_missing_wav_scp(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        WavScpReader(tmp_path / "wav.scp")


def test_other_rate_is_resampled_with_one_warning(tmp_path, caplog):
    entries = [(f"u{i}", write_wav(tmp_path / f"u{i}.wav", tone(0.5, fs=22050), fs=22050))
               for i in range(3)]
    entries.append(("v", write_wav(tmp_path / "v.wav", tone())))
    scp = write_scp(tmp_path / "wav.scp", entries)
    with caplog.at_level(logging.WARNING, logger="chain.data.wav"):
        out = dict(WavScpReader(scp))
    assert {len(x) for x in out.values()} == {FS // 2}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "resampled 3 of 4 files from 22050 Hz to 16000 Hz" in warnings[0]
    # the resampled tone keeps its frequency
    spectrum = np.abs(np.fft.rfft(out["u0"]))
    assert abs(np.argmax(spectrum) * FS / len(out["u0"]) - 440) < 4


def test_other_rate_with_strict_is_an_error(tmp_path):
    scp = write_scp(tmp_path / "wav.scp", [("a", write_wav(tmp_path / "a.wav", tone())),
                                           ("b", write_wav(tmp_path / "b.wav", tone(fs=8000), fs=8000))])
    with pytest.raises(DataError, match=f"{scp}:2: utterance 'b': sample rate 8000 Hz, expected 16000"):
        list(WavScpReader(scp, strict=True))


def test_multichannel_takes_channel_0(tmp_path, caplog):
    scp = write_scp(tmp_path / "wav.scp", [("a", write_wav(tmp_path / "a.wav", tone(channels=2)))])
    with caplog.at_level(logging.WARNING, logger="chain.data.wav"):
        out = dict(WavScpReader(scp))
    np.testing.assert_allclose(out["a"], tone(), atol=1 / 32768 + 1e-6)
    assert "took channel 0 of 1 of 1 files with 2 channels" in caplog.text
    with pytest.raises(DataError, match="2 channels, expected mono"):
        list(WavScpReader(scp, strict=True))

