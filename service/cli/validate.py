"""``dprk-kg validate`` and ``dprk-kg load``: check data against the shapes, and load it guarded.

Why offline validation uses the service's own code: ``dprk-kg validate FILE`` loads the
bundled graph into an in-memory store and runs exactly the incremental validation the
service runs on ``POST /validate`` and ``/ingest``, so "valid on my machine" means
"accepted by the service" (for the same shapes and data).

Exit codes: 0 the data conforms (warnings allowed) / every file loaded; 1 a shape is
violated / a file was refused; 2 unreadable input or bad usage (the message names the
file, line and column).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from service.config import BUNDLE_ROOT
from service.rdf.formats import EXTENSIONS
from service.rdf.parsing import InputError, parse_rdf

#: Media types to send each file with (``dprk-kg load --endpoint``): each syntax's own, from pyoxigraph.
MEDIA_TYPES = {ext: rdf_format.media_type for ext, rdf_format in EXTENSIONS.items()}


class Unreadable(click.ClickException):
    """A file that cannot be read or parsed: exit code 2, with a message naming file, line and column."""

    exit_code = 2


def read_file(path: Path) -> list[ox.Quad]:
    """Parse one file by its extension; triples of graph syntaxes go into a graph named after the file."""
    rdf_format = EXTENSIONS.get(path.suffix.lower())
    if rdf_format is None:
        raise Unreadable(f"{path}: unknown extension {path.suffix or '(none)'!r}; use one of "
                         + ", ".join(sorted(EXTENSIONS)))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    try:
        quads = parse_rdf(data, rdf_format, source=str(path))
    except InputError as exc:
        raise Unreadable(str(exc)) from exc
    graph = ox.NamedNode(path.resolve().as_uri())
    return [q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in quads]


def _emit(report: Any, fmt: str, violations_only: bool = False) -> None:
    """Print the report; ``violations_only`` lists the violations alone (the counts and the verdict stay those of
    the whole report, so a reader still sees how many warnings were left out)."""
    shown = report
    if violations_only:
        shown = dataclasses.replace(report, results=[r for r in report.results if r.severity == "Violation"])
    if fmt == "json":
        body = shown.to_json()
        if violations_only:
            body.update(warnings=report.count("Warning"), infos=report.count("Info"), listed="violations")
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    elif fmt == "turtle":
        click.echo(shown.to_graph().serialize(format="turtle"))
    elif violations_only:
        summary = report.to_text().split("\n", 1)[0]
        rest = shown.to_text().split("\n", 1)[1]
        left_out = len(report.results) - len(shown.results)
        note = f"Only the violations are listed ({left_out} warning(s) and info(s) left out: --violations-only).\n"
        click.echo(summary + "\n" + note + rest, nl=False)
    else:
        click.echo(report.to_text(), nl=False)


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True,
              help="text: a table grouped by resource, with labels; turtle: a SHACL validation report; json.")
@click.option("--violations-only", is_flag=True, help="List only the violations (the warnings and infos are "
              "counted, not listed).")
@click.option("--full", is_flag=True, help="With FILES: check the whole graph after adding them, not only "
              "what they touch (slower; same verdict on the files).")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/ and data/ (default: this repository).")
def validate_command(files: tuple[Path, ...], fmt: str, violations_only: bool, full: bool, root: Path) -> None:
    """Validate the bundled graph (no FILES), or FILES in the context of the bundled graph.

    FILES may be Turtle (.ttl), TriG (.trig), N-Triples (.nt), N-Quads (.nq), JSON-LD
    (.jsonld, .json; inline @context only) or RDF/XML (.rdf, .owl, .xml). Nothing is
    written anywhere. Exit 0: conforms; 1: violations; 2: unreadable input.
    """
    from service.rdf.bundle import load_bundled
    from service.store.writes import skolemize
    from service.validation import validate_change, validate_store

    add: list[ox.Quad] = []
    for path in files:
        add += read_file(path)
    store = load_bundled(root)
    try:
        if files:
            report = validate_change(store, skolemize(add), union=False, full=full)
        else:
            report = validate_store(store, union=False)
    except ValueError as exc:  # shapes in FILES that cannot be used (e.g. SHACL-SPARQL calling SERVICE)
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    _emit(report, fmt, violations_only)
    sys.exit(0 if report.conforms else 1)


@dataclass
class Outcome:
    """What happened to one file of ``dprk-kg load``."""

    path: Path
    status: str  # loaded | refused (a shape) | rejected (the source) | unreadable | failed
    triples: int = 0
    batch: str | None = None
    reason: str = ""
    hint: str | None = None


def _post(endpoint: str, path: Path, token: str | None, source: str) -> Outcome:
    """Send one file to a running service's /ingest."""
    media_type = MEDIA_TYPES.get(path.suffix.lower())
    if media_type is None:
        return Outcome(path, "unreadable", reason=f"unknown extension {path.suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Outcome(path, "unreadable", reason=f"cannot read the file: {exc.strerror or exc}")
    url = endpoint if endpoint.rstrip("/").endswith("/ingest") else endpoint.rstrip("/") + "/ingest"
    headers = {"Content-Type": media_type, "Accept": "application/json", "X-Source": source}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - user's URL
    try:
        with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
            body = json.loads(response.read())
        return Outcome(path, "loaded", body.get("added", 0), body.get("batch"), hint=body.get("hint"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("message", exc.reason)
        except ValueError:
            message = str(exc.reason)
        status = ("refused" if exc.code == 422 else "rejected" if exc.code == 400 and _names_source(message)
                  else "unreadable" if exc.code in (400, 413, 415) else "failed")
        return Outcome(path, status, reason=f"HTTP {exc.code}: {message}")
    except (urllib.error.URLError, OSError) as exc:
        return Outcome(path, "failed", reason=f"cannot reach {url}: {getattr(exc, 'reason', exc)}")


def _names_source(message: str) -> bool:
    """True for a 400 about the batch's source document rather than its syntax (``writes.resolve_source``)."""
    return "source" in message.lower()


def _progress(step: str, path: Path, message: str) -> None:
    """One line of progress on standard error (the summary stays alone on standard output)."""
    click.echo(f"{step} {path.name}: {message}", err=True)


def _load_local(client: Any, path: Path, source: str, token_name: str, step: str = "") -> Outcome:
    """Ingest one file into a local store through the same guarded write the service uses.

    Progress is said at each stage — read, then checked and committed — because a large batch
    spends most of its time in the check, with nothing else to show it is working.
    """
    from service.problems import ApiError
    from service.store.writes import ingest_batch

    started = time.monotonic()
    try:
        quads = read_file(path)
    except Unreadable as exc:
        return Outcome(path, "unreadable", reason=exc.message)
    if not quads:
        return Outcome(path, "unreadable", reason="the file contains no triples")
    _progress(step, path, f"{len(quads):,} triple(s) read in {time.monotonic() - started:.1f} s; "
                          f"checking them against the shapes and committing…")
    try:
        result = ingest_batch(client, quads, token_name=token_name, source=source)
    except ApiError as exc:
        status = "refused" if exc.status == 422 else "rejected" if exc.status == 400 else "failed"
        return Outcome(path, status, reason=exc.message)
    return Outcome(path, "loaded", result.added, result.details.get("batch"), hint=result.details.get("hint"))


@click.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--endpoint", help="URL of a running service (its POST /ingest is used); "
              "without it the files go into the local --store.")
@click.option("--token", envvar="DPRK_KG_WRITE_TOKEN", help="Write token for --endpoint [env: DPRK_KG_WRITE_TOKEN].")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Local store folder (without --endpoint); the bundled graph is loaded first if it is empty.")
@click.option("--source", help="The source document the FILES state (e.g. djr:doc-003; it must be registered, or "
              "registered by the file itself), another source IRI, or a note (default: the file name).")
@click.option("--no-validate", is_flag=True, help="Local store only: skip the SHACL check (not recommended).")
def load_command(files: tuple[Path, ...], endpoint: str | None, token: str | None, store_dir: Path | None,
                 source: str | None, no_validate: bool) -> None:
    """Load FILES, each as one validated, all-or-nothing batch, and print a summary.

    Each file is checked against the shapes in the context of the graph it joins; a
    file that breaks a rule is refused whole and the others still load. Progress (each
    file's stages, with times) goes to standard error, the summary to standard output.
    Exit 0 when every file loaded, 1 when one was refused, 2 when one could not be read.
    """
    if not endpoint and not store_dir:
        raise click.UsageError("Give --endpoint URL (a running service) or --store DIR (a local store).")
    outcomes: list[Outcome] = []
    client = None
    if not endpoint:
        from service import config
        from service.cli.store_lock import open_local_store

        settings = config.defaults()
        settings.update(config.from_environment())
        settings.update(STORE_DIR=str(store_dir), DATA_ROOT=settings.get("DATA_ROOT") or str(BUNDLE_ROOT),
                        VALIDATE_WRITES=not no_validate)
        client = open_local_store(settings, "Send the files to that service instead (dprk-kg load --endpoint "
                                            "http://HOST:PORT --token … FILES), or stop it and load again.")
    try:
        for number, path in enumerate(files, 1):
            note = source or path.name
            step = f"[{number}/{len(files)}]"
            started = time.monotonic()
            if endpoint:
                _progress(step, path, f"sending to {endpoint}…")
                outcome = _post(endpoint, path, token, note)
            else:
                _progress(step, path, "reading…")
                outcome = _load_local(client, path, note, client.settings.get("WRITE_TOKEN_NAME") or "cli", step)
            done = f"{outcome.triples:,} triple(s) loaded" if outcome.status == "loaded" else outcome.status
            _progress(step, path, f"{done} ({time.monotonic() - started:.1f} s)")
            outcomes.append(outcome)
    finally:
        if client is not None:
            client.close()
    _summary(outcomes)
    if any(o.status in ("unreadable", "rejected", "failed") for o in outcomes):
        sys.exit(2)
    sys.exit(1 if any(o.status == "refused" for o in outcomes) else 0)


def _summary(outcomes: list[Outcome]) -> None:
    loaded = [o for o in outcomes if o.status == "loaded"]
    click.echo(f"\n{len(loaded)} of {len(outcomes)} file(s) loaded, {sum(o.triples for o in loaded)} triple(s).")
    for o in outcomes:
        if o.status == "loaded":
            click.echo(f"  loaded   {o.path}: {o.triples} triple(s), batch {o.batch}")
            if o.hint:
                click.echo(f"           note: {o.hint}")
        else:
            first, *rest = o.reason.splitlines() or [""]
            click.echo(f"  {o.status:<8} {o.path}: {first}")
            for line in rest[:4]:
                click.echo(f"           {line}")
