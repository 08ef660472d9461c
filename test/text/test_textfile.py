import pytest

from chain.data.datadir import DataError
from chain.text import CharTokenizer, check_text_file, encode_text_file, load, read_text


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_read_text(tmp_path):
    path = write(tmp_path / "text", ["u1 hello world", "u2  spaced  out "])
    assert list(read_text(path)) == [(1, "u1", "hello world"), (2, "u2", "spaced  out")]


@pytest.mark.parametrize("lines, line, what", [
    (["u1 a", "u2", "u3 b"], 2, "empty transcript for utterance 'u2'"),
    (["u1 a", "u2    ", "u3 b"], 2, "empty transcript"),
    (["u1 a", "", "u3 b"], 2, "empty line"),
])
def test_empty_text_names_file_and_line(tmp_path, lines, line, what):
    path = write(tmp_path / "text", lines)
    with pytest.raises(DataError, match=f"{path}:{line}: {what}"):
        list(read_text(path))


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "text"
    path.write_bytes(b"u1 ok\nu2 caf\xe9\n")
    with pytest.raises(DataError, match=f"{path}:2: not UTF-8"):
        list(read_text(path))


def test_unknown_characters_are_counted(tmp_path):
    path = write(tmp_path / "text", ["u1 fine", "u2 wow!", "u3 ok", "u4 caf\u00e9 again!"])
    encoded, report = encode_text_file(CharTokenizer(), path)
    assert report.total == 3 and report.num_lines == 4
    assert report.counts == {"!": 2, "\u00e9": 1}
    assert report.first_line == {"!": 2, "\u00e9": 4}
    assert str(report) == (f"3 unknown characters in {path} (read as <unk>; first at {path}:2): "
                           "'!' x2 (first at line 2), '\u00e9' x1 (first at line 4)")
    assert encoded["u2"][-1] == CharTokenizer().unk_id
    assert list(encoded) == ["u1", "u2", "u3", "u4"]


def test_clean_file_report(tmp_path):
    path = write(tmp_path / "text", ["u1 fine", "u2 ok"])
    _, report = encode_text_file(CharTokenizer(), path, strict=True)
    assert report.total == 0 and str(report) == f"no unknown characters in {path} (2 lines)"


def test_strict_raises_at_the_first_unknown(tmp_path):
    path = write(tmp_path / "text", ["u1 fine", "u2 ok", "u3 caf\u00e9", "u4 wow!"])
    with pytest.raises(DataError, match=rf"{path}:3: unknown character '\u00e9'.*2 unknown characters"):
        encode_text_file(CharTokenizer(), path, strict=True)


def test_duplicate_utterance(tmp_path):
    path = write(tmp_path / "text", ["u1 a", "u1 b"])
    with pytest.raises(DataError, match=f"{path}:2: duplicate utterance id 'u1'"):
        encode_text_file(CharTokenizer(), path)


def test_load_errors(tmp_path):
    lang = tmp_path / "lang"
    with pytest.raises(DataError, match="units.txt: no such file"):
        load(lang)
    CharTokenizer().save(lang)
    (lang / "token_type").write_text("words\n")
    with pytest.raises(DataError, match="token_type:1: token type must be one of char, bpe, unigram"):
        load(lang)
    (lang / "token_type").write_text("char\n")
    write(lang / "units.txt", ["<pad> 0", "<unk> 1", "<s> 3"])
    with pytest.raises(DataError, match="units.txt:3: id 3 out of order"):
        load(lang)
    CharTokenizer().save_units(lang / "units.txt")
    (lang / "token_type").write_text("bpe\n")
    with pytest.raises(DataError, match=f"^{lang / 'bpe.model'}: no such file"):
        load(lang)
    (lang / "bpe.model").write_bytes(b"garbage")
    with pytest.raises(DataError, match="bpe.model: not a sentencepiece model"):
        load(lang)


def test_check_text_file_logs_the_report(tmp_path, caplog):
    path = write(tmp_path / "text", ["u1 fine", "u2 \U0001F600\U0001F600", "u3 Caf\u00e9", "u4 \U0001F600"])
    report = check_text_file(CharTokenizer(), path)
    assert report.no_known == [2, 4]
    warning = (f"5 unknown characters in {path} (read as <unk>; first at {path}:2): '\U0001F600' x3 "
               f"(first at line 2), 'C' x1 (first at line 3), '\u00e9' x1 (first at line 3); "
               f"2 transcript(s) with no known character (first at {path}:2)")
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [warning]
    with pytest.raises(DataError, match=rf"{path}:2: unknown character '\U0001F600'"):
        check_text_file(CharTokenizer(), path, strict=True)
