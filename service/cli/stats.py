"""``dprk-kg stats``: how big the bundled graph is — triples, resources per class, facts per document.

Why offline: it answers from the files themselves (loaded into an in-memory store), so
it works before the service runs and shows what a first start will load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from service.config import BUNDLE_ROOT
from service.rdf.bundle import load_bundled
from service.rdf.vocabulary import RESOURCE_NS, curie


def compute(store: ox.Store) -> dict[str, Any]:
    """Counts per class (distinct resources, across all graphs) and per source-document graph."""
    classes = store.query(
        "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } "
        f"FILTER(STRSTARTS(STR(?s), \"{RESOURCE_NS}\")) }} GROUP BY ?class ORDER BY DESC(?n) ?class")
    documents = store.query(
        "PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#> "
        "SELECT ?doc (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?resources) "
        "WHERE { GRAPH ?doc { ?doc a dj:SourceDocument . ?s ?p ?o } } GROUP BY ?doc ORDER BY ?doc")
    return {
        "quads": len(store),
        "graphs": len(list(store.named_graphs())),
        "classes": [(curie(r["class"].value), int(r["n"].value)) for r in classes],
        "documents": [(curie(r["doc"].value), int(r["triples"].value), int(r["resources"].value))
                      for r in documents],
    }


@click.command("stats")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/ and data/ (default: this repository).")
def stats_command(root: Path) -> None:
    """Print counts per class and per source document of the bundled graph."""
    figures = compute(load_bundled(root))
    click.echo(f"{figures['quads']} quads in {figures['graphs']} named graphs\n")
    click.echo(f"{'resources':>9}  class")
    for name, count in figures["classes"]:
        click.echo(f"{count:>9}  {name}")
    click.echo(f"\n{'triples':>9} {'resources':>9}  source document (named graph)")
    for name, triples, resources in figures["documents"]:
        click.echo(f"{triples:>9} {resources:>9}  {name}")
