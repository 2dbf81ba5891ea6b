"""``dprk-kg load --store``: a new source document and its facts join a local store as they join the service.

The local path runs the same guarded ingest as ``/ingest`` (``service.store.writes.ingest_batch``): the
registration batch and the facts batch are linked to their document, so the canned queries count them;
an unknown document is rejected (exit 2) and nothing is written. The material (a made-up report,
``djr:doc-901``) is the one of ``tests/web/test_new_documents.py``.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from service import config
from service.cli.main import main
from service.store.client import StoreClient
from tests.web.test_new_documents import EVENT, FACTS, REGISTRATION

REPO = Path(__file__).resolve().parents[2]


def client_for(store_dir: Path) -> StoreClient:
    settings = config.defaults()
    settings.update(STORE_DIR=str(store_dir))
    return StoreClient(settings)


def test_a_new_document_and_its_facts_load_into_a_local_store_and_count_for_it(
        tmp_path: Path, starts_processes: None) -> None:
    registration, facts = tmp_path / "doc-901.ttl", tmp_path / "doc-901-facts.ttl"
    registration.write_text(REGISTRATION, encoding="utf-8")
    facts.write_text(FACTS, encoding="utf-8")
    store_dir = tmp_path / "store"
    result = CliRunner().invoke(main, ["load", "--store", str(store_dir), "--source", "djr:doc-901",
                                       str(registration), str(facts)])
    assert result.exit_code == 0, result.output
    assert "2 of 2 file(s) loaded" in result.output

    client = client_for(store_dir)
    try:
        # The canned query as it stands (no parameter given: every placeholder stays unbound).
        timeline = (REPO / "queries" / "contacts-timeline.rq").read_text(encoding="utf-8")
        rows = [r for r in client.select(timeline).dicts() if r["event"].value == EVENT]
        assert [r["documents"].value for r in rows] == ["1"], "the event counts as doc-901's statement"
        before = quads(client)
    finally:
        client.close()

    unknown = CliRunner().invoke(main, ["load", "--store", str(store_dir), "--source", "djr:doc-998", str(facts)])
    assert unknown.exit_code == 2, unknown.output
    assert "rejected" in unknown.output and "djr:doc-998 is not a registered source document" in unknown.output
    client = client_for(store_dir)
    try:
        assert quads(client) == before, "the rejected batch wrote nothing"
    finally:
        client.close()


def quads(client: StoreClient) -> int:
    return int(client.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows[0][0].value)
