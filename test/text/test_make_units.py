import subprocess
import sys

import pytest

from chain.bin import make_units
from chain.text import CharTokenizer, load

SENTENCES = ["the cat sat on the mat", "a well-known book: read it twice.",
             "she said 'yes' to the quick brown fox?", "jumps over the lazy dog, then sleeps."]


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "text"
    path.write_text("".join(f"utt{i:02d} {s}\n" for i, s in enumerate(SENTENCES * 3)))
    return path


def test_char_units(tmp_path, text, capsys):
    make_units.main(["--out-dir", str(tmp_path / "lang"), str(text)])
    tok = load(tmp_path / "lang")
    assert tok.id2token == CharTokenizer().id2token
    out = capsys.readouterr()
    assert "vocabulary size 37 (char)" in out.out and "no unknown characters" in out.err


def test_bpe_units_with_symbols(tmp_path, text):
    make_units.main(["--token-type", "bpe", "--vocab-size", "45", "--symbols", "<noise>",
                     "--out-dir", str(tmp_path / "lang"), str(text)])
    tok = load(tmp_path / "lang")
    assert tok.token_type == "bpe" and len(tok) == 45 and "<noise>" in tok.token2id
    assert tok.decode(tok.encode("the dog sat")) == "the dog sat"


def test_unknowns_are_reported_then_strict_fails(tmp_path, text, capsys):
    dev = tmp_path / "dev_text"
    dev.write_text("d1 fine\nd2 wow!\nd3 twice!\n")
    make_units.main(["--out-dir", str(tmp_path / "lang"), "--check-only", str(dev), str(text)])
    assert (f"make_units: warning: 2 unknown characters in {dev} (read as <unk>; first at {dev}:2): "
            "'!' x2 (first at line 2)") in capsys.readouterr().err
    with pytest.raises(SystemExit, match=f"{dev}:2: unknown character '!'"):
        make_units.main(["--out-dir", str(tmp_path / "lang2"), "--strict", "true",
                         "--check-only", str(dev), str(text)])
    assert not (tmp_path / "lang2").exists()  # nothing written on error


def test_switching_to_char_removes_the_old_model(tmp_path, text):
    lang = tmp_path / "lang"
    make_units.main(["--token-type", "unigram", "--vocab-size", "40", "--out-dir", str(lang), str(text)])
    assert (lang / "bpe.model").is_file()
    make_units.main(["--out-dir", str(lang), str(text)])
    assert not (lang / "bpe.model").exists() and load(lang).token_type == "char"


def test_cli_errors(tmp_path, text):
    bad = tmp_path / "bad_text"
    bad.write_text("u1 ok\nu2\n")
    cmd = [sys.executable, "-m", "chain.bin.make_units", "--out-dir", str(tmp_path / "lang")]
    run = subprocess.run([*cmd, str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and f"{bad}:2: empty transcript for utterance 'u2'" in run.stderr
    run = subprocess.run([*cmd, "--strict", "maybe", str(text)], capture_output=True, text=True)
    assert run.returncode == 2 and "expected true or false" in run.stderr
    config = tmp_path / "conf.yaml"
    config.write_text("token-type: char\nvocab_sise: 10\n")
    run = subprocess.run([*cmd, "--config", str(config), str(text)], capture_output=True, text=True)
    assert run.returncode == 2 and "--vocab-sise" in run.stderr
    assert not (tmp_path / "lang").exists()


def test_help_shows_defaults():
    help_text = make_units.get_parser().format_help()
    assert "--token-type" in help_text and "default: char" in help_text


def test_chars_file_makes_a_multilingual_inventory_with_language_tags(tmp_path, capsys):
    chars = tmp_path / "chars.txt"
    chars.write_text("abc ab\nかな\n汉字。？\n", encoding="utf-8")
    text = tmp_path / "text"
    text.write_text("u1 <ja>かな<en>abc<zh>汉字。\nu2 <ja>かなa!\n", encoding="utf-8")
    make_units.main(["--chars", str(chars), "--symbols", "<en>,<ja>,<zh>",
                     "--out-dir", str(tmp_path / "lang"), str(text)])
    tok = load(tmp_path / "lang")
    assert tok.id2token[5:] == [*"abcかな汉字。？", "<en>", "<ja>", "<zh>"]
    assert tok.decode(tok.encode("<ja>かな<en>abc")) == "<ja>かな<en>abc"
    err = capsys.readouterr().err
    assert "1 unknown characters" in err and f"{text}:2" in err  # '!' is outside the inventory
    with pytest.raises(SystemExit, match=f"{text}:2: unknown character '!'"):
        make_units.main(["--chars", str(chars), "--symbols", "<en>,<ja>,<zh>", "--strict", "true",
                         "--out-dir", str(tmp_path / "lang2"), str(text)])
    chars.write_text("ab\n<x>\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=f"{chars}:2: '<' cannot be a character token"):
        make_units.main(["--chars", str(chars), "--out-dir", str(tmp_path / "lang3"), str(text)])
