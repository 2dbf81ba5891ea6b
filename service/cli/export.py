"""``dprk-kg export``: the bundled dataset as one file, without a running service: TriG or N-Quads with its named
graphs, or Turtle / N-Triples with every graph's triples merged (or one graph).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from service.config import BUNDLE_ROOT
from service.rdf.formats import syntax
from service.rdf.vocabulary import DERIVED_GRAPHS, PREFIXES, expand_name

#: ``--format`` → (syntax, keeps the named graphs?), from the one table of syntaxes.
EXPORT_FORMATS = {name: (syntax(name).rdf_format, syntax(name).datasets)
                  for name in ("trig", "nquads", "turtle", "ntriples")}


def export(root: Path, fmt: str, graph: str | None = None) -> bytes:
    """Serialize the bundled files (no derived graphs) deterministically.

    The files are read in their fixed order and blank nodes are numbered in order of first
    appearance, then the quads are sorted: the same files always give the same bytes.
    Dataset formats keep the named graphs; Turtle and N-Triples hold one graph: ``graph``, or without it the
    union of every graph's triples (each triple once; which graph — which document — stated it is lost).
    """
    from service.rdf.bundle import bundled_quads

    rdf_format, keeps_graphs = EXPORT_FORMATS[fmt]
    blank: dict[str, ox.BlankNode] = {}

    def stable(term: Any) -> Any:
        if isinstance(term, ox.BlankNode):
            return blank.setdefault(term.value, ox.BlankNode(f"b{len(blank)}"))
        return term

    quads: set[ox.Quad] = set()
    for quad in bundled_quads(root):
        quads.add(ox.Quad(stable(quad.subject), quad.predicate, stable(quad.object), quad.graph_name))
    graphs = sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)})
    if graph is not None and graph not in graphs:
        raise ValueError(f"no graph <{graph}> in the bundled files (graphs: {', '.join(graphs)})")
    items: list[Any] = sorted((q for q in quads if graph is None or (
        isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == graph)),
                              key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    if not keeps_graphs:
        items = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in items},
                       key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if rdf_format not in (ox.RdfFormat.TRIG, ox.RdfFormat.TURTLE):
        return ox.serialize(items, format=rdf_format) or b""
    body = ox.serialize(items, format=rdf_format, prefixes=PREFIXES) or b""
    # The serializer writes the prefixes in no fixed order: sort those lines.
    lines = body.splitlines(keepends=True)
    head = sorted(line for line in lines if line.startswith(b"@prefix"))
    return b"".join(head) + b"".join(line for line in lines if not line.startswith(b"@prefix"))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(EXPORT_FORMATS)), default="trig", show_default=True,
              help="trig/nquads keep the named graphs: which source document states each triple. turtle/ntriples "
                   "hold one graph: every graph's triples merged into one (the statements' documents are lost), "
                   "or the one --graph.")
@click.option("--graph", default=None, help="Export only this named graph (IRI or prefixed, e.g. djr:doc-002).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              help="Folder holding ontology/ and data/ (default: this repository).")
def export_command(fmt: str, graph: str | None, output: Path | None, root: Path) -> None:
    """Write the dataset (ontology, shapes, data, links) as one file, offline from the bundled files.

    TriG (the default) and N-Quads keep each source document's statements in its named graph. Turtle and
    N-Triples merge everything into one graph (--format turtle: the whole dataset as one Turtle file), or
    export one graph (--graph djr:doc-002).
    """
    if graph:
        graph = expand_name(graph)
        if graph in DERIVED_GRAPHS:
            raise click.BadParameter("derived graphs are computed by the service, not exported", param_hint="--graph")
    try:
        body = export(root, fmt, graph)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--graph") from exc
    except (OSError, SyntaxError) as exc:
        click.echo(f"Error: cannot read the bundled files under {root}: {exc}", err=True)
        sys.exit(2)
    if output is None:
        click.get_binary_stream("stdout").write(body)
    else:
        output.write_bytes(body)
        click.echo(f"wrote {output} ({len(body)} bytes, {fmt})", err=True)
