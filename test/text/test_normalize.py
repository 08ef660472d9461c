import pytest

from chain.text.normalize import CHARSET, PUNCTUATION_MAP, normalize


@pytest.mark.parametrize("raw, expected", [
    ("Hello World", "hello world"),
    ('He said "yes"', "he said 'yes'"),
    ("\u201cquoted\u201d and \u2018single\u2019", "'quoted' and 'single'"),
    ("first; second", "first, second"),
    ("Stop! Now!", "stop. now."),
    ("the (old) [new] {x} house", "the old new x house"),
    ("Caf\u00e9 na\u00efve \u00fcber", "cafe naive uber"),
    ("1820\u20131830 \u2014 then", "1820-1830 - then"),
    ("wait\u2026", "wait..."),
    ("don\u00b4t \uff01", "don't ."),  # lone accent, full-width '!'
    ("  many \t spaces\n and\u00a0nbsp  ", "many spaces and nbsp"),
    ("don't: really? yes, well-known.", "don't: really? yes, well-known."),
    ("keep 42 & $ as they are", "keep 42 & $ as they are"),
])
def test_normalize_table(raw, expected):
    assert normalize(raw) == expected


def test_normalize_is_idempotent_and_maps_into_charset():
    text = 'A "Test"; (with) Émile\'s \u201cquotes\u201d\u2014done!'
    once = normalize(text)
    assert normalize(once) == once
    assert set(once) <= set(CHARSET + " ")


def test_mapping_targets_are_in_the_charset():
    assert all(v == "" or v in CHARSET for v in PUNCTUATION_MAP.values())
    assert not set(PUNCTUATION_MAP) & set(CHARSET)
