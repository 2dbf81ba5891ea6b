"""SHACL-SPARQL constraints (``sh:sparql`` with ``sh:select``) evaluated by our code, with pySHACL's exact results.

Why: on a large batch the SPARQL-based rules were most of a guarded write's check, and they ran through pySHACL's
per-focus-node machinery (a constraint object per shape and validation, the query's rows turned into rdflib terms, a
result built per row), and they were why pySHACL's rdflib data graph was still built. The queries themselves
already ran on pyoxigraph; here a constraint is read once per :class:`~.shapes.ShapesModel` (by
:mod:`.core_checks`, which compiles the shape that holds it) and each query runs on the same pyoxigraph store of the
change's context triples, with ``$this`` (and ``$currentShape``) given as ``substitutions`` — exactly what ran
under pySHACL (:func:`~.validate._data_graph`) — and the rows become results the way pySHACL's
``SPARQLBasedConstraint`` makes them:

* the text is pySHACL's: its ``PREFIX`` lines (``rdf``, ``rdfs``, ``owl`` and the ``sh:prefixes`` declarations, read
  as its ``collect_prefixes`` does) before the ``sh:select`` text, ``$PATH`` replaced by the property shape's path
  written as its ``shacl_path_to_sparql_path`` writes it; ``$this``/``$currentShape`` bound only where its regular
  expressions find them;
* a row binding ``?failure`` gives one result per query (focus node, no value unless a node shape's); any other row
  binding ``?this``, ``?path`` or ``?value`` gives a result (rows equal as rdflib terms counted once), others none;
* ``sh:value`` is ``?value``, else the focus node for a node shape; ``sh:resultPath`` is ``?path``, else the
  shape's path; ``sh:sourceConstraint`` the constraint node; the messages are the constraint's ``sh:message`` not
  among the shape's, then the shape's, each with ``{?var}``/``{$var}`` replaced from the row (``re.sub``, as pySHACL
  does) and losing its language tag (pySHACL rebuilds the literal);
* a constraint with ``sh:deactivated true`` is skipped.

A constraint pySHACL would refuse or handle otherwise is never compiled, so the shape stays with pySHACL and it
still says why: a text its checks refuse (MINUS, VALUES, SERVICE, nested SELECT without ``$this``, ``AS ?this``),
``$shapesGraph``, ``$PATH`` on a node shape or with a path other than a predicate, its inverse or a sequence of
predicates, a text pyoxigraph cannot run with the substitutions (a pre-bound variable outside the projection: pySHACL
falls back to rdflib there), ambiguous prefixes, malformed ``sh:select``/``sh:message``/``sh:deactivated``, and
on a shape whose results are reported, messages that do not decide the report's message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from service.rdf.terms import from_rdflib
from service.validation.shape_queries import check_query

COMPONENT = SH.SPARQLConstraintComponent

# pySHACL's regular expressions (helper/sparql_query_helper.py), verbatim: the same texts bind and are refused.
_BIND_THIS = re.compile(r"([\s{}()])[\$\?]this", flags=re.M)
_BIND_PATH = re.compile(r"([\s{}()])[\$\?]PATH", flags=re.M)
_BIND_SG = re.compile(r"([\s{}()])[\$\?]shapesGraph", flags=re.M)
_BIND_CS = re.compile(r"([\s{}()])[\$\?]currentShape", flags=re.M)
_HAS_MINUS = re.compile(r"^(?:[^#]*|M)(?!#)#?[^\?\$\#]M?INUS[\s\{]", flags=re.M | re.I)
_HAS_VALUES = re.compile(r"^(?!\s*#).*?(?<![\w\-\:])VALUES\b(?:\s*(?:\(|[\?\$]\w+|\{|\w|\s))", flags=re.M | re.I)
_HAS_SERVICE = re.compile(r"^(?:[^#]*|S)(?!#)#?[^\?\$\#]S?ERVICE[\s\<]", flags=re.M | re.I)
_HAS_NESTED_SELECT = re.compile(r"SELECT[\s\(\)\$\?\a-z]*\{[^\}]*SELECT\s+((?:(?:[\?\$]\w+\s+)|(?:\*\s+))+)",
                                flags=re.M | re.I)
_HAS_AS_VAR = re.compile(r"[^\w]+AS[\s]+[\$\?](\w+)", flags=re.M | re.I)

_THIS, _CURRENT_SHAPE = ox.Variable("this"), ox.Variable("currentShape")

#: Whether shapes with SPARQL constraints are compiled at all (read when a shapes model's engine is built):
#: ``bench/bench_core_checks.py`` turns it off to time the SPARQL constraints left to pySHACL beside ours.
ENABLED = True


class Unsupported(Exception):
    """The constraint is left to pySHACL (the reason says why)."""


@dataclass(eq=False)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of one shape, ready to run: the text pySHACL would send, what it pre-binds."""

    node: Any  # the constraint node (rdflib), the result's sh:sourceConstraint
    text: str
    bind_this: bool
    current_shape: Any  # the shape node as a pyoxigraph term when $currentShape is bound, else None
    messages: list[Any]  # the constraint's messages that are not the shape's (rdflib literals)


def _refused_text(text: str) -> str | None:
    """pySHACL's ``check_invalid_sparql`` (no value node, no extra variables): why it would raise, or None."""
    if _HAS_MINUS.search(text):
        return "MINUS"
    if _HAS_VALUES.search(text):
        return "VALUES"
    if _HAS_SERVICE.search(text):
        return "SERVICE"
    nested = _HAS_NESTED_SELECT.search(text)
    if nested:
        names = [v.lstrip("$?").rstrip() for v in nested.group(1).split()]
        if not names or names == ["*"] or "this" not in names:
            return "a nested SELECT that does not select $this"
    as_var = _HAS_AS_VAR.search(text)
    if as_var and as_var.group(1) in ("this", "shapesGraph", "currentShape"):
        return "AS rebinding a pre-bound variable"
    return None


def _prefixes(graph: Graph, constraint: Any) -> dict[str, str]:
    """pySHACL's ``collect_prefixes``: its three defaults, then the declarations ``sh:prefixes`` reaches."""
    prefixes = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
    values = set(graph.objects(constraint, SH.prefixes))
    if not values:
        return prefixes
    name = graph.identifier
    graph_declares = set(graph.objects(name, SH.declare)) if name else set()
    ontologies = set(graph.subjects(RDF.type, OWL.Ontology))
    ontology_declares = {d for o in ontologies for d in graph.objects(o, SH.declare)}
    declared: dict[str, set[str]] = {}
    for value in values:
        own = set(graph.objects(value, SH.declare))
        declares = own | graph_declares if own and value in ontologies else graph_declares | ontology_declares | own
        for declare in declares:
            if isinstance(declare, Literal):
                raise Unsupported("a literal sh:declare")
            prefix = list(graph.objects(declare, SH.prefix))
            namespace = list(graph.objects(declare, SH.namespace))
            if len(prefix) != 1 or len(namespace) != 1 or not isinstance(prefix[0], Literal) \
                    or not isinstance(prefix[0].value, str) or not isinstance(namespace[0], Literal):
                raise Unsupported("a malformed sh:declare")
            ns = namespace[0]
            if not (ns.datatype == XSD.anyURI or ns.datatype == XSD.string or ns.language is not None
                    or isinstance(ns.value, str)):
                raise Unsupported("a malformed sh:namespace")
            declared.setdefault(str(prefix[0].value), set()).add(str(ns.value))
    for prefix, namespaces in declared.items():
        if len(namespaces) > 1:
            raise Unsupported(f"prefix {prefix} declared with several namespaces")
        prefixes[prefix] = next(iter(namespaces))
    return prefixes


def _path_text(graph: Graph, path: Any, prefixes: dict[str, str]) -> str:
    """pySHACL's ``shacl_path_to_sparql_path`` for a predicate, its inverse and a sequence of predicates."""

    def iri(node: Any) -> str:
        if not isinstance(node, URIRef):
            raise Unsupported("$PATH with a path other than predicates")
        text = str(node)
        # pySHACL takes the first prefix (in its dict's order) whose namespace starts the IRI; its declarations
        # come from a set, so the choice among them must not depend on the order.
        defaults = [p for p in ("rdf", "rdfs", "owl") if text.startswith(prefixes[p])]
        if defaults:
            return ":".join([defaults[0], text.replace(prefixes[defaults[0]], "")])
        choices = {":".join([p, text.replace(ns, "")]) for p, ns in prefixes.items() if text.startswith(ns)}
        if len(choices) > 1:
            raise Unsupported("$PATH with an IRI that several prefixes abbreviate")
        return choices.pop() if choices else f"<{text}>"

    if isinstance(path, URIRef):
        return iri(path)
    if isinstance(path, BNode):
        items = list(graph.items(path))
        if items:
            if len(items) < 2:
                raise Unsupported("a sequence path of one item")
            return " / ".join(iri(i) for i in items)
        pairs = list(graph.predicate_objects(path))
        if len(pairs) == 1 and pairs[0][0] == SH.inversePath:
            return f"^{iri(pairs[0][1])}"
    raise Unsupported("$PATH with a path other than a predicate, its inverse or a sequence of predicates")


def compile_constraints(graph: Graph, shape: Any, path: Any, shape_messages: list[Any], reported: bool
                        ) -> list[SparqlConstraint]:
    """The ``sh:sparql`` constraints of ``shape`` (its ``sh:path`` node ``path`` or None) as pySHACL runs them.

    ``reported``: the shape's results reach the report, so its messages must decide the report's message.
    Raises :class:`Unsupported` where pySHACL would refuse the constraint or do something not done here.
    """
    if not ENABLED:
        raise Unsupported("SPARQL constraints are left to pySHACL (sparql_checks.ENABLED is off)")
    found = []
    for node in set(graph.objects(shape, SH.sparql)):
        selects = list(graph.objects(node, SH.select))
        if len(selects) != 1 or not isinstance(selects[0], Literal) or not isinstance(selects[0].value, str):
            raise Unsupported("sh:select must be one string")
        messages = set(graph.objects(node, SH.message))
        if not all(isinstance(m, Literal) and isinstance(m.value, str) for m in messages):
            raise Unsupported("sh:message of a constraint must be strings")
        deactivated = set(graph.objects(node, SH.deactivated))
        if deactivated:
            flag = next(iter(deactivated))
            if len(deactivated) > 1 or not isinstance(flag, Literal) or not isinstance(flag.value, bool):
                raise Unsupported("malformed sh:deactivated")
            if flag.value:
                continue
        extra = [m for m in messages if m not in shape_messages]
        if reported and not (len(extra) == 1 or (not extra and len(shape_messages) == 1)):
            raise Unsupported("no single message to report")
        if reported and not all(isinstance(m, Literal) for m in shape_messages):
            raise Unsupported("a message that is not a literal")
        select = str(selects[0].value)
        refusal = _refused_text(select)
        if refusal:
            raise Unsupported(f"pySHACL refuses {refusal}")
        if _BIND_SG.search(select):
            raise Unsupported("$shapesGraph")
        prefixes = _prefixes(graph, node)
        if path is not None:
            select = _BIND_PATH.sub(rf"\g<1>{_path_text(graph, path, prefixes)}", select)
        elif _BIND_PATH.search(select):
            raise Unsupported("$PATH on a node shape")
        text = "\n".join(["".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()), select])
        constraint = SparqlConstraint(node, text, bool(_BIND_THIS.search(select)),
                                      from_rdflib(shape) if _BIND_CS.search(select) else None, extra)
        check_query(text, f"the constraint {node}")
        _probe(constraint)
        found.append(constraint)
    return found


def _probe(constraint: SparqlConstraint) -> None:
    """Run the text once on an empty store: pyoxigraph must take it with its substitutions, as a SELECT."""
    try:
        answer = ox.Store().query(constraint.text, substitutions=_substitutions(constraint, ox.NamedNode("urn:x")))
    except (RuntimeError, SyntaxError, ValueError) as exc:
        raise Unsupported(f"pyoxigraph cannot run the text as given ({exc})") from exc
    if not isinstance(answer, ox.QuerySolutions):
        raise Unsupported("not a SELECT query")


def _substitutions(constraint: SparqlConstraint, focus: Any) -> dict[ox.Variable, Any] | None:
    subs = {}
    if constraint.bind_this:
        subs[_THIS] = focus
    if constraint.current_shape is not None:
        subs[_CURRENT_SHAPE] = constraint.current_shape
    return subs or None


def _format(message: Any, variables: Iterable[tuple[str, Any]]) -> Any:
    """pySHACL's ``_format_sparql_based_result_message``: ``{?var}``/``{$var}`` replaced, a plain literal."""
    text = str(message.value)
    for var, value in variables:
        text = re.sub(f"{{[?$]{var}}}", str(value), text)
    return Literal(text)


class ContextStore:
    """The change's context triples in a pyoxigraph store, built on first use and shared by every query of one
    validation (ours and, for the shapes left to it, pySHACL's: :func:`~.validate._data_graph`)."""

    def __init__(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        self._triples = triples
        self._store: ox.Store | None = None

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            self._store = ox.Store()
            self._store.extend(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in self._triples)
        return self._store


def evaluate(shape: Any, constraints: list[SparqlConstraint], data: Any, focus_nodes: Iterable[Any]) -> list[tuple]:
    """The results of ``constraints`` (of the compiled ``shape``) on each focus node, as :mod:`.core_checks`'s
    internal results with their extras: (focus, value, shape, component, (path, constraint node, messages))."""
    results: list[tuple] = []
    focus_nodes = list(focus_nodes)
    if not focus_nodes:
        return results
    store = data.context.store
    node_shape = shape.path is None
    for constraint in constraints:
        check_query(constraint.text, "a query the shapes run")  # checked again at the engine
        for focus in focus_nodes:
            answer = store.query(constraint.text, substitutions=_substitutions(constraint, focus))
            names = [v.value for v in answer.variables]
            violations: list[tuple] = []  # ("failure", row) or ("row", key, this, path, value, row)
            failed = False
            for row in answer:
                bound = {name: (value, data.rdflib(value)) for name, value in zip(names, row, strict=True)
                         if value is not None}
                if "failure" in bound:
                    bound.pop("failure")
                    if not failed:
                        failed = True
                        violations.append(("failure", bound))
                    continue
                p, v, t = bound.pop("path", None), bound.pop("value", None), bound.pop("this", None)
                if p is None and v is None and t is None:
                    continue
                # pySHACL counts rows equal as rdflib terms once
                key = (t and t[1], p and p[1], v and v[1], {k: r for k, (_, r) in bound.items()})
                if any(e[0] == "row" and e[1] == key for e in violations):
                    continue
                violations.append(("row", key, t, p, v, bound))
            for violation in violations:
                bound = violation[-1]
                variables = [(k, r) for k, (_, r) in bound.items()]
                if violation[0] == "failure":
                    found, value, path = focus, (focus if node_shape else None), None
                else:
                    _, _, t, p, v, _ = violation
                    found = t[0] if t is not None and t[1] else focus  # pySHACL: ``t or f``
                    value = v[0] if v is not None else (focus if node_shape else None)
                    for name, term in (("this", t), ("path", p)):
                        if term is not None:
                            variables.append((name, term[1]))
                    if value is not None:
                        variables.append(("value", data.rdflib(value)))
                    path = p[1] if p is not None else None
                messages = [_format(m, variables) if isinstance(m, Literal) else m
                            for m in (*constraint.messages, *shape.messages)]
                results.append((found, value, shape, COMPONENT, (path, constraint.node, messages)))
    return results
