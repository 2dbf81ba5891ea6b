"""``dprk-kg query``: run a canned query from the command line, offline or against a running service.

Why both modes: offline (the default) answers from the bundled files in an in-memory
store — with the same union default graph and inferences the service keeps — so an
analyst needs no server; ``--endpoint URL`` asks a running service through its HTTP API
(the same parameters, the same answers, including that service's own data). When a row
cap cut the answer, a note on stderr says so (stdout stays machine-readable). Exit codes:
0 answered, 2 bad usage (unknown query, a parameter refused — the message names it),
1 the service (or, offline, a SERVICE endpoint) failed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import click

from service.canned.contract import CannedQuery
from service.canned.header import CannedQueryError, load_queries
from service.canned.params import ParamError
from service.config import BUNDLE_ROOT, resolve
from service.problems import ApiError
from service.rdf.vocabulary import curie

#: Printed on stderr when a row cap cut the answer (the service's RESULT_ROW_CAP or a SERVICE endpoint's).
TRUNCATED_NOTE = ("note: the answer was cut at a row cap (the service's RESULT_ROW_CAP or a SERVICE endpoint's "
                  "row_cap): narrow the query to see the rest.")

#: --format choices: a suffix of the HTTP API, or ``table`` (aligned text for SELECT/ASK, Turtle for graph queries).
FORMATS = ("table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld")


def parse_params(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``key=value`` options → ``{key: [values]}`` (a repeated key gives a list)."""
    params: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint="--param")
        params.setdefault(key.strip(), []).append(value)
    return params


def render_table(body: bytes) -> str:
    """SPARQL results JSON → an aligned text table with prefixed names."""
    data = json.loads(body)
    if "boolean" in data:
        return "true" if data["boolean"] else "false"
    variables = data["head"]["vars"]
    rows = []
    for binding in data["results"]["bindings"]:
        row = []
        for var in variables:
            term = binding.get(var)
            if term is None:
                row.append("")
            elif term["type"] == "uri":
                row.append(curie(term["value"]))
            else:
                text = " ".join(str(term["value"]).split())
                row.append(text if len(text) <= 80 else text[:77] + "...")
        rows.append(row)
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _suffix(query_is_graph: bool | None, fmt: str) -> str:
    if fmt == "table":
        return "ttl" if query_is_graph else "json"
    return fmt


def service_allowlist() -> dict[str, Any]:
    """The SERVICE allow-list the offline CLI uses: the service's setting (``DPRK_KG_SERVICE_ALLOWLIST``)."""
    return resolve()["SERVICE_ALLOWLIST"]


def run_local(root: Path, name: str, params: dict[str, list[str]], fmt: str) -> tuple[bytes, bool]:
    """Answer on the bundled files of ``root``, and whether a row cap cut it (ParamError / KeyError /
    ValueError on bad input)."""
    from service.canned.backend import LocalBackend, local_store
    from service.canned.run import CannedRunner, formats_for
    from service.sparql.guard import federate

    allowlist = service_allowlist()
    queries = load_queries(root / "queries", allowlist)
    query = queries.get(name)
    if query is None:
        raise KeyError(name)
    suffix = _suffix(query.is_graph, fmt)
    if suffix not in formats_for(query):
        raise ValueError(f"query {name!r} has no format {fmt!r}; available: table, {', '.join(formats_for(query))}")
    runner = CannedRunner(queries, LocalBackend(local_store(root)), cache_size=0, allowlist=allowlist,
                          federator=functools.partial(federate, allowlist=allowlist))
    binding = runner.bind(query, params)
    answer = runner.run(binding, suffix)
    if fmt == "table" and not query.is_graph:
        return render_table(answer.body).encode() + b"\n", answer.truncated
    return answer.body, answer.truncated


def run_remote(endpoint: str, name: str, params: dict[str, list[str]], fmt: str) -> tuple[bytes, bool]:
    """Answer through a running service's HTTP API; also whether the service says a row cap cut it."""
    base = endpoint.rstrip("/")
    catalog = _get_json(f"{base}/queries.json")
    entry = next((q for q in catalog["queries"] if q["name"] == name), None)
    if entry is None:
        raise KeyError(name)
    is_graph = entry["kind"] in ("construct", "describe")
    suffix = _suffix(is_graph, fmt)
    pairs = [(k, v) for k, values in params.items() for v in values]
    url = f"{base}/queries/{quote(name)}.{suffix}" + ("?" + urlencode(pairs) if pairs else "")
    body, headers = _request(url)
    truncated = headers.get("X-Result-Truncated", "").lower() == "true"
    if fmt == "table" and not is_graph:
        return render_table(body).encode() + b"\n", truncated
    return body, truncated


class RemoteError(Exception):
    """The service answered with an error status; ``status`` and the service's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _get(url: str) -> bytes:
    return _request(url)[0]


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[bytes, Any]:
    """GET ``url`` (POST ``data`` when given): the body and the response headers (RemoteError for an error
    status). ``headers`` replace the default ``Accept`` (JSON first)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"--endpoint must be an http(s) URL, got {url!r}")
    request = urllib.request.Request(url, data=data,  # noqa: S310 - http(s) only, checked above
                                     headers=headers or {"Accept": "application/json, */*;q=0.5"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - http(s) only, checked above
            return response.read(), response.headers
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            message = body.decode("utf-8", "replace").strip() or exc.reason
        raise RemoteError(exc.code, message) from exc


def _get_json(url: str) -> Any:
    return json.loads(_get(url))


def list_local(root: Path) -> list[CannedQuery]:
    """The canned queries of ``root``."""
    return list(load_queries(root / "queries", service_allowlist()).values())


@click.command("query")
@click.argument("name", required=False)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the query; repeat the option for several (a repeated key gives a list).")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format (table: aligned text for SELECT/ASK, Turtle for graph queries).")
@click.option("--endpoint", metavar="URL", default=None,
              help="Ask a running service (e.g. http://127.0.0.1:8000) instead of the bundled files.")
@click.option("--list", "list_", is_flag=True, help="List the canned queries and their parameters.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=BUNDLE_ROOT,
              show_default=False, help="Folder holding ontology/, data/ and queries/ (default: this repository).")
def query_command(name: str | None, params: tuple[str, ...], fmt: str, endpoint: str | None, list_: bool,
                  root: Path) -> None:
    """Run the canned query NAME (see --list) and print its answer."""
    with answer_errors(endpoint):
        if list_ or not name:
            _print_list(root, endpoint)
            if not list_ and not name:
                raise click.UsageError("give a query NAME (or --list)")
            return
        values = parse_params(params)
        try:
            body, truncated = (run_remote(endpoint, name, values, fmt) if endpoint
                               else run_local(root, name, values, fmt))
        except KeyError as exc:
            click.echo(f"error: there is no canned query named {exc.args[0]!r} (see dprk-kg query --list)", err=True)
            sys.exit(2)
    emit(body, truncated)


@contextlib.contextmanager
def answer_errors(endpoint: str | None) -> Iterator[None]:
    """The exit codes of the commands that answer queries (``query``, ``sparql``): 2 for what the user can fix
    (a parameter, a syntax error, a 4xx of the service — the message names it), 1 when the service, the store
    or a SERVICE endpoint failed. One plain line on stderr, never a traceback."""
    try:
        yield
    except SyntaxError as exc:  # the engine's 'error at L:C: …', worded as the service words it
        from service.web.errors import syntax_message

        click.echo(f"error: {syntax_message(str(exc))}", err=True)
        sys.exit(2)
    except (ParamError, ValueError, CannedQueryError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except RemoteError as exc:
        click.echo(f"error: the service answered {exc.status}: {exc.message}", err=True)
        sys.exit(2 if 400 <= exc.status < 500 else 1)
    except ApiError as exc:  # offline: refused (4xx) or a SERVICE endpoint failed (502)
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2 if 400 <= exc.status < 500 else 1)
    except (urllib.error.URLError, OSError) as exc:
        click.echo(f"error: cannot reach {endpoint}: {exc}" if endpoint else f"error: {exc}", err=True)
        sys.exit(1)


def emit(body: bytes, truncated: bool) -> None:
    """Write an answer to stdout (ending with a newline); the row-cap note goes to stderr."""
    sys.stdout.buffer.write(body)
    if body and not body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    if truncated:  # on stderr, so the answer itself stays machine-readable
        click.echo(TRUNCATED_NOTE, err=True)


def _print_list(root: Path, endpoint: str | None) -> None:
    if endpoint:
        entries = _get_json(endpoint.rstrip("/") + "/queries.json")["queries"]
        items = [(e["name"], e["summary"], [p["name"] + ("*" if p["required"] else "") for p in e["params"]])
                 for e in entries]
    else:
        items = [(q.name, q.summary, [p.name + ("*" if p.required else "") for p in q.params])
                 for q in list_local(root)]
    width = max((len(n) for n, _, _ in items), default=0)
    for name, summary, params in items:
        click.echo(f"{name.ljust(width)}  {summary}")
        if params:
            click.echo(f"{''.ljust(width)}  params: {', '.join(params)}")
    click.echo("(* = required; dprk-kg query NAME --param key=value)")
