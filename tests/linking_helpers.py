"""Helpers for the linking, VoID and federation tests: the Wikidata-shaped sample on a real Oxigraph
server, small data roots, and the ``dprk-kg`` command line run in-process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from click.testing import CliRunner, Result

from service.cli.main import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "fixtures" / "wikidata-sample.ttl"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"
DJR = "https://w3id.org/dprk-japan-kg/id/"
WD = "http://www.wikidata.org/entity/"

PREFIXES = """\
@prefix dj: <https://w3id.org/dprk-japan-kg/ontology#> .
@prefix djr: <https://w3id.org/dprk-japan-kg/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
"""


def load_sample(server: Any) -> str:
    """Load the Wikidata-shaped sample into a standalone Oxigraph server; return its query URL."""
    server.load(SAMPLE.read_bytes(), "text/turtle")
    return server.query_url


def data_root(tmp_path: Path, trig: str | None = None, *, queries: list[Path] | None = None,
              real_data: bool = False) -> Path:
    """A data root: the repository's ontology, then either its data or one small TriG file, and queries."""
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "ontology").symlink_to(REPO / "ontology", target_is_directory=True)
    if real_data:
        (root / "data").rmdir()
        (root / "data").symlink_to(REPO / "data", target_is_directory=True)
    if trig is not None:
        (root / "data" / "doc-test.trig").write_text(PREFIXES + trig, encoding="utf-8")
    (root / "queries").mkdir()
    for query in queries or []:
        (root / "queries" / query.name).write_text(query.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def run(*args: str) -> Result:
    """``dprk-kg <args>`` in-process; the result carries the exit code and both output streams."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def parse(path: Path) -> list[ox.Quad]:
    """The quads of a Turtle or TriG file."""
    fmt = ox.RdfFormat.TRIG if path.suffix == ".trig" else ox.RdfFormat.TURTLE
    return list(ox.parse(path=str(path), format=fmt))


def candidate_records(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Candidate records of a review file by (resource, item): score, rank, status, evidence."""
    by_record: dict[str, dict[str, Any]] = {}
    for quad in parse(path):
        entry = by_record.setdefault(quad.subject.value, {"evidence": []})
        local = quad.predicate.value.removeprefix(DJ)
        if local == "matchEvidence":
            entry["evidence"].append(quad.object.value)
        else:
            entry[local] = quad.object.value
    return {(r["linkSubject"], r["linkTarget"]): r for r in by_record.values() if "linkSubject" in r}


def set_status(review: Path, decisions: dict[tuple[str, str], str], out: Path) -> Path:
    """Write a copy of a review file with some records' dj:linkStatus changed (what a reviewer does)."""
    quads = parse(review)
    records = {(r["linkSubject"], r["linkTarget"]) for r in candidate_records(review).values()}
    assert set(decisions) <= records, f"no such candidates: {set(decisions) - records}"
    subject_of: dict[str, tuple[str, str]] = {}
    by_record: dict[str, dict[str, str]] = {}
    for quad in quads:
        by_record.setdefault(quad.subject.value, {})[quad.predicate.value] = quad.object.value
    for iri, props in by_record.items():
        if DJ + "linkSubject" in props:
            subject_of[iri] = (props[DJ + "linkSubject"], props[DJ + "linkTarget"])
    changed = []
    for quad in quads:
        pair = subject_of.get(quad.subject.value)
        if pair in decisions and quad.predicate.value == DJ + "linkStatus":
            quad = ox.Quad(quad.subject, quad.predicate, ox.Literal(decisions[pair]), quad.graph_name)
        changed.append(ox.Triple(quad.subject, quad.predicate, quad.object))
    out.write_bytes(ox.serialize(changed, format=ox.RdfFormat.TURTLE) or b"")
    return out


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/sparql"


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An http URL whose server accepts connections and never answers (to exercise time limits)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"
    finally:
        sock.close()
