"""The one normalisation names and queries go through (service.search.normalize)."""

from __future__ import annotations

import pytest

from service.search.normalize import compact, fold, query_tokens, tokens


@pytest.mark.parametrize("spelling", ["Song Il-ho", "Song Ilho", "song ilho", "SONG IL HO", "Song  Il‐ho",
                                      "Ｓｏｎｇ Ｉｌ-ｈｏ"])
def test_spellings_of_one_name_share_a_compact_key(spelling):
    assert compact(spelling) == "songilho"


def test_latin_diacritics_do_not_matter():
    assert compact("Shinzō Abe") == compact("Shinzo Abe") == "shinzoabe"
    assert compact("Pyŏngyang") == "pyongyang"
    assert fold("Straße") == "strasse"


def test_kana_voicing_marks_are_letters_not_diacritics():
    assert compact("ガ") != compact("カ")
    assert compact("ｶﾞ") == compact("ガ"), "half-width kana are folded to full width, voiced stays voiced"


def test_hangul_and_han_stay_whole_characters():
    assert compact("송일호") == "송일호" and len(compact("송일호")) == 3
    assert compact("宋日昊") == "宋日昊"
    assert compact("宋 日-昊") == "宋日昊"


def test_words_keep_hyphenated_names_whole_and_in_parts():
    assert tokens("Kim Jong-un") == ("kim", "jongun", "jong", "un")
    assert query_tokens("Il-ho Song") == ("ilho", "song")


def test_text_without_letters_has_an_empty_key():
    assert compact(" - ' ") == "" and query_tokens("--") == ()
