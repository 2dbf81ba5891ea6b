"""``/validate`` (check data against the shapes, in the context of the stored graph; nothing written)
and ``/ingest`` (the guarded, validated, atomic way to add a batch).

Why both here: they read the same inputs (an RDF document in any of six syntaxes, or a
SPARQL Update for a dry run) and answer with the same report, so a client can try a
batch with ``/validate`` and send exactly the same body to ``/ingest``.

Input: the ``Content-Type`` says the syntax (:data:`service.rdf.formats.DOCUMENT_INPUT`). Bodies larger than
MAX_BODY_BYTES get 413; a syntax error gets 400 naming line and column; JSON-LD that
refers to a remote ``@context`` is refused before parsing (the service fetches nothing).
Blank nodes are skolemized to ``https://w3id.org/dprk-japan-kg/.well-known/genid/<uuid>``.

Output of ``/validate`` (content negotiation): JSON (default), a SHACL
``sh:ValidationReport`` in Turtle or JSON-LD, plain text, or an HTML page for browsers.
``GET /validate`` is a form where a person pastes Turtle and reads which node broke
which rule, in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service import problems
from service.rdf.formats import DOCUMENT_INPUT
from service.rdf.parsing import InputError, parse_rdf
from service.rdf.vocabulary import curie
from service.sparql import guard
from service.store import writes
from service.validation import ValidationReport, short_node, short_text
from service.web import access, errors, negotiation, protocol
from service.web.context import get_store

bp = errors.machine_routes(Blueprint("validation", __name__))  # errors in JSON unless asked otherwise

UPDATE_TYPE = "application/sparql-update"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

#: Report formats /validate can answer with.
REPORT_FORMATS: tuple[negotiation.Format, ...] = (
    negotiation.Format("application/json", "json", "json", "json"),
    # https://www.w3.org/TR/shacl/#validation-report (a SHACL validation report graph)
    negotiation.Format("text/turtle", "text/turtle", "turtle", "ttl"),
    negotiation.Format("application/ld+json", "application/ld+json", "jsonld", "jsonld"),
    negotiation.Format("text/html", "html", "html", "html"),
    negotiation.Format("text/plain", "text", "text", "txt"),
)


@dataclass
class Submission:
    """What the client sent: an RDF document (as quads) or a SPARQL Update, and the raw text for the form.

    The quads keep their blank nodes: whoever uses them skolemizes once (:func:`writes.skolemize`).
    """

    quads: list[ox.Quad] | None = None
    update: str | None = None
    text: str = ""
    media_type: str = "text/turtle"


def _media(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def read_submission() -> Submission:
    """Read the request: a raw body in one of :data:`DOCUMENT_INPUT` (or an update), or the HTML form."""
    media_type = _media(request.content_type)
    limit = int(current_app.config["MAX_BODY_BYTES"])
    if media_type in FORM_TYPES:
        text = request.form.get("data", "")
        data = text.encode("utf-8")
        if len(data) > limit:
            raise problems.payload_too_large(limit, len(data))
        if not text.strip():
            raise problems.bad_request("The form's 'data' field is empty: paste the Turtle (or other RDF) to check.")
        media_type = _media(request.form.get("format")) or "text/turtle"
        if media_type not in DOCUMENT_INPUT and media_type != UPDATE_TYPE:
            raise problems.bad_request(f"The form's 'format' field {media_type!r} is not one of: "
                                       + ", ".join([*DOCUMENT_INPUT, UPDATE_TYPE]))
    else:
        if media_type not in DOCUMENT_INPUT and media_type != UPDATE_TYPE:
            raise problems.unsupported_media_type(request.content_type, [*DOCUMENT_INPUT, UPDATE_TYPE, *FORM_TYPES])
        data = protocol.read_body(request)
        text = data.decode("utf-8", errors="replace")
    if media_type == UPDATE_TYPE:
        if not text.strip():
            raise problems.bad_request("The SPARQL Update is empty.")
        return Submission(update=text, text=text, media_type=media_type)
    try:
        quads = parse_rdf(data, DOCUMENT_INPUT[media_type])
    except InputError as exc:
        message = str(exc)
        raise problems.bad_request(message[0].upper() + message[1:]) from exc
    return Submission(quads=quads, text=text, media_type=media_type)


# -- /validate ---------------------------------------------------------------------------------


def _dry_run(submission: Submission) -> dict[str, Any]:
    """Ask the store worker to validate the submission in context (nothing is written)."""
    store = get_store()
    timeout = float(current_app.config["UPDATE_TIMEOUT"])
    with errors.store_errors("update" if submission.update is not None else "validation", "UPDATE_TIMEOUT"):
        if submission.update is not None:
            prepared = guard.guard(submission.update, request.base_url,
                                      current_app.config.get("SERVICE_ALLOWLIST") or {})
            # Anonymous dry runs may not change the shapes (the worker refuses with 403): see README
            # "Client-supplied shapes". Every SPARQL text in shapes is guarded on every path (shape_queries).
            return store.call("validate_update", sparql=prepared.text, base_iri=request.base_url, timeout=timeout,
                              may_change_shapes=_has_write_token())
        graph = writes.batch_graph("validate")
        # Skolemized as /ingest would (writes.ingest_batch), so the report names the same kind of nodes.
        add = [ox.Quad(q.subject, q.predicate, q.object, graph) for q in writes.skolemize(submission.quads or [])]
        return store.call("validate", add=ox.serialize(add, format=ox.RdfFormat.N_QUADS) or b"", timeout=timeout)


def _has_write_token() -> bool:
    """True if the request carries the valid write token (``/validate`` itself needs none)."""
    try:
        access.check_write_access()
    except problems.ApiError:
        return False
    return True


def _lines(nquads: str, *, keep_graph: bool) -> list[str]:
    """N-Quads lines for display: with CURIEs, and without the would-be batch graph."""
    out = []
    for quad in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS) if nquads else []:
        parts = [short_text(t) for t in (quad.subject, quad.predicate, quad.object)]
        if keep_graph and not isinstance(quad.graph_name, ox.DefaultGraph):
            parts.append(f"(graph {curie(quad.graph_name.value, brackets=True)})")
        out.append(" ".join(parts) + " .")
    return out


def _diff_json(answer: dict[str, Any], *, update: bool) -> dict[str, Any]:
    diff = answer["diff"]
    result = {"added": diff["added"], "removed": diff["removed"], "new_triples": diff["new_triples"],
              "add": diff["add"], "remove": diff["remove"]}
    if update:
        result["drop_graphs"] = [g[1] for g in answer.get("drop_graphs", []) if g[0] == "I"]
        result["create_graphs"] = [g[1] for g in answer.get("create_graphs", []) if g[0] == "I"]
    return result


@bp.route("/validate", methods=["GET"])
def validate_form() -> ResponseReturnValue:
    """The validation form: paste Turtle (or another syntax, or a SPARQL Update) and read the report."""
    example = render_template("validate_example.ttl")
    return render_template("validate.html", text=example, media_type="text/turtle", formats=_form_formats(),
                           report=None)


@bp.route("/validate", methods=["POST"])
def validate_view() -> ResponseReturnValue:
    """Validate a document (or a SPARQL Update's effect) in the context of the stored graph.

    Nothing is written. 200 with the report (``conforms`` says the verdict); 400 for
    unreadable input (line and column), 413 above MAX_BODY_BYTES, 415 for an unknown
    Content-Type, 406 when no report format fits the Accept header; 403 for a dry run that
    changes the shapes graph without the write token, and 400 for shapes whose SPARQL could
    fetch anything (:mod:`service.validation.shape_queries`).
    """
    wants = negotiation.negotiate(request.headers.get("Accept"), REPORT_FORMATS,
                                  REPORT_FORMATS[3] if _media(request.content_type) in FORM_TYPES
                                  else REPORT_FORMATS[0])
    try:
        submission = read_submission()
        answer = _dry_run(submission)
    except problems.ApiError as exc:
        if wants.key != "html" or exc.status >= 500:
            raise
        # A person at the form: show what is wrong above the text they pasted, not a bare error page.
        return render_template("validate.html", text=request.form.get("data", ""), error=exc.message,
                               media_type=_media(request.form.get("format")) or "text/turtle",
                               formats=_form_formats(), report=None), exc.status
    report = ValidationReport.from_json(answer["report"])
    diff = _diff_json(answer, update=submission.update is not None)
    refused = answer.get("refused")
    if wants.key == "json":
        body = {**report.to_json(), "diff": diff}
        if refused:
            body["write_refused"] = refused
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    if wants.key in ("text/turtle", "application/ld+json"):
        graph = report.to_graph()
        fmt = "turtle" if wants.key == "text/turtle" else "json-ld"
        return Response(graph.serialize(format=fmt), content_type=wants.content_type)
    if wants.key == "text":
        return Response(report.to_text(), content_type="text/plain; charset=utf-8")
    groups = report.groups()
    return render_template(
        "validate.html", text=submission.text, media_type=submission.media_type, formats=_form_formats(),
        report=report, groups=groups, diff=diff, update=submission.update is not None, refused=refused,
        broken_nodes=sum(1 for _, _, found in groups if any(r.severity == "Violation" for r in found)),
        add_lines=_lines(diff["add"], keep_graph=submission.update is not None),
        remove_lines=_lines(diff["remove"], keep_graph=True), short=short_node)


def _form_formats() -> list[tuple[str, str]]:
    return [("text/turtle", "Turtle"), ("application/trig", "TriG"), ("application/n-triples", "N-Triples"),
            ("application/n-quads", "N-Quads"), ("application/ld+json", "JSON-LD (inline @context only)"),
            ("application/rdf+xml", "RDF/XML"), (UPDATE_TYPE, "SPARQL Update (dry run: what it would change)")]


# -- /ingest -----------------------------------------------------------------------------------


def ingest_source() -> str | None:
    """The source the client states: the ``source`` parameter, else the ``X-Source`` header."""
    values = request.args.getlist("source")
    if len(values) > 1:
        raise problems.bad_request(f"The 'source' parameter was given {len(values)} times; give it once.")
    header = request.headers.get("X-Source", "").strip()
    # Both are checked, even the header the parameter overrides: a value the client sent is never
    # silently accepted beyond the limit (schemathesis found an over-long X-Source passed with ?source).
    for name, value in (("source", values[0].strip() if values else ""), ("X-Source", header)):
        if len(value) > writes.MAX_SOURCE_NOTE:
            raise problems.bad_request(f"The source note ({name!r}) is {len(value)} characters long; the limit is "
                                       f"{writes.MAX_SOURCE_NOTE}.")
    source = values[0].strip() if values else header
    return source or None


@bp.route("/ingest", methods=["POST"])
@access.requires_write
def ingest_view() -> ResponseReturnValue:
    """Add a batch: validated in context, committed atomically into its own graph, with provenance.

    201 with the batch identifier, its graph, the source document it counts for and the
    report (warnings included); 422 with the report when it breaks a shape (nothing
    written); 400 for a source naming no registered document (or a batch at odds with its
    source, see :func:`service.store.writes.resolve_source`) and for input that cannot be
    read, 413/415; 401/403 without the write token.
    """
    if _media(request.content_type) == UPDATE_TYPE:
        raise problems.unsupported_media_type(request.content_type, list(DOCUMENT_INPUT))
    submission = read_submission()
    if not submission.quads:
        raise problems.bad_request("The batch is empty: it contains no triples.")
    source = ingest_source()
    with errors.store_errors("ingest", "UPDATE_TIMEOUT"):
        result = writes.ingest_batch(get_store(), submission.quads, token_name=current_app.config["WRITE_TOKEN_NAME"],
                                     source=source)
    batch = result.details["batch"]
    body = {
        "batch": batch,
        "graph": result.graph,
        "added": result.added,
        "provenance_graph": result.details["provenance_graph"],
        "source": source,
        # The source document whose statements the batch carries (null: the batch counts for no document).
        "document": result.details.get("document"),
        # Set when the batch cites a registered document (dct:source) it was not sent with (it counts for none).
        "hint": result.details.get("hint"),
        "graph_url": url_for("validation.ingest_view", _external=True).rsplit("/", 1)[0]
        + "/store?graph=" + quote(result.graph or "", safe=""),
        "report": result.details.get("report"),
    }
    response = Response(json.dumps(body, ensure_ascii=False), status=201, mimetype="application/json")
    response.headers["Location"] = body["graph_url"]
    return response
