import pytest

from chain.text import CharTokenizer, load
from chain.text.char_tokenizer import SPC, char_units
from chain.text.normalize import CHARSET


def test_special_ids_and_size():
    tok = CharTokenizer()
    assert (tok.pad_id, tok.unk_id, tok.sos_id, tok.eos_id, tok.spc_id) == (0, 1, 2, 3, 4)
    assert tok.id2token[:5] == ["<pad>", "<unk>", "<s>", "</s>", SPC]
    assert len(tok) == 5 + 26 + 6
    assert tok.token2id["a"] == 5 and tok.token2id["-"] == len(tok) - 1
    assert all(tok.token2id[t] == i for i, t in enumerate(tok.id2token))


@pytest.mark.parametrize("text", ["hello world", "don't: really? yes, well-known.",
                                  CHARSET, "a", "x y z"])
def test_round_trip_inside_the_set(text):
    tok = CharTokenizer()
    ids = tok.encode(text)
    assert len(ids) == len(text) and tok.unk_id not in ids
    assert tok.decode(ids) == text


def test_spaces_unknowns_and_specials():
    tok = CharTokenizer()
    assert tok.tokens("a b!") == ["a", SPC, "b", "<unk>"]
    assert tok.encode("a b") == [5, 4, 6]
    assert tok.decode([tok.sos_id, 5, 4, 6, tok.eos_id, tok.pad_id, tok.pad_id]) == "a b"
    assert tok.decode([5, tok.unk_id]) == "a<unk>"
    assert tok.unknown_chars("Ab!é") == ["A", "!", "é"]


def test_symbols_are_whole_tokens():
    tok = CharTokenizer(char_units(symbols=["<noise>"]))
    noise = tok.token2id["<noise>"]
    assert noise == len(tok) - 1 and tok.token2id["a"] == 5  # characters keep their ids
    ids = tok.encode("a <noise> b")
    assert ids == [5, 4, noise, 4, 6]
    assert tok.decode(ids) == "a <noise> b"
    assert tok.unknown_chars("a <noise> <x>") == ["<", ">"]


def test_units_round_trip(tmp_path):
    tok = CharTokenizer(char_units(symbols=["<noise>"]))
    tok.save(tmp_path / "lang")
    lines = (tmp_path / "lang" / "units.txt").read_text().splitlines()
    assert lines[:5] == ["<pad> 0", "<unk> 1", "<s> 2", "</s> 3", "<spc> 4"]
    assert (tmp_path / "lang" / "token_type").read_text().strip() == "char"
    again = load(tmp_path / "lang")
    assert isinstance(again, CharTokenizer) and again.id2token == tok.id2token
    assert again.encode("a <noise> b") == tok.encode("a <noise> b")


@pytest.mark.parametrize("units", [
    ["<unk>", "<pad>", "<s>", "</s>", "<spc>", "a"],  # specials out of place
    ["<pad>", "<unk>", "<s>", "</s>", "a"],  # no <spc>
    ["<pad>", "<unk>", "<s>", "</s>", "<spc>", "ab"],  # neither a character nor <symbol>
    ["<pad>", "<unk>", "<s>", "</s>", "<spc>", "a", "a"],  # duplicate
])
def test_bad_inventory_raises(units):
    with pytest.raises(ValueError):
        CharTokenizer(units)
