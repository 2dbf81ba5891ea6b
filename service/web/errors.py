"""Errors become responses in one place: :class:`service.problems.ApiError` rendered as JSON or text, the store's
errors mapped to HTTP, unexpected exceptions logged and answered 500 without a trace.

Whether a route's errors are JSON by default is declared by the route's own blueprint (:func:`machine_routes`),
so a new route never edits a list here.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, has_app_context, has_request_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from service import problems
from service.problems import ApiError, payload_too_large
from service.store.client import StoreError, StoreInterrupted, StoreTimeout
from service.web.negotiation import Format, negotiate

log = logging.getLogger(__name__)


#: Where the metrics (:mod:`service.web.metrics`) put the function that counts an error with a ``cause``.
ERROR_COUNTER = "dprk_kg_error_counter"

_POSITION = re.compile(r"^error at (\d+):(\d+): ?")


def syntax_message(message: str, what: str = "query") -> str:
    """pyoxigraph's 'error at L:C: …' as a sentence that names the line and the column."""
    match = _POSITION.match(message)
    if match:
        return (f"Syntax error in the {what} at line {match.group(1)}, column {match.group(2)}: "
                f"{message[match.end():]}")
    return f"Syntax error in the {what}: {message}"


def syntax_position(message: str) -> dict[str, int]:
    """The store's position of a syntax error as ``{"line": L, "column": C}`` (1-based, as the message gives them),
    or ``{}``: the problem JSON carries it so that an editor can mark the place without parsing the sentence."""
    match = _POSITION.match(message)
    return {"line": int(match.group(1)), "column": int(match.group(2))} if match else {}


@contextlib.contextmanager
def store_errors(what: str = "query", timeout_setting: str = "QUERY_TIMEOUT", *,
                 remote: str | None = None) -> Iterator[None]:
    """Turn the store's errors into protocol errors (the one place that maps them).

    Syntax and value errors are the client's (400, with the store's position); a
    timeout is 503 naming the setting; a refused write is 403; a remote store that
    cannot be reached is 503 with ``Retry-After`` (:func:`store_unavailable`), one that fails the request or
    answers unreadably 502 (:func:`store_failed`); anything else is a 500 whose details stay in the server log.
    ``remote`` names a federated request: an OS error during it is a remote call that failed,
    answered 502 with that name and the failure (never a trace).
    """
    try:
        yield
    except StoreTimeout as exc:
        raise problems.timeout(exc.limit, timeout_setting) from exc
    except StoreInterrupted as exc:
        message = exc.message[:1].upper() + exc.message[1:] + "."
        raise ApiError(503, message, title="Service Unavailable", headers={"Retry-After": "1"}) from exc
    except StoreError as exc:
        if exc.kind == "syntax":
            raise problems.bad_request(syntax_message(exc.message, what),
                                       details=syntax_position(exc.message)) from exc
        if exc.kind == "value":
            raise problems.bad_request(f"The {what} was refused: {exc.message}") from exc
        if exc.kind == "conflict":  # the request is valid but the store's state refuses it
            raise ApiError(409, f"The {what} was refused: {exc.message}", title="Conflict") from exc
        if exc.kind == "forbidden":
            raise problems.forbidden(exc.message) from exc
        if exc.kind == "unavailable":  # a remote store that cannot be reached or says it cannot answer now
            raise store_unavailable(exc, what) from exc
        if exc.kind == "gateway":  # a remote store that failed the request, or answered what cannot be read
            raise store_failed(exc, what) from exc
        if exc.kind == "os" and "restarted" in exc.message:
            message = exc.message[:1].upper() + exc.message[1:] + "."
            raise ApiError(503, message, title="Service Unavailable", headers={"Retry-After": "1"}) from exc
        if exc.kind == "os" and remote is not None:
            raise bad_gateway(remote, exc.message) from exc
        log.error("store error (%s) during a %s: %s", exc.kind, what, exc.message)
        raise ApiError(500, f"The store failed to run the {what}; the details are in the server log.",
                       title="Internal Server Error") from exc


#: Seconds a client is asked to wait (``Retry-After``) when the remote store is unavailable.
STORE_RETRY_AFTER = 5


def store_unavailable(exc: StoreError, what: str = "request") -> ApiError:
    """503 with ``Retry-After``: the remote store could not be reached or answered 502/503/504.

    Why not 500: nothing is wrong with the request or the service, and the same request may succeed once the
    store is back — load balancers and clients retry a 503. The store's address and the low-level reason go to
    the log, not to the client.
    """
    log.warning("the store is unavailable during a %s: %s", what, exc.message)
    return ApiError(503, f"The store behind this service is unavailable right now, so the {what} could not run; "
                         f"try again in a few seconds.", title="Service Unavailable",
                    headers={"Retry-After": str(STORE_RETRY_AFTER)})


def store_failed(exc: StoreError, what: str = "request") -> ApiError:
    """502: the remote store failed the request (an error status of its own) or answered something that is not
    SPARQL results or RDF; the message says which, in the store's words.

    Why not 500: the service did nothing wrong; the store behind it (the upstream of a gateway) did.
    """
    return ApiError(502, f"The store behind this service failed on the {what}: {exc.message}", title="Bad Gateway")


def bad_gateway(remote: str, message: str) -> ApiError:
    """502: the federated request ``remote`` (e.g. "The federated query 'x'") failed at its endpoint."""
    return ApiError(502, f"{remote} failed: {message}", title="Bad Gateway")


#: ``app.extensions`` key: the names of the blueprints declared machine routes (:func:`machine_routes`).
MACHINE_KEY = "dprk_kg_machine_routes"


def machine_routes(blueprint: Blueprint) -> Blueprint:
    """Declare ``blueprint``'s routes a JSON API: their errors are JSON unless the client asks for text or HTML.

    Every other route answers errors in plain text unless the client asks for JSON, as
    SPARQL and Graph Store clients expect. A new route declares itself here, in its own
    module; nothing central lists paths.
    """
    def register(state: Any) -> None:
        state.app.extensions.setdefault(MACHINE_KEY, set()).add(blueprint.name)

    blueprint.record_once(register)
    return blueprint


def is_machine_route() -> bool:
    """True when the current request is addressed to a route declared with :func:`machine_routes`."""
    if request.blueprint is not None:
        return request.blueprint in current_app.extensions.get(MACHINE_KEY, ())
    return is_machine_path(current_app, request.environ)


def is_machine_path(app: Flask, environ: dict[str, Any]) -> bool:
    """Whether the route a WSGI request names was declared with :func:`machine_routes`, whatever the method.

    For requests refused before a view runs: by routing (405: the route allows other methods) or
    by admission control. A path that no route has (404) belongs to none.
    """
    adapter = app.url_map.bind_to_environ(environ)
    try:
        try:
            endpoint, _ = adapter.match()
        except MethodNotAllowed as exc:
            endpoint, _ = adapter.match(method=(exc.valid_methods or ["GET"])[0])
    except HTTPException:
        return False
    blueprint = str(endpoint).rpartition(".")[0]
    return blueprint in app.extensions.get(MACHINE_KEY, ())


#: The error body's formats, in each kind of route's order of preference (the first is the route's default).
#: A browser (HTML ranked first) gets an HTML page in the site's layout; programs keep JSON or plain text.
_JSON = Format("application/json", "json", "json", "json")
_TEXT = Format("text/plain", "text", "text", "txt")
_HTML = Format("text/html", "html", "html", "html")
MACHINE_ERROR_FORMATS: tuple[Format, ...] = (_JSON, _TEXT, _HTML)
TEXT_ERROR_FORMATS: tuple[Format, ...] = (_TEXT, _JSON, _HTML)


def error_format(machine: bool | None = None, accept: str | None = None) -> str:
    """``"json"``, ``"text"`` or ``"html"``: the error body the client prefers.

    Machine routes (:func:`machine_routes`: canned queries, /validate, /ingest, VoID …)
    answer errors in JSON unless the client asks for text; elsewhere (/sparql, /store) a
    client that accepts anything gets plain text, as SPARQL clients expect; a client that ranks
    ``text/html`` first (a browser) gets a page. The Accept header is read by the one negotiation
    (:func:`service.web.negotiation.negotiate`); an error must always get a body, so a malformed
    header (400) or one that accepts none of these (406) gets the route's default. ``machine`` and
    ``accept`` (the raw header, ``""`` for none) default to the current Flask request's (the WSGI fast
    path and admission control pass their own).
    """
    if machine is None:
        machine = is_machine_route()
    if accept is None and has_request_context():
        accept = request.headers.get("Accept")
    table = MACHINE_ERROR_FORMATS if machine else TEXT_ERROR_FORMATS
    try:
        chosen = negotiate(accept, table, table[0])
    except ApiError:  # 400 or 406: the error is answered all the same, in the route's default
        chosen = table[0]
    return chosen.key


def wants_json(machine: bool | None = None, accept: str | None = None) -> bool:
    """True when the client prefers JSON to plain text or a page for an error body (:func:`error_format`)."""
    return error_format(machine, accept) == "json"


def render(
    error: ApiError, machine: bool | None = None, accept: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """An :class:`ApiError` as ``(status, headers, body)``: the one conversion point.

    Framework-neutral so that the Flask views (:func:`to_response`) and the WSGI fast path
    for queries (:mod:`service.web.query_path`) answer byte for byte alike; every error answer passes here once,
    so the errors operators count apart (those with a ``cause``: the guard's refusals) are counted here, by the
    function the metrics put in ``app.extensions[ERROR_COUNTER]``.
    The HTML page needs a Flask request (the layout's links); without one — admission control, the fast path — a
    browser gets the plain text.
    """
    if error.cause is not None and has_app_context():
        count = current_app.extensions.get(ERROR_COUNTER)
        if count is not None:
            count(error)
    chosen = error_format(machine, accept)
    page = _html_page(error) if chosen == "html" else None
    if chosen == "json":
        body: dict[str, Any] = {"error": error.title or "Error", "status": error.status, "message": error.message}
        body.update(error.details)
        from flask import json

        payload, content_type = json.dumps(body).encode(), "application/json"
    elif page is not None:
        payload, content_type = page, "text/html; charset=utf-8"
    else:
        payload, content_type = (error.message + "\n").encode(), "text/plain; charset=utf-8"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    headers.extend(error.headers.items())
    return error.status, headers, payload


def _html_page(error: ApiError) -> bytes | None:
    """The error as a page in the site's layout (``templates/error.html``), or None where none can be rendered."""
    if not has_request_context():
        return None
    try:
        from flask import render_template

        return render_template("error.html", error=error, path=request.path).encode()
    except Exception:  # an error page must never fail the error: the plain text is sent instead
        log.exception("the error page for %s %s could not be rendered", request.method, request.path)
        return None


def to_response(error: ApiError) -> Response:
    """Render an :class:`ApiError` for a Flask view (see :func:`render`)."""
    status, headers, body = render(error)
    return Response(body, status=status, headers=headers)


def init_app(app: Flask) -> None:
    """Install the single error handler (ApiError, HTTP errors, and unexpected exceptions)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return to_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 413:
            return to_response(payload_too_large(app.config["MAX_BODY_BYTES"]))
        message = error.description or error.name
        if status == 405:
            allowed = error.valid_methods if hasattr(error, "valid_methods") else None  # type: ignore[attr-defined]
            return to_response(
                ApiError(405, f"{request.method} is not supported on {request.path}", title=error.name,
                         headers={"Allow": ", ".join(allowed or [])})
            )
        if status == 404:
            message = f"{request.method} {request.path} is not a resource of this service."
        return to_response(ApiError(status, message, title=error.name))

    @app.errorhandler(StoreError)
    def _store_error(error: StoreError) -> Response:
        # A store error that no view mapped (pages, VoID, /health ... call the store outside store_errors): an
        # unavailable remote store is still the 503 of the one map; any other is unexpected here.
        if error.kind == "unavailable":
            return to_response(store_unavailable(error))
        if error.kind == "gateway":
            return to_response(store_failed(error))
        return _unexpected(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return to_response(ApiError(500, "Internal server error; the details are in the server log.",
                                    title="Internal Server Error"))
