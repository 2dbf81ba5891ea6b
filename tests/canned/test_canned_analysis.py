"""The bundled federated canned queries are analysed from service/canned/rdflib-analysis.json, not by
importing rdflib in the web process: the file must hold exactly rdflib's answers for ``queries/``, any other
text is still parsed by rdflib, and building the app leaves rdflib unimported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.canned.header import ANALYSIS_TABLE, analysis_table, rdflib_analyse, rdflib_parse
from tests.conftest import REPO


def test_the_table_is_rdflibs_answer_for_every_bundled_federated_query() -> None:
    expected = analysis_table(REPO / "queries")  # parsed by rdflib now
    assert expected, "the bundle has federated queries"
    assert json.loads(ANALYSIS_TABLE.read_text(encoding="utf-8")) == expected, \
        "stale: run python scripts/canned_analysis.py"


def test_a_text_not_in_the_table_is_parsed_by_rdflib() -> None:
    text = (REPO / "queries" / "federated-state-capitals.rq").read_text(encoding="utf-8")
    edited = text + "\n# edited\n"
    assert rdflib_analyse(edited) == rdflib_parse(text)
    with pytest.raises(SyntaxError):
        rdflib_analyse(text.replace("SELECT", "SELEKT", 1))


def test_building_the_app_does_not_import_rdflib(tmp_path: Path, loaded_store) -> None:
    loaded_store(tmp_path / "store")
    program = ("import sys; from service import create_app; "
               f"app = create_app({{'STORE_DIR': {str(tmp_path / 'store')!r}}}); "
               "assert len(app.extensions['dprk_kg_canned'].queries) > 2; "
               "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rdflib', 'pyparsing')))")
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
