"""How a name and a query are made comparable: the one normalisation both sides go through.

Why these steps: people type names the way they remember them — ``song ilho`` for "Song Il-ho", ``Sakhalin`` or
``Sachalin``, ``Shinzo`` for "Shinzō". So: compatibility decomposition (NFKD: full-width letters become ASCII,
ligatures split), Latin/Greek/Cyrillic diacritics dropped (only the Unicode *combining diacritical marks* blocks —
the kana voicing marks are letters of their own, and ガ must not become カ), recomposition (NFC: Hangul syllables
stay syllables), case folding (``casefold``, so ß matches ss), and for comparison a *compact key* without spaces,
hyphens or punctuation. Han, kana and Hangul are written without spaces, so their names are compared as whole
strings: a prefix or a substring of ``宋日昊`` finds it (see :mod:`service.search.index`).
"""

from __future__ import annotations

import re
import unicodedata

#: The combining diacritical marks blocks (acute, macron, breve, cedilla …); other combining marks stay.
_DIACRITICS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
#: What separates words: anything that is not a letter, digit, combining mark, hyphen or apostrophe.
_SEPARATOR = re.compile(r"[^\w\-'\u2019\u2010\u2011]+")
#: Joiners inside a word ("Il-ho", "O'Neill"), dropped from keys.
_JOINERS = re.compile(r"[\-'\u2019\u2010\u2011_]+")
#: Anything but a letter or digit (Python's ``\w`` is ``str.isalnum`` and the underscore).
_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """``text`` without case, width or diacritic differences (words and their separators kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", _DIACRITICS.sub("", decomposed)).casefold()


def compact(text: str) -> str:
    """The compact key of ``text``: folded, letters and digits only (``Song Il-ho`` → ``songilho``)."""
    return _NOT_ALNUM.sub("", fold(text))


def tokens(text: str) -> tuple[str, ...]:
    """The words of ``text``, folded and compacted, each hyphenated word also as its parts
    (``Kim Jong-un`` → ``kim``, ``jongun``, ``jong``, ``un``)."""
    words: list[str] = []
    for word in _SEPARATOR.split(fold(text)):
        key = _NOT_ALNUM.sub("", word)
        if not key:
            continue
        words.append(key)
        if key != word:
            parts = [p for p in (_NOT_ALNUM.sub("", part) for part in _JOINERS.split(word)) if p]
            if len(parts) > 1:
                words.extend(parts)
    return tuple(dict.fromkeys(words))


def query_tokens(text: str) -> tuple[str, ...]:
    """The words of a query (hyphenated words whole: ``Il-ho`` must match ``ilho``, not only ``il``)."""
    return tuple(dict.fromkeys(key for key in (_NOT_ALNUM.sub("", word) for word in _SEPARATOR.split(fold(text)))
                               if key))
