"""Locating a curator's quote in its text (service.rdf.evidence.locate): the offsets the Web Annotation
selectors store come from here, so each way a quote can fail to name one passage must be refused clearly."""

from __future__ import annotations

import pytest

from service.rdf.evidence import (
    CONTEXT_CHARS,
    MAX_QUOTE_CHARS,
    EvidenceError,
    Passage,
    locate,
    locate_all,
    passage_iri,
)
from service.rdf.vocabulary import RESOURCE_NS

TEXT = ("Japan and North Korea held talks in Ulaanbaatar on 15-16 November.\n"
        "The talks  resumed in\nBeijing. Japan and North Korea agreed to meet again — “soon”.")


def test_a_unique_quote_is_located_with_code_point_offsets_and_context() -> None:
    found = locate(Passage(("round",), "held talks in Ulaanbaatar"), TEXT)
    assert TEXT[found.start:found.end] == found.exact == "held talks in Ulaanbaatar"
    assert found.prefix == TEXT[max(0, found.start - CONTEXT_CHARS):found.start]
    assert found.suffix == TEXT[found.end:found.end + CONTEXT_CHARS]


def test_offsets_count_code_points_not_bytes() -> None:
    found = locate(Passage(("x",), "again — “soon”"), TEXT)
    assert found.start == TEXT.index("again — “soon”") and found.end - found.start == len("again — “soon”")


def test_a_quote_not_in_the_text_is_refused() -> None:
    with pytest.raises(EvidenceError, match="not found"):
        locate(Passage(("x",), "signed a peace treaty"), TEXT)


def test_quotation_marks_and_case_are_not_relaxed() -> None:
    with pytest.raises(EvidenceError, match="not found"):
        locate(Passage(("x",), 'again — "soon"'), TEXT)
    with pytest.raises(EvidenceError, match="not found"):
        locate(Passage(("x",), "HELD TALKS"), TEXT)


def test_an_ambiguous_quote_is_refused_with_its_count() -> None:
    with pytest.raises(EvidenceError, match="occurs 2 times"):
        locate(Passage(("x",), "Japan and North Korea"), TEXT)


def test_occurrence_picks_one_of_several_and_is_range_checked() -> None:
    second = locate(Passage(("x",), "Japan and North Korea", occurrence=2), TEXT)
    assert second.start == TEXT.index("Japan and North Korea", 1)
    with pytest.raises(EvidenceError, match="occurrence 3 asked"):
        locate(Passage(("x",), "Japan and North Korea", occurrence=3), TEXT)


def test_whitespace_runs_and_line_breaks_match_single_spaces() -> None:
    found = locate(Passage(("x",), "The talks resumed in Beijing"), TEXT)
    assert found.exact == "The talks  resumed in\nBeijing"  # verbatim from the text, not the curator's spacing


def test_too_long_and_too_short_quotes_are_refused() -> None:
    with pytest.raises(EvidenceError, match="characters"):
        locate(Passage(("x",), "word " * (MAX_QUOTE_CHARS // 5 + 1)), "word " * 200)
    with pytest.raises(EvidenceError, match="characters"):
        locate(Passage(("x",), "in"), TEXT)
    with pytest.raises(EvidenceError):
        locate(Passage(("x",), "   "), TEXT)


def test_locate_all_names_every_failing_passage_and_orders_the_rest() -> None:
    with pytest.raises(EvidenceError) as error:
        locate_all("doc-x", [Passage(("a",), "Beijing"), Passage(("b",), "nowhere at all"),
                             Passage(("c",), "Japan and North Korea")], TEXT)
    assert "passage 2" in str(error.value) and "passage 3" in str(error.value) and "passage 1" not in str(error.value)
    located = locate_all("doc-x", [Passage(("b",), "Beijing"), Passage(("a",), "held talks")], TEXT)
    assert [item.exact for item in located] == ["held talks", "Beijing"]
    assert located[0].iri == f"{RESOURCE_NS}doc-x-passage-{located[0].start}-{located[0].end}"


def test_a_second_annotation_of_one_span_gets_its_own_iri() -> None:
    taken: set[str] = set()
    first, second = passage_iri("doc-x", 1, 9, taken), passage_iri("doc-x", 1, 9, taken)
    assert first != second and second.endswith("-b")
