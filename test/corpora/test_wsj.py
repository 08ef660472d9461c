import subprocess
import sys
import time

import pytest

from chain.corpora.wsj import normalize_transcript, prepare, read_sets
from chain.data.datadir import DataDir, DataError
from chain.data.split import SETS
from chain.data.wav import load_audio
from fixtures.wsj import make_wsj_fixture, utterances, write_compressed_header


@pytest.fixture(scope="module")
def wsj(tmp_path_factory):
    return make_wsj_fixture(tmp_path_factory.mktemp("wsj"))


@pytest.mark.parametrize("raw, text", [
    ("%PERCENT", "percent"),
    (".POINT", "point"),
    ("--DASH", "-dash"),
    ("A [<door_slam] B", "a b"),
    ("A [door_slam>] B", "a b"),
    ("A [phone_ring/] B [/phone_ring] C", "a b c"),
    ("A ~ B . C", "a b c"),
    ("[loud_breath] A [lip_smack]", "<noise> a <noise>"),
    ("<AND> A <it's>", "and a it's"),
    (r"A \,COMMA \.PERIOD", "a ,comma .period"),
    ('"DOUBLE-QUOTE *MISTAKE* Mixed Case', "'double-quote mistake mixed case"),
    ("  [<x] ~  ", ""),
])
def test_normalize_transcript(raw, text):
    assert normalize_transcript(raw) == text


def test_prepare_writes_the_kaldi_s5_sets(wsj, tmp_path):
    sets = prepare(*wsj, tmp_path / "data")
    loaded = {name: DataDir.load(tmp_path / "data" / name) for name in SETS}
    expected = {}
    for name, utt, text in utterances():
        expected.setdefault(name, {})[utt] = text
    si84 = {u: t for u, t in expected["si84"].items() if not u.startswith("401")}
    assert len(si84) == len(expected["si84"]) - 2  # speaker 401 dropped
    assert loaded["train_paired"].text == si84
    assert loaded["train_full"].text == {**si84, **expected["si200"]}
    assert loaded["train_speech_only"].text is None and loaded["train_text_only"].wav_scp is None
    assert set(loaded["train_speech_only"].utts) == set(loaded["train_text_only"].utts) == set(expected["si200"])
    assert loaded["dev"].text == expected["dev93"] and loaded["test"].text == expected["eval92"]
    for name, data in loaded.items():
        assert all(utt[:3] == spk for utt, spk in data.utt2spk.items())
        assert data.utts == sets[name].utts
    # eval92's index lists paths without .wv1; every wav.scp entry is a file soundfile reads
    for utt, path in loaded["test"].wav_scp.items():
        assert path.endswith(f"/{utt}.wv1")
        samples, rate = load_audio(path)
        assert rate == 16000 and len(samples) > 0.2 * rate
    # genders where every speaker has one (4a3 of SI-200 has none)
    assert loaded["train_paired"].spk2gender == {"011": "m", "012": "f", "01a": "f"}
    assert loaded["test"].spk2gender == {"440": "m", "441": "f"}
    assert loaded["train_full"].spk2gender is None and loaded["train_speech_only"].spk2gender is None


def test_unpaired_disjoint_halves_the_si200_speakers(wsj, tmp_path):
    sets = prepare(*wsj, tmp_path / "data", unpaired="disjoint", seed=1)
    speech, text = sets["train_speech_only"], sets["train_text_only"]
    speech_spk, text_spk = set(speech.utt2spk.values()), set(text.utt2spk.values())
    assert len(speech_spk) == len(text_spk) == 2 and not speech_spk & text_spk
    assert set(speech.utts) | set(text.utts) == {u for n, u, _ in utterances() if n == "si200"}
    with pytest.raises(ValueError, match="--unpaired must be one of same, disjoint: got 'half'"):
        prepare(*wsj, tmp_path / "other", unpaired="half")


def _corrupt(path, line_no, new):
    lines = path.read_text().splitlines()
    lines[line_no - 1] = new
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("index, line, what", [
    ("LDC93S6B/11-13.1/wsj0/doc/indices/train/tr_s_wv1.ndx", "11_1_1 wsj0/si_tr_s/011/011c0201.wv1",
     "expected '<disc id>:<path>'"),
    ("LDC93S6B/11-13.1/wsj0/doc/indices/train/tr_s_wv1.ndx", "11_9_1:wsj0/si_tr_s/011/011c0201.wv1",
     "disc 11_9_1 \\(a directory named 11-9.1\\) is under neither"),
    ("LDC94S13B/13-34.1/wsj1/doc/indices/h1_p0.ndx", "13_16_1:wsj1/si_dt_20/4k0/4k0c0299.wv1",
     "no such audio file .*4k0c0299.wv1"),
    ("LDC94S13B/13-34.1/wsj1/doc/indices/si_tr_s.ndx", "13_1_1:wsj1/si_tr_s/4a0/4a0c0201.wv1",
     "utterance 4a0c0201 listed twice"),
])
def test_bad_index_line(tmp_path, index, line, what):
    wsj0, wsj1 = make_wsj_fixture(tmp_path)
    _corrupt(tmp_path / index, 4, line)  # two comment lines, then the entries
    with pytest.raises(DataError, match=f"{tmp_path / index}:4: {what}"):
        read_sets(wsj0, wsj1)


def test_bad_dot_line_and_missing_transcript(tmp_path, caplog):
    wsj0, wsj1 = make_wsj_fixture(tmp_path)
    dot = wsj1 / "13-1.1/wsj1/si_tr_s/4a1/4a1c0200.dot"
    lines = dot.read_text().splitlines()
    dot.write_text("\n".join(lines[:2]) + "\n")  # 4a1c0203 loses its line
    sets = read_sets(wsj0, wsj1)
    assert "4a1c0203" not in sets["si200"].utts and len(sets["si200"].utts) == 11
    assert "si200: 1 of 12 utterances left out for want of text, e.g. 4a1c0203 (no .dot line" in caplog.text
    dot.write_text(lines[0] + "\nNO UTTERANCE ID HERE\n")
    with pytest.raises(DataError, match=f"{dot}:2: expected '<transcript> \\(<utterance id>\\)'"):
        read_sets(wsj0, wsj1)


def _fake_sph2pipe(folder, body):
    exe = folder / "bin" / "sph2pipe"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"#!{sys.executable}\n{body}")
    exe.chmod(0o755)
    return exe


def test_compressed_audio_without_decoder_fails_fast(tmp_path):
    wsj0, wsj1 = make_wsj_fixture(tmp_path)
    compressed = wsj1 / "13-16.1/wsj1/si_dt_20/4k1/4k1c0202.wv1"
    write_compressed_header(compressed)
    cmd = [sys.executable, "-m", "chain.bin.prepare_wsj", "--wsj0", str(wsj0), "--wsj1", str(wsj1),
           "--out-dir", str(tmp_path / "data"), "--sph2pipe", "no-such-sph2pipe"]
    start = time.monotonic()
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 1 and time.monotonic() - start < 30
    assert (f"prepare_wsj: error: {compressed}: compressed SPHERE (pcm,embedded-shorten-v2.00) needs "
            "sph2pipe, and 'no-such-sph2pipe' is neither on PATH nor an executable file: build it from "
            "https://github.com/burrmill/sph2pipe") in run.stderr
    assert not (tmp_path / "data").exists()
    run = subprocess.run([*cmd[:-1], str(tmp_path / "nowhere" / "sph2pipe")], capture_output=True, text=True)
    assert run.returncode == 1 and "nowhere/sph2pipe: no such executable (--sph2pipe)" in run.stderr


def test_decoder_is_checked_then_piped(tmp_path):
    wsj0, wsj1 = make_wsj_fixture(tmp_path)
    broken = _fake_sph2pipe(tmp_path / "broken", "import sys\nsys.exit('sph2pipe: bad header')\n")
    with pytest.raises(DataError, match=r"011c0201.wv1: \S+/broken/bin/sph2pipe -f wav failed to decode "
                                        r"it \(exit status 1: sph2pipe: bad header\)"):
        read_sets(wsj0, wsj1, sph2pipe=str(broken))
    good = _fake_sph2pipe(tmp_path / "good", (
        "import io, sys, soundfile\nassert sys.argv[1:3] == ['-f', 'wav']\n"
        "data, rate = soundfile.read(sys.argv[3])\nbuf = io.BytesIO()\n"
        "soundfile.write(buf, data, rate, format='WAV', subtype='PCM_16')\n"
        "sys.stdout.buffer.write(buf.getvalue())\n"))
    sets = read_sets(wsj0, wsj1, sph2pipe=str(good))
    value = sets["eval92"].wav_scp["440c0201"]
    assert value == f"{good} -f wav {wsj0}/11-14.1/wsj0/si_et_20/440/440c0201.wv1 |"
    samples, rate = load_audio(value)
    assert rate == 16000 and samples.shape[0] > 0


def test_cli(wsj, tmp_path):
    cmd = [sys.executable, "-m", "chain.bin.prepare_wsj", "--wsj0", str(wsj[0]), "--wsj1", str(wsj[1]),
           "--out-dir", str(tmp_path / "data"), "--sph2pipe", "no-such-sph2pipe"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "data/train_paired: 12 utterances, 3 speakers" in run.stdout
    assert "data/test: 4 utterances, 2 speakers" in run.stdout
    run = subprocess.run([*cmd[:4], str(tmp_path / "nowhere"), *cmd[5:]], capture_output=True, text=True)
    assert run.returncode == 1 and "nowhere: no such directory" in run.stderr


def test_corpus_dirs_without_discs(wsj, tmp_path):
    with pytest.raises(DataError, match="11-13.1/wsj0/doc/indices/train/tr_s_wv1.ndx: no such file on the discs "
                                        "\\(found: 13_16_1, 13_1_1, 13_34_1\\); --wsj0 and --wsj1 must be"):
        read_sets(tmp_path, wsj[1])
