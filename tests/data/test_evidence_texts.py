"""Every evidence quote of the bundled data is verbatim in its source text, at its offsets.

Why here and not in the shapes: the texts are not part of the graph (the data keeps evidence, not the
articles), so SHACL cannot see whether a quote occurs in its document. These tests read the texts
(``../shared/seeds``) and run the project's one check (``scripts/evidence.py check``, built on
:func:`service.rdf.evidence.verify`) over the data as committed, and show that the check reports a planted
annotation whose quote is not in its text, or not at its offsets.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from shared_helpers import SEEDS, needs_shared

from service.rdf.evidence import SELECTIONS_QUERY, Selection, verify
from service.rdf.vocabulary import RESOURCE_NS

pytestmark = needs_shared(SEEDS)

ROOT = Path(__file__).resolve().parents[2]
DOC = RESOURCE_NS + "doc-003"


def evidence_script():
    spec = importlib.util.spec_from_file_location("evidence_script", ROOT / "scripts" / "evidence.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doc_003_text() -> str:
    seed = re.search(r'dj:seedFile\s+"([^"]+)"', (ROOT / "data" / "doc-003.trig").read_text(encoding="utf-8"))
    assert seed is not None
    return (SEEDS / seed.group(1)).read_text(encoding="utf-8")


def selections(trig: str) -> list[Selection]:
    """The selections of annotations written in TriG, read back as the check reads the data."""
    store = ox.Store()
    store.load(trig, format=ox.RdfFormat.TRIG)
    rows = []
    for row in store.query(SELECTIONS_QUERY):
        value = {k: None if row[k] is None else row[k].value
                 for k in ("annotation", "document", "exact", "prefix", "suffix", "start", "end")}
        rows.append(Selection(value["annotation"], value["document"], value["exact"],
                              None if value["start"] is None else int(value["start"]),
                              None if value["end"] is None else int(value["end"]), value["prefix"], value["suffix"]))
    return rows


def escaped(text: str) -> str:
    """``text`` inside a Turtle "…" literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))


def annotation(exact: str, start: int, end: int) -> str:
    exact = escaped(exact)
    return f"""@prefix oa: <http://www.w3.org/ns/oa#> . @prefix djr: <{RESOURCE_NS}> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    GRAPH djr:doc-003 {{ djr:planted a oa:Annotation ; oa:hasBody djr:x ; oa:hasTarget [ oa:hasSource djr:doc-003 ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{exact}" ] ,
                       [ a oa:TextPositionSelector ; oa:start "{start}"^^xsd:nonNegativeInteger ;
                         oa:end "{end}"^^xsd:nonNegativeInteger ] ] . }}"""


def test_every_bundled_quote_is_verbatim_at_its_offsets_and_the_trig_is_current(capsys) -> None:
    status = evidence_script().check(SEEDS)
    output = capsys.readouterr()
    assert status == 0, output.err
    checked = int(re.search(r"(\d+) passages checked", output.out).group(1))
    assert checked > 0, "no evidence passage in the bundled data"


def test_a_quote_that_is_not_in_its_text_is_reported() -> None:
    text = doc_003_text()
    quote = "Japan and North Korea signed a peace treaty"
    assert quote not in text
    problems = list(verify(selections(annotation(quote, 100, 100 + len(quote))), {DOC: text}))
    assert len(problems) == 1 and "does not occur in the text" in problems[0]


def test_a_quote_at_the_wrong_offsets_is_reported_with_where_it_is() -> None:
    text = doc_003_text()
    exact = text[200:240]
    assert text.find(exact) == 200
    problems = list(verify(selections(annotation(exact, 201, 241)), {DOC: text}))
    assert len(problems) == 1 and "it occurs at 200" in problems[0]
    assert list(verify(selections(annotation(exact, 200, 240)), {DOC: text})) == []


@pytest.mark.parametrize("missing", ["text", "position"])
def test_evidence_nobody_can_check_is_reported(missing: str) -> None:
    text = doc_003_text()
    trig = annotation(text[200:240], 200, 240)
    if missing == "position":
        trig = re.sub(r",\s*\[ a oa:TextPositionSelector[^\]]*\]", "", trig)
    problems = list(verify(selections(trig), {} if missing == "text" else {DOC: text}))
    assert len(problems) == 1 and ("no text" in problems[0] or "no TextPositionSelector" in problems[0])
