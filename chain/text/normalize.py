"""Text normalisation of the machine speech chain paper (section III-D1).

The paper lowercases the sentences and maps punctuation into its character set
(26 letters ``a-z``, the six marks ``, : ' ? . -`` and the space), "for example,
" into '". :func:`normalize` does that in a fixed order:

1. Unicode NFKD, then combining marks are dropped: ``é`` -> ``e``, ``ü`` -> ``u``,
   ligatures and full-width forms are split into plain letters, ``…`` -> ``...``.
2. Lowercase.
3. :data:`PUNCTUATION_MAP` below (one character in, zero or one out). It is also
   applied before step 1, as NFKD would turn a lone accent such as ``´`` into a
   space and a combining mark.
4. Whitespace runs (tabs, newlines, no-break spaces) become one space; the text is
   stripped at both ends.

Mapping table (step 3):

============================================  =======  ==========================
characters                                    becomes  why
============================================  =======  ==========================
``"`` ``“`` ``”`` ``„`` ``‟`` ``«`` ``»``     ``'``    the paper: " into '
``‘`` ``’`` ``‚`` ``‛`` `` ` `` ``´``         ``'``    apostrophes and single quotes
``;``                                         ``,``    clause break
``!``                                         ``.``    sentence end
``‐`` ``‒`` ``–`` ``—`` ``―`` ``−``           ``-``    dashes and minus
``(`` ``)`` ``[`` ``]`` ``{`` ``}``           (none)   brackets are dropped
============================================  =======  ==========================

Anything else (digits, ``&``, ``$``, ``<noise>`` tags, letters of other scripts) is
left as it is: the tokenizer counts it as unknown, so data preparation can report
it instead of hiding it.
"""
from __future__ import annotations

import re
import unicodedata

#: The paper's characters (section III-D1), space excluded.
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATION = ",:'?.-"
CHARSET = LETTERS + PUNCTUATION

#: Step 3 of :func:`normalize`: character -> replacement ("" drops it).
PUNCTUATION_MAP: dict[str, str] = {
    **dict.fromkeys('"\u201c\u201d\u201e\u201f\u00ab\u00bb', "'"),
    **dict.fromkeys("\u2018\u2019\u201a\u201b`\u00b4", "'"),
    ";": ",",
    "!": ".",
    **dict.fromkeys("\u2010\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("()[]{}", ""),
}

_TABLE = str.maketrans(PUNCTUATION_MAP)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Normalise ``text`` as in section III-D1 of the machine speech chain paper.

    >>> normalize('He said "Café!"  (twice);  OK')
    "he said 'cafe.' twice, ok"
    """
    text = unicodedata.normalize("NFKD", text.translate(_TABLE)).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate(_TABLE)
    return _SPACES.sub(" ", text).strip()
