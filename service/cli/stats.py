"""``dprk-kg stats``: how big the bundled graph is — triples, resources per class, facts per document.

Why offline: it answers from the files themselves (loaded into an in-memory store), so
it works before the service runs and shows what a first start will load.
"""

from __future__ import annotations

from pathlib import Path

import click

from service.config import BUNDLE_ROOT
from service.rdf.bundle import load_bundled
from service.store import stats


@click.command("stats")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/ and data/ (default: this repository).")
def stats_command(root: Path) -> None:
    """Print counts per class and per source document of the bundled graph."""
    figures = stats.compute(stats.in_memory(load_bundled(root)))  # the same figures as GET /stats
    click.echo(f"{figures.quads} quads in {figures.graphs} named graphs\n")
    click.echo(f"{'resources':>9}  class")
    for name, count in figures.classes:
        click.echo(f"{count:>9}  {name}")
    click.echo(f"\n{'triples':>9} {'resources':>9}  source document (named graph)")
    for name, triples, resources in figures.documents:
        click.echo(f"{triples:>9} {resources:>9}  {name}")
