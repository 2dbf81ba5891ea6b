"""``dprk-kg stats``: how big the graph is — triples, resources per class, facts per document, and how many
of each document's fact-bearing resources an evidence passage states (``--evidence`` lists the others).

Why offline by default: it answers from the files themselves (loaded into an in-memory store), so
it works before the service runs and shows what a first start will load. With ``--endpoint`` it
prints a running service's figures (``GET /stats``), batches ingested since the start included.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click

from service.config import BUNDLE_ROOT
from service.rdf.bundle import load_bundled
from service.store import stats


def remote_figures(endpoint: str) -> stats.Stats:
    """The figures of a running service (its ``GET /stats``)."""
    url = endpoint.rstrip("/") + "/stats"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - user's URL
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        return stats.from_json(json.loads(response.read()))


@click.command("stats")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/ and data/ (default: this repository).")
@click.option("--endpoint", metavar="URL", default=None,
              help="Ask a running service (e.g. http://127.0.0.1:8000) instead of the bundled files: its figures "
              "count the batches ingested since it started.")
@click.option("--evidence", "list_missing", is_flag=True, default=False,
              help="Also list, per document, the fact-bearing resources no evidence passage states yet.")
def stats_command(root: Path, endpoint: str | None, list_missing: bool) -> None:
    """Print counts per class and per source document of the bundled graph (or of a running service)."""
    if endpoint:
        try:
            figures = remote_figures(endpoint)
        except urllib.error.HTTPError as exc:
            click.echo(f"error: the service answered {exc.code}: {exc.reason}", err=True)
            sys.exit(1)
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            click.echo(f"error: cannot read the figures of {endpoint}: {exc}", err=True)
            sys.exit(1)
    else:
        figures = stats.compute(stats.in_memory(load_bundled(root)))  # the same figures as GET /stats
    click.echo(f"{figures.quads} quads in {figures.graphs} named graphs\n")
    click.echo(f"{'resources':>9}  class")
    for name, count in figures.classes:
        click.echo(f"{count:>9}  {name}")
    click.echo(f"\n{'triples':>9} {'resources':>9}  source document (its graph and the batches sent with it)")
    for name, triples, resources in figures.documents:
        click.echo(f"{triples:>9} {resources:>9}  {name}")
    click.echo(f"\n{'evidenced':>9} {'of':>9}  source document: fact-bearing resources an evidence passage states")
    for coverage in figures.evidence:
        left = f", {len(coverage.missing)} left" if coverage.missing else ""
        click.echo(f"{coverage.evidenced:>9} {coverage.fact_bearing:>9}  {coverage.document} "
                   f"({coverage.percent} %{left})")
    if list_missing:
        for coverage in figures.evidence:
            if coverage.missing:
                click.echo(f"\nwithout evidence in {coverage.document}:")
                for resource in coverage.missing:
                    click.echo(f"  {resource}")
