"""chain.bin.tag_langs: language tags for a real corpus from its utt2lang."""
import re
import subprocess
import sys

import pytest


def tag(tmp_path, lines, langs, *args):
    (tmp_path / "text").write_text("".join(f"{u} {t}\n" for u, t in lines), encoding="utf-8")
    (tmp_path / "utt2lang").write_text("".join(f"{u} {lang}\n" for u, lang in langs), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "chain.bin.tag_langs", "--utt2lang",
                           str(tmp_path / "utt2lang"), str(tmp_path / "text"), *args],
                          capture_output=True, text=True)


def test_tags_monolingual_and_code_switched_transcripts(tmp_path):
    proc = tag(tmp_path, [("a-1", "これはstill waterですか？"), ("a-2", "hello world."),
                          ("a-3", "<zh>这是<en>cat<zh>吗？"), ("a-4", "漢字です")],
               [("a-1", "ja-en"), ("a-2", "en"), ("a-3", "zh-en"), ("a-4", "ja")])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["a-1 <ja>これは<en>still water<ja>ですか？", "a-2 <en>hello world.",
                                        "a-3 <zh>这是<en>cat<zh>吗？", "a-4 <ja>漢字です"]


@pytest.mark.parametrize("text, lang, message", [
    ("stillです", "en", "'で' \\(kana\\) at character 6: none of the languages en"),
    ("漢字", "ja-zh", "both of the languages ja/zh"),
    ("<en>stillです", "ja-en", "mixed scripts"),
])
def test_bad_transcripts_name_file_and_line_or_are_skipped(tmp_path, text, lang, message):
    lines, langs = [("a-1", "ok."), ("a-2", text)], [("a-1", "en"), ("a-2", lang)]
    proc = tag(tmp_path, lines, langs)
    assert proc.returncode != 0
    assert f"{tmp_path / 'text'}:2: utterance 'a-2'" in proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    proc = tag(tmp_path, lines, langs, "--skip-bad", "true")
    assert proc.returncode == 0 and proc.stdout == "a-1 <en>ok.\n"
    assert "skipped 1 of 2 utterances" in proc.stderr


def test_missing_language(tmp_path):
    proc = tag(tmp_path, [("a-1", "ok.")], [("a-2", "en")])
    assert proc.returncode != 0 and "no language for 'a-1'" in proc.stderr
