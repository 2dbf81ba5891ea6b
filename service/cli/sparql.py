"""``dprk-kg sparql``: an ad hoc SPARQL query, answered offline from the bundled files, from a local store
folder, or by a running service — in any result format.

Why it reuses ``dprk-kg query``: the same three places to answer from and the same guarantees — offline, the bundled
files in memory with the union default graph and the inferences the service keeps (:func:`~service.canned.backend
.local_store`), SERVICE calls through the one guard and its allow-list (:func:`~service.sparql.guard.federate`); the
same table rendering, the same exit codes (:func:`~service.cli.query.answer_errors`: 0 answered, 2 what the user can
fix, 1 what failed) and, for a store folder a running service holds, the one plain message (exit 75,
:mod:`service.cli.store_lock`). Only the query comes from the user rather than from ``queries/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.cli.query import RemoteError, _request, answer_errors, emit, render_table, service_allowlist
from service.config import BUNDLE_ROOT
from service.rdf.formats import RESULT_FORMATS, SYNTAXES
from service.sparql.lexer import query_kind

#: SELECT and ASK answers: --format name → (the store's result writer, media type).
RESULT_CHOICES: dict[str, tuple[str, str]] = {f.name: (f.key, f.media_type) for f in RESULT_FORMATS if f.standard}
#: CONSTRUCT and DESCRIBE answers: --format (the syntax's file extension) → (its media type, twice: the store's key
#: of a syntax is its media type). TriG and N-Quads write the triples in the default graph.
GRAPH_CHOICES: dict[str, tuple[str, str]] = {s.extension: (s.media_type, s.media_type) for s in SYNTAXES if s.answers}
FORMATS = ("table", *RESULT_CHOICES, *GRAPH_CHOICES)


def read_query(text: str | None, file: str | None) -> str:
    """The query: the argument, ``-`` for standard input, or the file given with ``--file`` (``-`` too)."""
    if (text is None) == (file is None):
        raise click.UsageError("give the query as an argument (or - for standard input), or --file PATH")
    source = text if text is not None else file
    if source == "-":
        return sys.stdin.read()
    if text is not None:
        return text
    try:
        return Path(str(file)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {file}: {exc}", param_hint="--file") from exc


def choose(kind: str | None, fmt: str) -> tuple[str, str]:
    """(the store's format key, the media type to ask for) for a query of ``kind`` in ``fmt``; ValueError for a
    format the query cannot be answered in."""
    graph = kind in ("construct", "describe")
    if fmt == "table":
        return GRAPH_CHOICES["ttl"] if graph else RESULT_CHOICES["json"]
    if graph and fmt in RESULT_CHOICES:
        raise ValueError(f"a {kind.upper() if kind else 'graph'} query answers RDF: use --format "
                         f"{', '.join(GRAPH_CHOICES)} (or table)")
    if not graph and fmt in GRAPH_CHOICES:
        raise ValueError(f"a {kind.upper() if kind else 'SELECT or ASK'} query answers results: use --format "
                         f"{', '.join(RESULT_CHOICES)} (or table)")
    return RESULT_CHOICES.get(fmt) or GRAPH_CHOICES[fmt]


def run_offline(root: Path, text: str, key: str) -> bytes:
    """Answer on the bundled files of ``root`` in memory (SERVICE through the guard and its allow-list)."""
    from service.canned.backend import LocalBackend, local_store
    from service.sparql.guard import federate

    prepared, _ = federate(text, allowlist=service_allowlist())
    return LocalBackend(local_store(root)).execute(prepared, key, timeout=None, row_cap=0).body


def run_in_store(store_dir: Path, text: str, key: str) -> bytes:
    """Answer from a local store folder (opened with its worker; refused plainly when a service holds it)."""
    from service import config
    from service.cli.store_lock import open_local_store
    from service.sparql.guard import federate
    from service.store.client import StoreError

    settings = config.defaults()
    settings.update(config.from_environment())
    settings.update(STORE_DIR=str(store_dir), DATA_ROOT=settings.get("DATA_ROOT") or str(BUNDLE_ROOT))
    prepared, _ = federate(text, allowlist=service_allowlist())
    client = open_local_store(settings, "Ask that service instead (dprk-kg sparql --endpoint http://HOST:PORT …), "
                                        "or stop it and run this again.")
    try:
        return client.query(prepared, format=key, row_cap=0).read()
    except StoreError as exc:
        if exc.kind in ("syntax", "value"):
            raise SyntaxError(exc.message) from exc
        raise RemoteError(500, f"the store failed ({exc.kind}): {exc.message}") from exc
    finally:
        client.close()


def run_remote(endpoint: str, text: str, media_type: str) -> tuple[bytes, Any]:
    """Ask a running service's ``/sparql`` (SPARQL 1.1 Protocol, query by POST)."""
    url = endpoint.rstrip("/")
    url = url if url.endswith("/sparql") else url + "/sparql"
    return _request(url, data=text.encode("utf-8"),
                    headers={"Content-Type": "application/sparql-query", "Accept": media_type})


@click.command("sparql")
@click.argument("query", required=False)
@click.option("--file", "-i", "file", metavar="PATH", default=None,
              help="Read the query from PATH (- for standard input) instead of the argument.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: aligned text for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE. SELECT/ASK: "
                   f"{', '.join(RESULT_CHOICES)}; CONSTRUCT/DESCRIBE: {', '.join(GRAPH_CHOICES)}.")
@click.option("--endpoint", metavar="URL", default=None,
              help="Ask a running service (e.g. http://127.0.0.1:8000) instead of the bundled files.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Answer from this local store folder (one a service has served, with what was written to it); "
                   "not while a service runs on it (then use --endpoint).")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/ and data/ (default: this repository).")
def sparql_command(query: str | None, file: str | None, fmt: str, endpoint: str | None, store_dir: Path | None,
                   root: Path) -> None:
    """Run the SPARQL query QUERY (- reads it from standard input) and print its answer.

    Without --endpoint or --store it answers offline from the bundled files, with the union default graph and
    the inferences the service keeps. Exit 0: answered; 2: a syntax error, a format the query cannot be answered
    in, or another 4xx; 1: the store, the service or a SERVICE endpoint failed; 75: the --store folder is in use.
    """
    if endpoint and store_dir:
        raise click.UsageError("give --endpoint or --store, not both")
    text = read_query(query, file)
    kind = query_kind(text)
    if kind == "update":
        raise click.UsageError("dprk-kg sparql runs queries; send updates to a service's /sparql with the write "
                               "token, or load files with dprk-kg load")
    with answer_errors(endpoint):
        key, media_type = choose(kind, fmt)
        truncated = False
        if endpoint:
            body, headers = run_remote(endpoint, text, media_type)
            truncated = headers.get("X-Result-Truncated", "").lower() == "true"
            is_results = headers.get("Content-Type", "").startswith("application/sparql-results+json")
        else:
            body = run_in_store(store_dir, text, key) if store_dir else run_offline(root, text, key)
            is_results = key == "json"
        if fmt == "table" and is_results:
            body = render_table(body).encode() + b"\n"
    emit(body, truncated)
