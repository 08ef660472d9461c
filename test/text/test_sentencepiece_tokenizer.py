import pytest

from chain.data.datadir import DataError
from chain.text import CharTokenizer, SentencePieceTokenizer, load
from chain.text.tokenizer import build

CORPUS = [
    "the cat sat on the mat, didn't it?",
    "a well-known book: read it twice.",
    "she said 'yes' to the quick brown fox.",
    "jumps over the lazy dog, then sleeps.",
    "we met at noon: was it monday or tuesday?",
    "the printer noted the press was idle in the third week.",
    "extra vexing quiz of jazz and kings.",
] * 5


@pytest.fixture(scope="module", params=["bpe", "unigram"])
def sp_tok(request):
    return SentencePieceTokenizer.train(CORPUS, request.param, vocab_size=60, symbols=["<noise>"])


def test_special_ids(sp_tok):
    assert (sp_tok.pad_id, sp_tok.unk_id, sp_tok.sos_id, sp_tok.eos_id) == (0, 1, 2, 3)
    assert sp_tok.id2token[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert len(sp_tok) == 60
    assert all(sp_tok.token2id[t] == i for i, t in enumerate(sp_tok.id2token))


@pytest.mark.parametrize("text", ["the cat sat on the mat, didn't it?", "a quiz: jazz-kings?",
                                  "read the book twice. then sleep.", "z"])
def test_round_trip(sp_tok, text):
    ids = sp_tok.encode(text)
    assert sp_tok.unk_id not in ids
    assert sp_tok.decode(ids) == text
    assert sp_tok.decode([sp_tok.sos_id, *ids, sp_tok.eos_id, sp_tok.pad_id]) == text
    assert sp_tok.tokens(text) == [sp_tok.id2token[i] for i in ids]


def test_unknowns_and_symbols(sp_tok):
    assert sp_tok.unk_id in sp_tok.encode("the cat! 42")
    assert sp_tok.unknown_chars("the cat! 42 <noise>") == ["!", "4", "2"]
    noise = sp_tok.token2id["<noise>"]
    assert noise in sp_tok.encode("the <noise> cat")
    assert sp_tok.decode(sp_tok.encode("the <noise> cat")) == "the <noise> cat"


def test_save_load_round_trip(sp_tok, tmp_path):
    sp_tok.save(tmp_path / "lang")
    for name in ("units.txt", "token_type", "bpe.model"):
        assert (tmp_path / "lang" / name).is_file()
    again = load(tmp_path / "lang")
    assert isinstance(again, SentencePieceTokenizer)
    assert again.token_type == sp_tok.token_type and again.id2token == sp_tok.id2token
    assert again.encode(CORPUS[0]) == sp_tok.encode(CORPUS[0])
    units = (tmp_path / "lang" / "units.txt").read_text().splitlines()
    assert units[1] == "<unk> 1" and len(units) == len(sp_tok)


def test_vocab_size_too_large_is_a_clear_error():
    with pytest.raises(ValueError, match="vocabulary size 5000"):
        SentencePieceTokenizer.train(CORPUS, "bpe", vocab_size=5000)


def test_build_from_text_files(tmp_path):
    text = tmp_path / "text"
    text.write_text("".join(f"utt{i:03d} {s}\n" for i, s in enumerate(CORPUS)))
    tok = build("unigram", [text], vocab_size=50)
    assert tok.token_type == "unigram" and len(tok) == 50
    with pytest.raises(ValueError, match="char, bpe, unigram"):
        build("words", [text])


def test_units_that_disagree_with_the_model(sp_tok, tmp_path):
    sp_tok.save(tmp_path / "lang")
    CharTokenizer().save_units(tmp_path / "lang" / "units.txt")
    with pytest.raises(DataError, match="units.txt: disagrees with .*bpe.model"):
        load(tmp_path / "lang")
