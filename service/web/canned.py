"""Canned queries over HTTP: ``/queries``, ``/queries/<name>[.<format>]``, ``/openapi.json`` and ``/api``.

Why canned queries: analysts ask the same questions (a timeline of talks, who
represented whom, what each document says about Chongryon) and should not need to
write SPARQL for them. Each question is one ``queries/<name>.rq`` file whose ``#+``
header declares its parameters and columns (:mod:`service.canned.header`); adding a
valid file publishes it here, in the OpenAPI document, in the CLI and — after
``python -m service.canned.readme --readme`` — in the README. A malformed file stops the
service at start (:func:`init_app`), naming the file and the problem.

Request values are type-checked and bound as RDF terms, never spliced into the query
(:mod:`service.canned.params`); answers are cached per query, parameters and format until
the next write (:mod:`service.canned.cache`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from service.canned.backend import ServiceBackend, StoreAnalyser
from service.canned.contract import CannedQuery
from service.canned.header import CannedQueryError, load_queries
from service.canned.params import RESERVED, Binding, ParamError, json_args, query_string
from service.canned.run import Answer, CannedRunner, accept_table, formats_for, machine_format
from service.config import data_root
from service.problems import ApiError, bad_request, not_found
from service.rdf.vocabulary import curie
from service.sparql import guard
from service.store import client
from service.store.client import StoreError
from service.web import access, display, errors, negotiation, openapi, responses

bp = errors.machine_routes(Blueprint("canned", __name__))
bp.after_request(access.add_cors_headers)  # the one CORS policy: reads are readable cross-origin


EXTENSION_KEY = "dprk_kg_canned"


def queries_folder(app: Flask) -> Path:
    """The folder the canned queries are read from: ``<DATA_ROOT>/queries``."""
    return data_root(app.config) / "queries"


def init_app(app: Flask) -> None:
    """Load every ``queries/*.rq``; a malformed one stops the app from being created
    (:func:`service.create_app` then closes the store worker, as for any refused start).
    """
    allowlist = app.config.get("SERVICE_ALLOWLIST") or {}
    try:
        analyser = StoreAnalyser(app.extensions[client.EXTENSION_KEY],
                                 timeout=min(10.0, float(app.config["QUERY_TIMEOUT"])))
        queries = load_queries(queries_folder(app), allowlist, analyser)
    except CannedQueryError as exc:
        raise CannedQueryError(f"cannot start: malformed canned query {exc}") from exc
    app.add_template_filter(curie, "canned_curie")
    app.extensions[EXTENSION_KEY] = CannedRunner(
        queries,
        ServiceBackend(app.extensions[client.EXTENSION_KEY]),
        cache_size=int(app.config.get("CANNED_CACHE_SIZE") or 0),
        allowlist=allowlist,
        query_timeout=float(app.config.get("QUERY_TIMEOUT") or 30.0),
        row_cap=app.config.get("RESULT_ROW_CAP"),
        federator=functools.partial(guard.federate, allowlist=allowlist),
    )


def runner() -> CannedRunner:
    """The current app's canned-query runner."""
    return current_app.extensions[EXTENSION_KEY]


def request_args(query: CannedQuery) -> dict[str, list[str]]:
    """Parameters from the query string, a form body, or a JSON object body (typed: ``json_args``)."""
    merged: MultiDict[str, str] = MultiDict(request.args)
    if request.method == "POST":
        if request.is_json:
            try:
                body = json_args(query, request.get_json(silent=True))
            except ParamError as exc:
                raise bad_request(str(exc), details={"parameter": exc.param, "problem": exc.detail}) from exc
            for key, values in body.items():
                for value in values:
                    merged.add(key, value)
        else:
            for key, values in request.form.lists():
                for value in values:
                    merged.add(key, value)
    return {key: merged.getlist(key) for key in merged}


def accept_formats(query: CannedQuery) -> tuple[negotiation.Format, ...]:
    """The query's Accept table (:func:`service.canned.run.accept_table`) as formats to negotiate.

    ``key`` is the suffix; a media type that answers with another (``application/json`` for
    SPARQL JSON, ``text/plain`` for N-Triples) is a compatibility alias.
    """
    produced = {suffix: media.split(";")[0] for suffix, (media, _) in formats_for(query).items()}
    return tuple(
        negotiation.Format(media, suffix, suffix, suffix,
                           alias_of=produced[suffix] if produced.get(suffix, media) != media else None)
        for media, suffix in accept_table(query).items())


def choose_format(query: CannedQuery, suffix: str | None) -> str:
    """The answer's format: the URL suffix or ``_format``, else the Accept header (406 if nothing fits).

    Negotiated as every route negotiates (:func:`service.web.negotiation.negotiate`): no
    Accept header or ``*/*`` gives the machine format (SPARQL JSON, or Turtle for a graph).
    """
    available = formats_for(query)
    if suffix:
        if suffix != "html" and suffix not in available:
            raise not_found(f"Query {query.name!r} has no format {suffix!r}; available: "
                            f"{', '.join([*available, 'html'])}")
        return suffix
    table = accept_formats(query)
    default = next(f for f in table if f.key == machine_format(query) and f.standard)
    return negotiation.negotiate(request.headers.get("Accept"), table, default).key


def query_url(query: CannedQuery, params: dict[str, Any] | None = None, suffix: str = "", *,
              external: bool = False) -> str:
    """``/queries/<name>[.<suffix>]?…`` with list values repeated."""
    path = url_for("canned.run_query", target=query.name + (f".{suffix}" if suffix else ""), _external=external)
    return path + query_string(params or {})


def catalog_entry(query: CannedQuery) -> dict[str, Any]:
    """One query as ``GET /queries`` lists it (the UI shows these as examples)."""
    example = query.example_params()
    return {
        "name": query.name,
        "summary": query.summary,
        "description": query.description,
        "tags": list(query.tags),
        "kind": query.kind,
        "url": query_url(query),
        "example_url": query_url(query, example),
        "example_query": _example_query(query, example),
        "example_params": example,
        "formats": {suffix: {"media_type": media.split(";")[0], "url": query_url(query, example, suffix)}
                    for suffix, (media, _) in formats_for(query).items()},
        "params": [p.public() for p in query.params],
        "columns": [c.public() for c in query.columns],
        "federated": query.federated,
        "query": query.body.lstrip("\n"),
    }


def _example_query(query: CannedQuery, example: dict[str, Any]) -> str:
    """The query text with the example's values bound (what the example URL runs), for editors such as the UI."""
    try:
        args = {k: v if isinstance(v, list) else [v] for k, v in example.items()}
        return runner().bind(query, args).sparql().lstrip("\n")
    except (ParamError, StoreError):  # an example the data no longer accepts is shown unbound
        return query.body.lstrip("\n")


@bp.get("/queries.json")
@bp.get("/queries")  # the inner decorator registers first: url_for() gives /queries
def list_queries() -> ResponseReturnValue:
    """The catalog of canned queries: JSON for programs, an HTML page with a form per query for browsers."""
    queries = list(runner().queries.values())
    if request.path == "/queries" and responses.wants_page():
        entries = [(q, catalog_entry(q), _form_fields(q, {})) for q in queries]
        return responses.page_response("canned/index.html", alternate="/queries.json", entries=entries,
                                       openapi_url=url_for("canned.openapi_json"), api_url=url_for("canned.api_page"))
    body = {"queries": [catalog_entry(q) for q in queries],
            "openapi": url_for("canned.openapi_json"), "documentation": url_for("canned.api_page")}
    return responses.json_response(body, alternate="/queries")


@bp.route("/queries/<target>", methods=["GET", "POST"])
def run_query(target: str) -> ResponseReturnValue:
    """Run one canned query with the request's parameters, in the format the suffix or Accept asks for."""
    name, _, suffix = target.partition(".")
    query = runner().queries.get(name)
    if query is None:
        raise not_found(f"There is no canned query named {name!r}; GET /queries lists them.")
    args = request_args(query)
    requested = (args.get("_format") or [None])[0]
    if not suffix and requested and requested != "html" and requested not in formats_for(query):
        raise bad_request(f"parameter '_format': query {query.name!r} has no format {requested!r}; available: "
                          f"{', '.join([*formats_for(query), 'html'])}", details={"parameter": "_format"})
    fmt = choose_format(query, suffix or requested)
    try:
        binding = runner().bind(query, args)
    except ParamError as exc:
        if fmt == "html":
            # Opened with no value at all (a GET: a link to the query): the empty form to fill in, not an error
            # page. A POST is a submission: one without its required values is refused (400) with the form.
            if request.method == "GET" and not any(v for k, vs in args.items() if k not in RESERVED for v in vs):
                return _query_page(query, None, args)
            return _query_page(query, None, args, error=str(exc), status=400)
        raise bad_request(str(exc), details={"parameter": exc.param, "problem": exc.detail}) from exc
    if fmt == "html":
        return _query_page(query, binding, args)
    answer = _answer(binding, fmt)
    response = Response(answer.body, mimetype=None, content_type=answer.media_type)
    response.headers["X-Cache"] = "HIT" if answer.cached else "MISS"
    response.vary.add("Accept")
    responses.add_truncation_headers(response, answer.truncated)
    return responses.add_alternate(response, query_url(query, binding.public()), "text/html")


def _answer(binding: Binding, fmt: str) -> Answer:
    """Run through the runner; store failures become API errors in the one map (:func:`errors.store_errors`).

    What canned adds: a federated query that fails at its endpoint is a 502 naming the query
    and the endpoint's failure (from the federator, or a remote call of the store), never internals.
    """
    remote = f"The federated query {binding.query.name!r}" if binding.query.federated else None
    with errors.store_errors("query", remote=remote):
        try:
            return runner().run(binding, fmt)
        except ApiError as exc:
            if remote is None or exc.status != 502:
                raise
            raise errors.bad_gateway(remote, exc.message) from exc  # the federator's message names the endpoint


def _form_fields(query: CannedQuery, args: dict[str, list[str]]) -> list[dict[str, Any]]:
    """What the HTML form shows per parameter: current value, and choices for enums."""
    fields = []
    for param in query.params:
        choices = None
        if param.item.type == "enum":
            try:
                choices = [(v.key, v.label or v.key) for v in runner().lookups.enum_values(param.item)]
            except StoreError:
                choices = None
        given = [v for v in args.get(param.name, []) if v]
        value = " ".join(given) if param.is_list else (given[0] if given else "")
        fields.append({"param": param, "value": value, "choices": choices,
                       "placeholder": _placeholder(param)})
    return fields


def _placeholder(param: Any) -> str:
    example = param.example if param.example is not None else param.default
    if example is None:
        return ""
    return " ".join(example) if isinstance(example, list) else str(example)


def _query_page(query: CannedQuery, binding: Binding | None, args: dict[str, list[str]], *,
                error: str | None = None, status: int = 200) -> Response:
    """The HTML page of one query: its form, and its answer as a table (or Turtle) below."""
    table = graph = boolean = None
    truncated = False
    if binding is not None:
        fmt = machine_format(query)
        answer = _answer(binding, fmt)
        truncated = answer.truncated
        if query.is_graph:  # shown grouped by subject, labels first (the one display module)
            graph = display.graph_subjects(ox.parse(answer.body, format=ox.RdfFormat.from_media_type(
                answer.media_type.split(";")[0])))
        else:
            data = json.loads(answer.body)
            if "boolean" in data:
                boolean = data["boolean"]
            else:
                table = display.results_table(data)
    shown = binding.public() if binding is not None else {k: v for k, v in args.items() if k not in RESERVED}
    twin = query_url(query, shown, machine_format(query))
    downloads = [(suffix, query_url(query, shown, suffix)) for suffix in formats_for(query)]
    response = responses.page_response(
        "canned/query.html", status=status, alternate=twin,
        alternate_type=formats_for(query)[machine_format(query)][0].split(";")[0],
        query=query, fields=_form_fields(query, args), error=error, table=table,
        graph=graph, boolean=boolean, truncated=truncated, downloads=downloads,
        sparql=(binding.sparql() if binding is not None else query.body).strip("\n"),
        index_url=url_for("canned.list_queries"), api_url=url_for("canned.api_page"),
    )
    return responses.add_truncation_headers(response, truncated)


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of the canned-query API, generated from the query headers."""
    document = openapi.build(list(runner().queries.values()), runner().lookups, server=request.url_root.rstrip("/"))
    return responses.json_response(document, alternate=url_for("canned.api_page"))


@bp.get("/api")
def api_page() -> ResponseReturnValue:
    """A readable page of the API, rendered on the server from the OpenAPI document (no scripts, no CDN)."""
    document = openapi.build(list(runner().queries.values()), runner().lookups, server=request.url_root.rstrip("/"))
    return responses.page_response("canned/api.html", alternate=url_for("canned.openapi_json"), doc=document,
                                   operations=openapi.operations(document), openapi_url=url_for("canned.openapi_json"),
                                   index_url=url_for("canned.list_queries"))
