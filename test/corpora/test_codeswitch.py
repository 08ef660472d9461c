"""The code-switching corpus: grammars, segment-wise synthesis, data dirs (chain.corpora.codeswitch)."""
import random

import numpy as np
import pytest

from chain.corpora import codeswitch_grammar as grammar
from chain.corpora.codeswitch import make_corpus, speak_segments, speak_text_file, speaker_voices
from chain.corpora.espeak import EspeakSynth
from chain.data.datadir import DataDir, DataError, read_kv
from chain.text import langtags
from chain.text.langtags import Segment


def draw(seed, n=30):
    rng, seen = random.Random(seed), set()
    return {kind: [langtags.join(s) for s in grammar.sentences(kind, n, rng, seen)] for kind in grammar.KINDS}


def test_grammar_is_deterministic_for_a_seed_and_within_the_inventory():
    first, again, other = draw(3), draw(3), draw(4)
    assert first == again
    assert first != other
    inventory = set(grammar.charset()) | {" "}
    for kind, texts in first.items():
        assert len(set(texts)) == len(texts)
        for text in texts:
            segments = langtags.parse(text)  # tags and scripts agree
            assert set(langtags.strip(text)) <= inventory, text
            langs = {s.lang for s in segments}
            assert langs == set(kind.split("-")), (kind, text)
            if kind == "ja":  # kana only: the Japanese voice cannot read kanji
                assert not any(langtags.script(c) == "han" for c in text)


def test_code_switched_sentences_embed_words_in_a_matrix():
    texts = draw(0, 50)["ja-en"]
    matrix_ja = [t for t in texts if t.startswith("<ja>")]
    assert len(matrix_ja) > len(texts) // 2  # mostly Japanese with English words
    assert any(t.startswith("<en>") for t in texts)  # and some the other way round


def test_speaker_voices():
    assert speaker_voices("ja-en", 1) == {"ja": "ja+f1", "en": "en-gb+f1"}
    assert speaker_voices("zh", 0) == {"zh": "cmn+m1"}
    with pytest.raises(ValueError, match="1..12"):
        speaker_voices("en", 12)


def test_segment_wise_synthesis_length_is_the_sum_of_its_segments():
    synths = {"ja": EspeakSynth("ja+m1"), "en": EspeakSynth("en-us+m1")}
    segments = [Segment("ja", "これは"), Segment("en", "still water"), Segment("ja", "ですか？")]
    alone = [len(synths[s.lang].synth(s.text)[0]) for s in segments]
    whole, lengths = speak_segments(segments, synths)
    assert len(whole) == sum(lengths) and whole.dtype == np.float32
    # espeak-ng carries a little state from one call to the next: a few samples either way
    assert all(abs(n - a) <= 0.01 * a for n, a in zip(lengths, alone))
    middle = whole[lengths[0]:lengths[0] + lengths[1]]  # the English segment, in place
    assert np.abs(middle[:len(middle) // 2]).max() > 0.05


def test_kanji_for_the_japanese_voice_names_file_and_line(tmp_path):
    synths = {"ja": EspeakSynth("ja+m1")}
    with pytest.raises(ValueError, match="kanji '漢字'.*kana only"):
        speak_segments([Segment("ja", "漢字です")], synths)
    text = tmp_path / "text"
    text.write_text("a-1 <ja>これです\na-2 <ja>漢字です\n", encoding="utf-8")
    voices = {"a": {"ja": "ja+m1"}}
    with pytest.raises(DataError, match=rf"{text}:2: utterance 'a-2': kanji"):
        speak_text_file(text, {"a-1": "a", "a-2": "a"}, voices, tmp_path / "wav")
    text.write_text("a-1 <en>stillです\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"{text}:1: .*mixed scripts"):
        speak_text_file(text, {"a-1": "a"}, voices, tmp_path / "wav")


def test_make_corpus_sets(tmp_path):
    sets = make_corpus(tmp_path / "data", tmp_path / "wav", num_mono=3, num_cs=3, num_dev=1,
                       num_test=2, speakers=2, seed=1)
    loaded = {name: DataDir.load(tmp_path / "data" / name) for name in sets}
    assert loaded["train_speech_only"].text is None and loaded["train_text_only"].wav_scp is None
    assert len(loaded["train_paired"].utts) == 9 and len(loaded["dev"].utts) == 4
    assert len(loaded["train_full"].utts) == 9 + 3 + 3
    langs = {name: set(read_kv(tmp_path / "data" / name / "utt2lang").values()) for name in sets}
    assert langs["train_paired"] == {"en", "ja", "zh"} and langs["test_zhen"] == {"zh-en"}
    assert langs["train_speech_only"] == langs["train_text_only"] == langs["test_cs"] == {"ja-en"}
    # no sentence in two sets; the zero-shot Zh-En test shares nothing with training
    text = read_kv(tmp_path / "data" / "local" / "text")
    by_set = {name: {text[u] for u in data.utts} for name, data in loaded.items() if name != "train_full"}
    names = sorted(by_set)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if not (a.startswith("train_paired") or b.startswith("train_paired")):
                assert not by_set[a] & by_set[b], (a, b)
    train_langs = set().union(*(langs[n] for n in langs if n.startswith("train")))
    assert "zh-en" not in train_langs
    assert (tmp_path / "data" / "local" / "chars.txt").read_text().strip() == grammar.charset()
    for utt in loaded["test_zhen"].wav_scp:
        assert float(read_kv(tmp_path / "data" / "test_zhen" / "utt2dur")[utt]) > 0.3


def test_japanese_mandarin_data_joins_the_unpaired_sets_and_changes_no_other_sentence(tmp_path):
    kw = dict(num_mono=2, num_cs=2, num_dev=1, num_test=1, speakers=1, seed=5)
    without = make_corpus(tmp_path / "a", tmp_path / "wa", **kw)
    with_jazh = make_corpus(tmp_path / "b", tmp_path / "wb", num_jazh=3, **kw)
    for name in without:
        if name.startswith(("train_paired", "dev", "test")):
            assert with_jazh[name].text == without[name].text, name
    for name in ("train_speech_only", "train_text_only"):
        langs = read_kv(tmp_path / "b" / name / "utt2lang")
        assert sorted(langs.values()) == ["ja-en"] * 2 + ["ja-zh"] * 3
        assert set(without[name].utts) < set(with_jazh[name].utts)
    assert len(with_jazh["train_full"].utts) == 6 + 2 * 2 + 2 * 3
    text = read_kv(tmp_path / "b" / "local" / "text")
    jazh = [text[u] for u in with_jazh["train_text_only"].utts if "jazh" in u]
    assert all({s.lang for s in langtags.parse(t)} == {"ja", "zh"} for t in jazh)
    with pytest.raises(ValueError, match="at least one utterance"):
        make_corpus(tmp_path / "c", tmp_path / "wc", num_jazh=-1, **kw)


def test_extra_text_only_sentences_are_new_unspoken_and_change_no_other_set(tmp_path):
    kw = dict(num_mono=2, num_cs=2, num_dev=1, num_test=1, speakers=1, seed=5)
    without = make_corpus(tmp_path / "a", tmp_path / "wa", **kw)
    with_extra = make_corpus(tmp_path / "b", tmp_path / "wb", num_text_extra=4, **kw)
    for name in without:
        if name != "train_text_only":
            assert with_extra[name].text == without[name].text, name
    text_only = with_extra["train_text_only"]
    assert set(without["train_text_only"].utts) < set(text_only.utts) and len(text_only.utts) == 6
    assert text_only.wav_scp is None
    assert sorted(read_kv(tmp_path / "b" / "train_text_only" / "utt2lang").values()) == ["ja-en"] * 6
    extra = [u for u in text_only.utts if "extra" in u]
    spoken = read_kv(tmp_path / "b" / "local" / "text")
    assert len(extra) == 4 and not set(extra) & set(spoken)  # never synthesised
    assert not {text_only.text[u] for u in extra} & set(spoken.values())  # sentences of no other set
    assert not set(extra) & set(with_extra["train_full"].utts)
    with pytest.raises(ValueError, match="at least one utterance"):
        make_corpus(tmp_path / "c", tmp_path / "wc", num_text_extra=-1, **kw)
