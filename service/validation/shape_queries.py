"""Every SPARQL text a shapes graph can make an engine run passes the one guard, with no SERVICE at all.

Why: SHACL-SPARQL puts queries in string literals (``sh:select``, ``sh:ask``,
``sh:construct``, ``sh:update``), where :func:`service.sparql.guard.guard` — which reads the
operation sent to ``/sparql`` — never looks. pySHACL's own SERVICE check is a regular
expression (``SERVICE#comment⏎<iri>`` passes it), and the queries then run on pyoxigraph
(or rdflib), both of which call a SERVICE endpoint themselves; neither offers a switch to
turn that off (pyoxigraph 0.5's ``Store.query`` takes no service handler). So the wall is
here, read with the real lexer:

* :func:`check_shapes` refuses a shapes graph, before pySHACL sees it, when any of its
  SPARQL texts (with every ``sh:declare`` prefix declaration of the graph written before
  it, as SHACL 5.2.1 combines them) would be refused by the guard with an empty
  allow-list, or contains the keyword SERVICE at all; and when a prefix declaration is not
  a well-formed prefix and IRI (pySHACL pastes them into the text unchecked).
* :func:`check_query` is the same test for the final text pySHACL hands to an engine
  (after its own substitutions), run by the validation's data graph on every query.

SERVICE_ALLOWLIST does not apply: shapes never call other endpoints. Refusals are
:class:`ShapeQueryRefused`, a ``ValueError`` (the store worker answers it as a 400).
"""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from service import problems
from service.sparql import guard as security
from service.sparql.lexer import short_text_cache, tokenize

#: The predicates whose values pySHACL runs (or may run) as SPARQL: constraints, validators of
#: constraint components, SPARQL-based targets and target types, rules and functions.
SPARQL_TEXT_PREDICATES = (SH.select, SH.ask, SH.construct, SH.update)

#: A ``\\uXXXX``/``\\UXXXXXXXX`` escape: rdflib's parser expands these anywhere in a query (keywords
#: included) before parsing, so the unescaped text is checked too.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class ShapeQueryRefused(ValueError):
    """A SPARQL text in the shapes could reach the network (or a file); the message names it and why."""


def _unescaped(text: str) -> str:
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


@short_text_cache
def _refusal(text: str) -> str | None:
    """Why ``text`` may not run (SERVICE or LOAD anywhere, or anything the guard refuses), or ``None``.

    Cached per text: pySHACL runs the same text once per focus node.
    """
    tokens = tokenize(text)
    for i, token in enumerate(tokens):
        if token.is_word("SERVICE", "LOAD"):
            after = tokens[i + 1:i + 3]
            named = after[:2] if after and after[0].is_word("SILENT") else after[:1]
            shown = " ".join([token.text.upper(), *(t.text for t in named)])
            return (f"{shown} is refused: SPARQL in shapes may not fetch anything "
                    "(SERVICE and LOAD are never allowed there, whatever SERVICE_ALLOWLIST says).")
    try:
        security.guard(text, None, allowlist={})  # file: IRIs, and anything else the guard refuses
    except problems.ApiError as exc:
        return exc.message
    return None


def check_query(text: str, where: str) -> None:
    """Refuse ``text`` (a query a shape makes an engine run) if it could fetch anything; ``where`` names its source."""
    for variant in (text, _unescaped(text)) if _CODEPOINT.search(text) else (text,):
        refusal = _refusal(variant)
        if refusal:
            raise ShapeQueryRefused(f"the SPARQL of {where} is refused: {refusal}")


def _well_formed_declaration(prefix: str, namespace: str) -> bool:
    """True if ``PREFIX prefix: <namespace>`` lexes as exactly those three tokens (no text smuggled in)."""
    tokens = tokenize(f"PREFIX {prefix}: <{namespace}>")
    return (len(tokens) == 3 and tokens[1].kind == "pname" and tokens[1].text == f"{prefix}:"
            and tokens[2].kind == "iri" and tokens[2].text == f"<{namespace}>")


def prologue(graph: Graph) -> str:
    """``PREFIX`` lines for every ``sh:declare`` of the shapes graph (pySHACL adds those a query names).

    Refuses a declaration whose prefix or namespace would not stay one token: pySHACL
    writes ``PREFIX {prefix}: <{namespace}>`` into the query text as it is.
    """
    lines = []
    for declaration in sorted(set(graph.objects(None, SH.declare)), key=str):
        for prefix in graph.objects(declaration, SH.prefix):
            for namespace in graph.objects(declaration, SH.namespace):
                prefix_text, namespace_text = str(prefix), str(namespace)
                if not _well_formed_declaration(prefix_text, namespace_text):
                    raise ShapeQueryRefused(f"the shapes' prefix declaration sh:prefix {prefix_text!r}, "
                                            f"sh:namespace {namespace_text!r} is refused: not a prefix and an IRI")
                lines.append(f"PREFIX {prefix_text}: <{namespace_text}>")
    return "\n".join(lines)


def _owner(graph: Graph, node: Node) -> str:
    """The nearest IRI a blank node hangs from (a shape, a constraint component), for messages."""
    seen, frontier = {node}, [node]
    for _ in range(4):
        if (named := next((n for n in frontier if isinstance(n, URIRef)), None)) is not None:
            return named.n3()
        frontier = [s for n in frontier for s in graph.subjects(None, n) if s not in seen]
        seen.update(frontier)
    return node.n3()


def check_shapes(graph: Graph) -> None:
    """Refuse a shapes graph if any SPARQL text in it could make an engine fetch anything (see the module)."""
    head = prologue(graph)
    for predicate in SPARQL_TEXT_PREDICATES:
        for node, text in graph.subject_objects(predicate):
            where = f"sh:{predicate.split('#')[-1]} in {_owner(graph, node)}"
            if not isinstance(text, Literal):
                raise ShapeQueryRefused(f"{where} is refused: it is not a string literal")
            check_query(f"{head}\n{text}" if head else str(text), where)
