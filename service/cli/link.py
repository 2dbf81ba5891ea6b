"""``dprk-kg link discover | apply | check``: the command line of external linking.

Exit codes, as for every ``dprk-kg`` command: 0 success; 1 the check found drift / the review
cannot be applied because it breaks a rule; 2 bad usage, unreadable input or an endpoint
that cannot be used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from service.config import BUNDLE_ROOT
from service.linking.apply import ApplyError, check, link_quads, merge_into_file, post_to_service, read_review
from service.linking.client import EndpointError, SparqlClient, default_cache_dir
from service.linking.discover import discover, now_iso, summary, to_turtle
from service.linking.entities import load_entities, read_links
from service.linking.health import check_links, to_text
from service.linking.profiles import DATASETS, dataset_for

ROOT_OPTION = click.option(
    "--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
    help="Folder holding ontology/ and data/ (default: this repository).")


def _client_options(func: click.decorators.FC) -> click.decorators.FC:
    """Options every command that talks to an external endpoint shares."""
    options = [
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default="wikidata", show_default=True,
                     help="Which external dataset the endpoint serves (decides IRIs, labels and types)."),
        click.option("--endpoint", default=None,
                     help="SPARQL endpoint URL (default: the dataset's public endpoint, e.g. "
                          "https://query.wikidata.org/sparql)."),
        click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
                     help="Seconds to wait for one answer."),
        click.option("--retries", type=click.IntRange(min=0, max=10), default=3, show_default=True,
                     help="Retries of a failed request (timeouts, HTTP 429/5xx), with exponential back-off."),
        click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
                     help="Seconds to leave between two requests (politeness to public endpoints)."),
        click.option("--batch-size", type=click.IntRange(min=1, max=500), default=40, show_default=True,
                     help="Labels or items per query (VALUES block size)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Where answers are cached (default: ~/.cache/dprk-kg/sparql)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the answer cache."),
        click.option("--max-age", type=click.FloatRange(min=0), default=None,
                     help="Seconds a cached answer stays valid (default: 86400 for discover, 3600 for check)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _client(endpoint: str, options: dict, default_max_age: float) -> SparqlClient:
    cache = None if options["no_cache"] else (options["cache_dir"] or default_cache_dir())
    max_age = options["max_age"] if options["max_age"] is not None else default_max_age
    try:
        return SparqlClient(endpoint, timeout=options["timeout"], retries=options["retries"],
                            delay=options["delay"], cache_dir=cache, max_age=max_age)
    except EndpointError as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from exc


def _fail(message: str, problems: list[str] | None = None, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    for problem in problems or []:
        click.echo(f"  - {problem}", err=True)
    sys.exit(code)


@click.group("link")
def link_group() -> None:
    """Links to Wikidata and DBpedia: find candidates, apply reviewed ones, check existing ones."""


@link_group.command("discover")
@ROOT_OPTION
@_client_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("link-candidates.ttl"),
              show_default=True, help="The review file to write (Turtle).")
@click.option("--entity", "entities_wanted", multiple=True,
              help="Only this resource (IRI or djr: id, e.g. djr:hiroshi-nakai); repeatable.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Drop candidates scoring less.")
@click.option("--per-entity", type=click.IntRange(min=1), default=5, show_default=True,
              help="Keep at most this many candidates per resource.")
def discover_command(root: Path, output: Path, entities_wanted: tuple[str, ...], min_score: float,
                     per_entity: int, **options: object) -> None:
    """Find candidate matches for resources that have no link yet, and write them for review."""
    dataset = dataset_for(str(options["dataset"]))
    endpoint = str(options["endpoint"] or dataset.default_endpoint)
    client = _client(endpoint, options, 24 * 3600.0)
    entities = load_entities(root)
    only = None
    if entities_wanted:
        only = {_expand(e) for e in entities_wanted}
        unknown = sorted(only - set(entities))
        if unknown:
            raise click.BadParameter(f"not a resource of the data: {', '.join(unknown)}", param_hint="--entity")
    try:
        result = discover(entities.values(), dataset, client, only=only, min_score=min_score,
                          per_entity=per_entity, batch_size=int(options["batch_size"]))  # type: ignore[call-overload]
    except EndpointError as exc:
        _fail(str(exc))
    output.write_text(to_turtle(result), encoding="utf-8")
    click.echo(summary(result))
    click.echo(f"review file: {output} (set dj:linkStatus to \"accepted\" or \"rejected\", then: "
               f"dprk-kg link apply {output})")


@link_group.command("apply")
@ROOT_OPTION
@click.argument("review_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--links", "links_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The links file to update (default: <root>/data/links.trig).")
@click.option("--service", default=None, help="Apply to this running service (its base URL) instead of the file.")
@click.option("--token", envvar="DPRK_KG_WRITE_TOKEN", default=None,
              help="The service's write token (with --service) [env: DPRK_KG_WRITE_TOKEN].")
@click.option("--dry-run", is_flag=True, help="Check the review and show what would change; write nothing.")
def apply_command(root: Path, review_file: Path, links_file: Path | None, service: str | None, token: str | None,
                  dry_run: bool) -> None:
    """Add the links a reviewer accepted (and remember the rejected ones), after checking them."""
    if service and not token:
        raise click.BadParameter("--service needs the write token (--token or DPRK_KG_WRITE_TOKEN)",
                                 param_hint="--token")
    try:
        review = read_review(review_file)
    except ApplyError as exc:
        _fail(str(exc), exc.problems)
    accepted = sum(d.status == "accepted" for d in review.decisions)
    rejected = len(review.decisions) - accepted
    if not review.decisions:
        click.echo(f"{review_file}: nothing to apply ({review.undecided} record(s) still \"candidate\")")
        return
    new = link_quads(review, now_iso())
    target = links_file or root / "data" / "links.trig"
    problems = check(root, new, load_entities(root), target)
    if problems:
        _fail(f"{review_file}: not applied, {len(problems)} problem(s)", problems, code=1)
    described = f"{accepted} accepted, {rejected} rejected, {review.undecided} still to review"
    if dry_run:
        click.echo(f"{review_file}: checks pass ({described}); nothing written (--dry-run)")
        return
    if service:
        try:
            answer = post_to_service(service, str(token), new)
        except ApplyError as exc:
            _fail(str(exc), exc.problems, code=1)
        click.echo(f"applied to {service}: {described} ({answer})")
        return
    merge_into_file(target, new)
    click.echo(f"applied to {target}: {described}")


@link_group.command("check")
@ROOT_OPTION
@_client_options
@click.option("--links", "links_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Check the links of this TriG/Turtle file (default: every link of the data under --root).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_command(root: Path, links_file: Path | None, output_format: str, **options: object) -> None:
    """Check that linked external items still exist, were not merged or redirected, and still fit."""
    dataset = dataset_for(str(options["dataset"]))
    endpoint = str(options["endpoint"] or dataset.default_endpoint)
    client = _client(endpoint, options, 3600.0)
    entities = load_entities(root)
    try:
        links = read_links(links_file) if links_file else sorted(
            (e.iri, t) for e in entities.values() for t in e.links)
    except SyntaxError as exc:
        _fail(f"{links_file}: cannot be parsed: {exc}")
    try:
        report = check_links(links, entities, dataset, client, batch_size=int(options["batch_size"]))  # type: ignore[call-overload]
    except EndpointError as exc:
        _fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(to_text(report, {iri: e.short for iri, e in entities.items()}))
    sys.exit(0 if report.ok else 1)


def _expand(text: str) -> str:
    from service.rdf.vocabulary import RESOURCE_NS

    text = text.strip().strip("<>")
    if text.startswith("djr:"):
        return RESOURCE_NS + text[4:]
    if "://" not in text:
        return RESOURCE_NS + text.replace("_", "-")
    return text
