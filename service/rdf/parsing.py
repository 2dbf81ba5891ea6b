"""Reading RDF documents that users send: the one parser wrapper of /validate, /ingest, /store and the CLI.

Why one module (and not inside a Flask blueprint): every place that reads an RDF
document from outside — the request body of ``/validate`` and ``/ingest``, a Graph
Store write, a file given to ``dprk-kg validate``/``load`` — must give the same
answers: a syntax error names the source, line and column; JSON-LD that refers to a
remote ``@context`` is refused before parsing (the service fetches nothing from the
network); a document that declares DTD entities or nests deeper than the limits of
:mod:`service.rdf.limits` is refused before any parser sees it (parsing stays linear
in the input, whatever a client sends). This module has no web dependencies, so the CLI
can use it without importing the web tier. Which syntaxes each reader accepts is
:mod:`service.rdf.formats`'s table.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyoxigraph as ox

from service.rdf.limits import LimitExceeded, XmlUnreadable, check_rdf

#: pyoxigraph's positions: "at line 3 between columns 11 and 14", "at line 2 column 8", "between line 2 column 9 and …".
_POSITION = re.compile(r"^Parser error .*?line (\d+)\D+?(\d+).*?: ")


class InputError(ValueError):
    """Input that cannot be read; the message names the source, and line and column when known."""


def remote_contexts(document: Any) -> list[str]:
    """The remote ``@context`` references (and ``@import``s) anywhere in a JSON-LD document."""
    found: list[str] = []

    def context(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                context(item)
        elif isinstance(value, dict):
            if isinstance(value.get("@import"), str):
                found.append(value["@import"])
            walk(value)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    context(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


def parse_rdf(data: bytes, rdf_format: ox.RdfFormat, *, source: str = "the request body",
              base_iri: str | None = None, graph_only: bool = False) -> list[ox.Quad]:
    """Parse an RDF document; :class:`InputError` names the source, line and column of a syntax error.

    First :func:`parse_limits.check_rdf`: DTD entity declarations (and any DTD internal subset
    or external DTD) in RDF/XML, and nesting deeper than the limits, are refused before parsing.
    JSON-LD is inspected next: a remote ``@context`` is refused, nothing is fetched.
    ``graph_only`` refuses named graphs in the document (a Graph Store write fills one
    graph, so a document naming others is an error, not something to flatten silently).
    """
    name = rdf_format.name
    try:
        check_rdf(data, rdf_format)
    except LimitExceeded as exc:
        raise InputError(f"{source} is {name} that {exc}.") from exc
    except XmlUnreadable as exc:
        raise InputError(f"{source} is not valid {name} at line {exc.line}, column {exc.column}: {exc}") from exc
    if rdf_format == ox.RdfFormat.JSON_LD:
        try:
            document = json.loads(data)
        except RecursionError as exc:  # not reached after check_rdf; kept so no depth can become a 500
            raise InputError(f"{source} is JSON nested too deeply to read") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{source} is not UTF-8 text: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise InputError(f"{source} is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        remote = remote_contexts(document)
        if remote:
            raise InputError(f"{source} uses a remote JSON-LD context ({remote[0]!r}); the service never fetches "
                             "a remote context (or anything else) from the network: put the context inline, as a "
                             "JSON object under \"@context\".")
    try:
        return list(ox.parse(data, rdf_format, base_iri=base_iri, without_named_graphs=graph_only,
                             rename_blank_nodes=True))
    except SyntaxError as exc:
        message = str(exc.msg if hasattr(exc, "msg") else exc)
        match = _POSITION.match(message)
        if match:
            where = f" at line {match.group(1)}, column {match.group(2)}"
            message = message[match.end():]
        elif exc.lineno:
            where = f" at line {exc.lineno}, column {exc.offset}"
        else:
            where = ""
        raise InputError(f"{source} is not valid {name}{where}: {message}") from exc
    except ValueError as exc:
        raise InputError(f"{source} is not valid {name}: {exc}") from exc
