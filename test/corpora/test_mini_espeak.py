"""The embedded corpus: grammar, speakers, splits, wavs, alignments, resumption."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from chain.corpora.mini_espeak import (
    ALPHABET, MAX_SPEAKERS, generate_sentences, make_corpus, number_word, speaker_voices, split_voice_groups)
from chain.data.datadir import DataDir, read_kv

SETS = ("train_paired", "train_speech_only", "train_text_only", "train_full", "dev", "test")


# ---------------------------------------------------------------- grammar
def test_sentences_deterministic_distinct_in_charset():
    sentences = generate_sentences(3000, seed=7)
    assert sentences == generate_sentences(3000, seed=7)
    assert sentences != generate_sentences(3000, seed=8)
    assert len(set(sentences)) == 3000
    for s in sentences:
        assert set(s) <= ALPHABET, s
        assert 2 <= len(s.split()) <= 12, s
        assert s == " ".join(s.split()), s  # single spaces, no leading/trailing space
        assert s[-1] in ".?", s
    text = "".join(sentences)
    for mark in ",:'?-":
        assert mark in text
    assert any(" an " in f" {s}" for s in sentences)
    assert not any(" a " + v in f" {s}" for s in sentences for v in "aeiou")


def test_grammar_refuses_impossible_requests():
    with pytest.raises(ValueError, match="distinct sentences"):
        generate_sentences(50, seed=0, min_words=12, max_words=12)


def test_number_words():
    assert [number_word(n) for n in (1, 13, 40, 42, 99)] == [
        "one", "thirteen", "forty", "forty-two", "ninety-nine"]
    with pytest.raises(ValueError):
        number_word(100)


def test_speaker_voices():
    speakers = speaker_voices(MAX_SPEAKERS)
    assert len({s.voice for s in speakers}) == MAX_SPEAKERS == 36
    assert speaker_voices(1) == speakers[:1] and speaker_voices(10) == speakers[:10]
    assert {s.voice.split("+")[0] for s in speakers[:3]} == {"en-us", "en-gb", "en-gb-scotland"}
    assert {s.voice.split("+")[1][0] for s in speakers[:2]} == {"m", "f"}
    assert len({s.voice.split("+")[1] for s in speakers[:12]}) == 12  # all variants first
    # a variant that comes back (with another accent) also has another pitch
    for variant in {s.voice.split("+")[1] for s in speakers}:
        assert len({s.pitch for s in speakers if s.voice.endswith(f"+{variant}")}) == 3
    with pytest.raises(ValueError, match="--speakers"):
        speaker_voices(37)


# ---------------------------------------------------------------- corpus
@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory):
    root = tmp_path_factory.mktemp("two")
    make_corpus(root / "data", root / "wav", num_utts=30, speakers=2, seed=3, nj=1)
    return root


def load_sets(data: Path) -> dict[str, DataDir]:
    return {name: DataDir.load(data / name) for name in SETS}


def check_corpus(root: Path, num_utts: int) -> dict[str, DataDir]:
    sets = load_sets(root / "data")
    paired, speech, text = (sets[n] for n in ("train_paired", "train_speech_only", "train_text_only"))
    assert speech.text is None and not (root / "data/train_speech_only/text").exists()
    assert text.wav_scp is None and not (root / "data/train_text_only/wav.scp").exists()
    parts = [set(paired.utts), set(speech.utts), set(text.utts)]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert set().union(*parts) == set(sets["train_full"].utts)
    dev, test, full = set(sets["dev"].utts), set(sets["test"].utts), set(sets["train_full"].utts)
    assert dev and test and not (dev & test or dev & full or test & full)
    assert len(dev | test | full) == num_utts
    assert set(sets["train_full"].text.values()).isdisjoint(sets["test"].text.values())

    ctm: dict[str, list[tuple[float, float]]] = {}
    lines = (root / "data/local/phones.ctm").read_text().splitlines()
    assert lines == sorted(lines, key=lambda x: (x.split()[0].encode(), float(x.split()[2])))
    for line in lines:
        utt, channel, start, dur, phone = line.split()
        assert channel == "1" and float(dur) > 0
        ctm.setdefault(utt, []).append((float(start), float(start) + float(dur)))
    every = {**sets["train_full"].wav_scp, **sets["dev"].wav_scp, **sets["test"].wav_scp}
    assert set(ctm) == set(every)
    for utt, wav in every.items():
        assert Path(wav).is_absolute()
        info = soundfile.info(wav)
        assert info.samplerate == 16000 and info.frames > 0 and info.subtype == "PCM_16"
        times = ctm[utt]
        assert all(a[0] < b[0] and a[1] <= b[0] + 1e-9 for a, b in zip(times, times[1:]))
        assert times[-1][1] <= info.frames / 16000 + 1e-9
    assert len((root / "data/local/corpus.txt").read_text().splitlines()) == num_utts
    return sets


def test_two_speaker_corpus(two_speakers):
    sets = check_corpus(two_speakers, 30)
    assert len(sets["dev"].utts) == 2 and len(sets["test"].utts) == 2  # ~5% each, at least one
    spk2voice = read_kv(two_speakers / "data/local/spk2voice")
    assert spk2voice == {"spk01": "en-us+m1 pitch=50", "spk02": "en-gb+f1 pitch=50"}
    for utt, spk in sets["train_full"].utt2spk.items():
        assert utt.startswith(f"{spk}-") and spk in spk2voice
        gender = sets["train_full"].extra["utt2gender"][utt]
        assert gender == spk2voice[spk].split("+")[1][0]
        dur = float(sets["train_full"].extra["utt2dur"][utt])
        assert dur == pytest.approx(soundfile.info(sets["train_full"].wav_scp[utt]).duration, abs=1e-3)


def test_ten_speakers_hold_out_two_for_test(tmp_path):
    make_corpus(tmp_path / "data", tmp_path / "wav", num_utts=40, speakers=10, seed=1, nj=2)
    sets = check_corpus(tmp_path, 40)
    assert set(sets["test"].utt2spk.values()) == {"spk09", "spk10"}
    assert len(sets["test"].utts) == 8  # all four utterances of each
    for name in ("train_paired", "train_speech_only", "train_text_only", "train_full", "dev"):
        assert not {"spk09", "spk10"} & set(sets[name].utt2spk.values()), name


def test_rerun_reuses_finished_work_and_gives_the_same_bits(tmp_path):
    root = tmp_path / "corpus"
    make_corpus(root / "data", root / "wav", num_utts=30, speakers=2, seed=3, nj=1)
    wavs = sorted((root / "wav").rglob("*.wav"))
    assert len(wavs) == 30
    before = {w: (w.stat().st_ino, w.read_bytes()) for w in wavs}
    ctm_before = (root / "data/local/phones.ctm").read_text()
    broken = wavs[3]
    broken.write_bytes(b"not a wav")
    make_corpus(root / "data", root / "wav", num_utts=30, speakers=2, seed=3, nj=1)
    redone = [w for w in wavs if w.stat().st_ino != before[w][0]]
    # the chunk of the broken wav (here: all of its speaker's) is spoken again, the rest kept
    assert broken in redone and {w.parent.name for w in redone} == {broken.parent.name}
    assert all(w.read_bytes() == before[w][1] for w in wavs)  # the same bits again
    assert (root / "data/local/phones.ctm").read_text() == ctm_before
    # another number of processes gives the same bits too
    make_corpus(tmp_path / "data2", tmp_path / "wav2", num_utts=30, speakers=2, seed=3, nj=2)
    assert all((tmp_path / "wav2" / w.parent.name / w.name).read_bytes() == before[w][1] for w in wavs)
    # another seed gives other sentences: nothing may be reused under the same utt ids
    inodes = {w: w.stat().st_ino for w in wavs}
    make_corpus(tmp_path / "data4", root / "wav", num_utts=30, speakers=2, seed=4, nj=1)
    assert all(w.stat().st_ino != inodes[w] for w in wavs)


def test_too_few_utterances_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="--num-utts"):
        make_corpus(tmp_path / "data", tmp_path / "wav", num_utts=3, speakers=1, nj=1)


def test_entry_point(tmp_path):
    cmd = [sys.executable, "-m", "chain.bin.make_espeak_corpus", "--out-dir", str(tmp_path / "data"),
           "--wav-dir", str(tmp_path / "wav"), "--num-utts", "20", "--nj", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:7]}
    assert list(rows) == list(SETS)
    assert int(rows["train_full"][0]) + int(rows["dev"][0]) + int(rows["test"][0]) == 20
    assert rows["train_text_only"][2] == "text" and float(rows["train_full"][2]) > 0
    (tmp_path / "bad.yaml").write_text("num-utts: 20\nnum-speakers: 3\n")
    bad = subprocess.run([*cmd, "--config", str(tmp_path / "bad.yaml")], capture_output=True, text=True)
    assert bad.returncode == 2 and "num-speakers" in bad.stderr


def test_recipe_data_sh(tmp_path):
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "utils").symlink_to(root / "utils")
    (tmp_path / "local").symlink_to(root / "egs/mini_espeak/chain1/local")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    def run(*args):
        return subprocess.run(["bash", "local/data.sh", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True)

    assert run("--bogus", "1").returncode == 2
    done = run("--num-utts", "20", "--nj", "1", "--seed", "5")
    assert done.returncode == 0, done.stderr
    sets = load_sets(tmp_path / "data")
    assert len(sets["train_full"].utts) + len(sets["dev"].utts) + len(sets["test"].utts) == 20
    wav_dir = (tmp_path / "downloads/wav").resolve()
    assert all(Path(w).is_relative_to(wav_dir) for w in sets["dev"].wav_scp.values())


def test_voice_groups_split_paired_speech_only_and_unseen_voices():
    speakers = [f"spk{k:02d}" for k in range(1, 8)]
    utts = {f"{speakers[i % 7]}-{i:05d}": speakers[i % 7] for i in range(280)}
    data = DataDir(utt2spk=utts, wav_scp={u: f"/w/{u}.wav" for u in utts}, text={u: "a b" for u in utts})
    sets = split_voice_groups(data, speakers, seed=0, paired_speakers=2, unseen_speakers=1)
    voices = {name: set(d.utt2spk.values()) for name, d in sets.items()}
    assert voices["train_paired"] == voices["test_seen"] == {"spk01", "spk02"}
    assert voices["train_speech_only"] == {"spk03", "spk04", "spk05", "spk06"}
    assert voices["test_unseen"] == {"spk07"} and len(sets["test_unseen"].utts) == 40
    assert "spk07" not in voices["train_full"] | voices["dev"] | voices["train_text_only"]
    assert sets["train_speech_only"].text is None and sets["train_text_only"].wav_scp is None
    parts = [set(sets[n].utts) for n in ("train_paired", "train_speech_only", "train_text_only", "dev",
                                         "test_seen", "test_unseen")]
    assert sum(map(len, parts)) == len(set().union(*parts)) == 280  # disjoint, complete
    assert set(sets["train_full"].utts) == parts[0] | parts[1] | parts[2]
    with pytest.raises(ValueError, match="speech-only voices"):
        split_voice_groups(data, speakers, seed=0, paired_speakers=6, unseen_speakers=1)
