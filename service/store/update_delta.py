"""What a SPARQL Update would change, computed before anything is written.

Why: pyoxigraph applies an update in one transaction but has no rollback, and a guarded
write must check the state *after* the change before committing it. So the update is
evaluated with rdflib's update engine against :class:`OverlayStore`, a copy-on-write
rdflib store whose reads go to the pyoxigraph store and whose writes are only recorded.
The recorded :class:`Delta` (quads added and removed, graphs dropped and created) is then
validated in context and committed as exactly that delta (:mod:`service.store.ops`).

This runs inside the store worker, which owns the pyoxigraph store.

Semantics worth knowing:

* The delta is what is committed, always: the worker writes exactly these quads (blank
  nodes by id), never the update text itself, so an expression pyoxigraph would evaluate
  differently from rdflib cannot make the committed change differ from the validated one.
* Blank nodes created by ``INSERT`` templates and written in ``INSERT DATA`` are fresh
  (a label in ``INSERT DATA`` never names a stored blank node, even one with that id);
  blank nodes read from the store keep their identity. ``DELETE DATA`` may not contain
  blank nodes (SPARQL 1.1 Update §3.1.2).
* ``USING``/``USING NAMED`` (and the protocol's ``using-graph-uri``/``using-named-graph-uri``,
  which the protocol layer turns into ``USING`` clauses) restrict the dataset of the
  ``WHERE`` clause to those graphs of the store; nothing is ever fetched. ``LOAD`` and
  ``SERVICE`` are refused for the same reason.
* In union mode the default graph read by ``WHERE`` is the stored union of the named
  graphs, adjusted for what earlier operations of the same request changed.
* ``CLEAR GRAPH g`` is recorded as "drop g, then create it empty".
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import MethodType
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import Dataset, Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.store import Store
from rdflib.term import BNode, Node, URIRef

from service.rdf.terms import from_rdflib, to_rdflib
from service.rdf.vocabulary import XSD, XSD_STRING
from service.sparql.data_update import DataOperation, parse_data_update
from service.sparql.lexer import Lexed, lex, tokenize


class UpdateRefused(ValueError):
    """The update uses something the service does not do (LOAD, SERVICE, …); the message says what."""


@dataclass
class Delta:
    """A change to write: quads to add and remove, graphs to drop first and to create.

    Computed from a SPARQL Update here, or given as quads by a guarded apply
    (:mod:`service.store.ops`): both are refused, validated and committed alike.
    """

    add: list[ox.Quad] = field(default_factory=list)
    remove: list[ox.Quad] = field(default_factory=list)
    drop_graphs: list[Any] = field(default_factory=list)
    create_graphs: list[Any] = field(default_factory=list)

    def graphs(self) -> set[Any]:
        """Every graph the delta writes."""
        return ({q.graph_name for q in (*self.add, *self.remove)} | set(self.drop_graphs)
                | set(self.create_graphs))


def _graph_term(identifier: Node) -> Any:
    if identifier == DATASET_DEFAULT_GRAPH_ID:
        return ox.DefaultGraph()
    if isinstance(identifier, URIRef):
        return ox.NamedNode(str(identifier))
    if isinstance(identifier, BNode):
        return ox.BlankNode(str(identifier))
    raise UpdateRefused(f"cannot use {identifier!r} as a graph name")


_SCRATCH = threading.local()
_S, _P = ox.NamedNode("urn:x-scratch:s"), ox.NamedNode("urn:x-scratch:p")


def _is_plain(term: Any) -> bool:
    return not isinstance(term, ox.Literal) or term.language is not None or term.datatype.value == XSD_STRING


def stored_form(term: Any) -> Any:
    """The term as the store keeps it: pyoxigraph stores typed literals canonically ("01"^^xsd:integer is "1").

    Why: a change is validated as the quads that will be stored, so a shape that reads a
    lexical form (``sh:pattern``, ``sh:maxLength``) sees what a later query will see.
    """
    if _is_plain(term):
        return term
    scratch = getattr(_SCRATCH, "store", None)
    if scratch is None:
        scratch = _SCRATCH.store = ox.Store()
    quad = ox.Quad(_S, _P, term)
    scratch.add(quad)
    stored = next(iter(scratch))
    scratch.remove(stored)
    return stored.object


def stored_forms(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """:func:`stored_form` of every quad's object."""
    return [q if _is_plain(q.object) else ox.Quad(q.subject, q.predicate, stored_form(q.object), q.graph_name)
            for q in quads]


def _pattern(term: Node | None) -> Any:
    return None if term is None else stored_form(from_rdflib(term))


class OverlayStore(Store):
    """A copy-on-write rdflib view of a pyoxigraph store: reads merge the base and the recorded changes.

    The base is never written. Per quad the overlay records ``added`` (not visible in
    the base) and ``removed`` (visible in the base); per graph, ``dropped`` (its base
    content is gone) and ``created`` (exists, possibly empty).
    """

    context_aware = True
    graph_aware = True
    formula_aware = False
    transaction_aware = False

    def __init__(self, base: ox.Store, *, union: bool) -> None:
        super().__init__()
        self.base = base
        self.union = union
        self.added: set[ox.Quad] = set()
        self.removed: set[ox.Quad] = set()
        self.dropped: set[Any] = set()
        self.created: set[Any] = set()
        self._namespaces: dict[str, URIRef] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _visible_in_base(self, quad: ox.Quad) -> bool:
        if quad.graph_name in self.dropped or quad in self.removed:
            return False
        return next(iter(self.base.quads_for_pattern(quad.subject, quad.predicate, quad.object, quad.graph_name)),
                     None) is not None

    def _to_rdf(self, term: Any) -> Node:
        return to_rdflib(term)

    def _named_after(self, s: Any, p: Any, o: Any) -> bool:
        """Is the triple in some named data graph after the recorded changes? (union-mode default graph)"""
        for q in self.base.quads_for_pattern(s, p, o, None):
            if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name not in self.dropped \
                    and q not in self.removed:
                return True
        return any(q.subject == s and q.predicate == p and q.object == o and not isinstance(q.graph_name,
                   ox.DefaultGraph) for q in self.added)

    def quads(self, s: Any, p: Any, o: Any, graph: Any) -> Iterator[ox.Quad]:
        """Visible quads matching a pattern (``graph`` None = every graph)."""
        if self.union and isinstance(graph, ox.DefaultGraph):
            yield from self._union_default(s, p, o)
            return
        for q in self.base.quads_for_pattern(s, p, o, graph):
            if q.graph_name not in self.dropped and q not in self.removed:
                yield q
        for q in list(self.added):
            if (graph is None or q.graph_name == graph) and (s is None or q.subject == s) \
                    and (p is None or q.predicate == p) and (o is None or q.object == o):
                yield q

    def _union_default(self, s: Any, p: Any, o: Any) -> Iterator[ox.Quad]:
        removed_triples = {(q.subject, q.predicate, q.object) for q in self.removed}
        removed_triples |= {(q.subject, q.predicate, q.object) for g in self.dropped
                            for q in self.base.quads_for_pattern(None, None, None, g)} if self.dropped else set()
        seen: set[tuple[Any, Any, Any]] = set()
        for q in self.base.quads_for_pattern(s, p, o, ox.DefaultGraph()):
            triple = (q.subject, q.predicate, q.object)
            if triple in removed_triples and not self._named_after(*triple):
                continue
            seen.add(triple)
            yield q
        for q in list(self.added):
            triple = (q.subject, q.predicate, q.object)
            if triple in seen or (s is not None and q.subject != s) or (p is not None and q.predicate != p) \
                    or (o is not None and q.object != o):
                continue
            seen.add(triple)
            yield ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())

    # -- rdflib Store API --------------------------------------------------------------------

    def triples(self, triple_pattern: Any, context: Graph | None = None) -> Iterator[Any]:  # type: ignore[override]
        s, p, o = (_pattern(t) for t in triple_pattern)
        graph = None if context is None or context.identifier is None else _graph_term(context.identifier)
        seen: set[tuple[Any, Any, Any]] = set()
        for q in self.quads(s, p, o, graph):
            triple = (q.subject, q.predicate, q.object)
            if graph is None:
                if triple in seen:
                    continue
                seen.add(triple)
            ctx = context if context is not None else Graph(self, identifier=_rdf_graph(q.graph_name))
            yield (self._to_rdf(q.subject), self._to_rdf(q.predicate), self._to_rdf(q.object)), iter([ctx])

    def __len__(self, context: Graph | None = None) -> int:  # type: ignore[override]
        return sum(1 for _ in self.triples((None, None, None), context))

    def add(self, triple: Any, context: Graph | None, quoted: bool = False) -> None:  # type: ignore[override]
        identifier = context.identifier if context is not None else DATASET_DEFAULT_GRAPH_ID
        self.add_quad(ox.Quad(from_rdflib(triple[0]), from_rdflib(triple[1]), _pattern(triple[2]),
                              _graph_term(identifier)))

    def add_quad(self, quad: ox.Quad) -> None:
        """Record that ``quad`` (as the store keeps it) is present after the change."""
        if quad in self.removed:
            self.removed.discard(quad)
        elif not self._visible_in_base(quad):
            self.added.add(quad)

    def remove_quad(self, quad: ox.Quad) -> None:
        """Record that ``quad`` (as the store keeps it, no blank node) is absent after the change."""
        if quad in self.added:
            self.added.discard(quad)
        elif self._visible_in_base(quad):
            self.removed.add(quad)

    def remove(self, triple: Any, context: Graph | None = None) -> None:  # type: ignore[override]
        s, p, o = triple
        if s is None and p is None and o is None and context is not None:
            graph = _graph_term(context.identifier)  # CLEAR: drop the content, keep the graph
            existed = self._exists(graph)
            self._drop(graph)
            if existed and not isinstance(graph, ox.DefaultGraph):
                self.created.add(graph)
            return
        graph = None if context is None else _graph_term(context.identifier)
        for q in list(self.quads(_pattern(s), _pattern(p), _pattern(o), graph)):
            if q in self.added:
                self.added.discard(q)
            else:
                self.removed.add(q)

    def _exists(self, graph: Any) -> bool:
        if isinstance(graph, ox.DefaultGraph) or graph in self.created:
            return True
        if graph in self.dropped:
            return any(q.graph_name == graph for q in self.added)
        return self.base.contains_named_graph(graph) or any(q.graph_name == graph for q in self.added)

    def _drop(self, graph: Any) -> None:
        self.dropped.add(graph)
        self.created.discard(graph)
        self.added = {q for q in self.added if q.graph_name != graph}
        self.removed = {q for q in self.removed if q.graph_name != graph}

    def contexts(self, triple: Any = None) -> Iterator[Graph]:  # type: ignore[override]
        graphs: set[Any] = {ox.DefaultGraph()}
        graphs |= {g for g in self.base.named_graphs() if g not in self.dropped}
        graphs |= self.created | {q.graph_name for q in self.added}
        if triple is not None:
            s, p, o = (_pattern(t) for t in triple)
            graphs = {q.graph_name for q in self.quads(s, p, o, None)}
        for graph in sorted(graphs, key=str):
            yield Graph(self, identifier=_rdf_graph(graph))

    def add_graph(self, graph: Graph) -> None:
        if graph.identifier == DATASET_DEFAULT_GRAPH_ID:
            return
        term = _graph_term(graph.identifier)
        if not self._exists(term):
            self.created.add(term)

    def remove_graph(self, graph: Graph) -> None:
        self._drop(_graph_term(graph.identifier))

    def bind(self, prefix: str, namespace: URIRef, override: bool = True) -> None:
        self._namespaces[prefix] = namespace

    def namespace(self, prefix: str) -> URIRef | None:
        return self._namespaces.get(prefix)

    def prefix(self, namespace: URIRef) -> str | None:
        return next((p for p, n in self._namespaces.items() if n == namespace), None)

    def namespaces(self) -> Iterator[tuple[str, URIRef]]:
        yield from self._namespaces.items()

    # -- the result ----------------------------------------------------------------------------

    def delta(self) -> Delta:
        """The recorded change, ready to validate and commit."""
        existing = {g for g in self.base.named_graphs()} - self.dropped
        return Delta(
            add=sorted(self.added, key=str),
            remove=sorted(self.removed, key=str),
            drop_graphs=sorted(self.dropped, key=str),
            create_graphs=sorted((g for g in self.created if g not in existing), key=str),
        )


class DatasetView(Store):
    """A read-only dataset for a WHERE clause with USING / USING NAMED: only the graphs listed.

    The default graph is the merge of the ``USING`` graphs; the named graphs are the
    ``USING NAMED`` ones (SPARQL 1.1 Update §3.1.3).
    """

    context_aware = True
    graph_aware = True

    def __init__(self, overlay: OverlayStore, default: list[Any], named: list[Any]) -> None:
        super().__init__()
        self.overlay = overlay
        self.default = default
        self.named = named

    def triples(self, triple_pattern: Any, context: Graph | None = None) -> Iterator[Any]:  # type: ignore[override]
        s, p, o = (_pattern(t) for t in triple_pattern)
        if context is None or context.identifier == DATASET_DEFAULT_GRAPH_ID:
            sources = self.default
        else:
            graph = _graph_term(context.identifier)
            sources = [graph] if graph in self.named else []
        seen: set[tuple[Any, Any, Any]] = set()
        for graph in sources:
            for q in self.overlay.quads(s, p, o, graph):
                triple = (q.subject, q.predicate, q.object)
                if triple not in seen:
                    seen.add(triple)
                    yield tuple(self.overlay._to_rdf(t) for t in triple), iter([context])

    def __len__(self, context: Graph | None = None) -> int:  # type: ignore[override]
        return sum(1 for _ in self.triples((None, None, None), context))

    def contexts(self, triple: Any = None) -> Iterator[Graph]:  # type: ignore[override]
        for graph in self.named:
            yield Graph(self, identifier=_rdf_graph(graph))

    def add(self, triple: Any, context: Graph | None, quoted: bool = False) -> None:  # type: ignore[override]
        raise UpdateRefused("the dataset of a WHERE clause is read-only")

    def remove(self, triple: Any, context: Graph | None = None) -> None:  # type: ignore[override]
        raise UpdateRefused("the dataset of a WHERE clause is read-only")

    def add_graph(self, graph: Graph) -> None:
        return

    def remove_graph(self, graph: Graph) -> None:
        raise UpdateRefused("the dataset of a WHERE clause is read-only")


def _rdf_graph(term: Any) -> Node:
    if isinstance(term, ox.DefaultGraph):
        return DATASET_DEFAULT_GRAPH_ID
    return to_rdflib(term)


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)


class _PerThreadFlag:
    """``rdflib.NORMALIZE_LITERALS`` read per thread: rdflib only ever tests its truth.

    Why: the switch is process-wide, and the store worker computes deltas (dry runs
    outside the write lock) while other threads validate with pySHACL; flipping the global
    would change how literals are built in those threads for the duration.
    """

    def __init__(self, default: bool) -> None:
        self.default = bool(default)
        self.local = threading.local()

    def __bool__(self) -> bool:
        return bool(getattr(self.local, "value", self.default))


def _flag() -> _PerThreadFlag:
    current = rdflib.NORMALIZE_LITERALS
    if not isinstance(current, _PerThreadFlag):
        current = _PerThreadFlag(current)
        rdflib.NORMALIZE_LITERALS = current  # type: ignore[assignment]
    return current


@contextlib.contextmanager
def _exact_literals() -> Iterator[None]:
    """Keep literals' lexical forms as written ("01" stays "01"), as pyoxigraph does — in this thread only."""
    flag = _flag()
    previous = getattr(flag.local, "value", None)
    flag.local.value = False
    try:
        yield
    finally:
        if previous is None:
            del flag.local.value
        else:
            flag.local.value = previous


def _substr(expr: Any, ctx: Any) -> Any:
    """``SUBSTR`` as SPARQL 1.1 (XPath ``fn:substring``) defines it, as pyoxigraph computes it.

    rdflib slices from ``start - 1``, so ``SUBSTR("abc", 0, 2)`` was "" instead of "a"; and
    the positions must be integers (a type error otherwise, as in the specification).
    """
    from rdflib import Literal
    from rdflib.plugins.sparql.operators import numeric, string
    from rdflib.plugins.sparql.sparql import SPARQLError

    text = string(expr.arg)
    bounds = [numeric(expr.start), None if expr.length is None else numeric(expr.length)]
    if any(b is not None and (not isinstance(b, int) or isinstance(b, bool)) for b in bounds):
        raise SPARQLError("SUBSTR takes xsd:integer positions")
    start, length = bounds
    end = len(text) + 1 if length is None else start + length
    first, stop = max(start, 1), min(end, len(text) + 1)
    return Literal(str(text)[first - 1:stop - 1] if stop > first else "", lang=text.language, datatype=text.datatype)


_XSD_NUMERIC = {XSD + name for name in (
    "integer", "decimal", "float", "double", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
    "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger",
    "boolean")}


def _cast_to_string(original: Any) -> Any:
    """``xsd:string(x)`` of a number or boolean: its canonical form (XPath casting), as pyoxigraph gives it.

    rdflib returns the lexical form as written: ``xsd:string(1.0)`` is "1.0" instead of "1".
    """
    from rdflib import Literal

    def cast(expr: Any, ctx: Any) -> Any:
        args = expr.expr or []
        if len(args) == 1:
            arg = args[0]
            if isinstance(arg, Literal) and arg.datatype is not None and str(arg.datatype) in _XSD_NUMERIC:
                canonical = stored_form(from_rdflib(arg))
                return Literal(canonical.value, datatype=rdflib.XSD.string)
        return original(ctx)

    return cast


def _spec_functions(algebra: Any) -> None:
    """Evaluate the functions where rdflib departs from XPath (and from pyoxigraph) as the specification says.

    Only in this translated update: rdflib's own functions stay as they are for every
    other user in the process.
    """
    for node in _walk(algebra):
        name = getattr(node, "name", "")
        if name == "Builtin_SUBSTR":
            node._evalfn = MethodType(_substr, node)
        elif name == "Function" and str(node.get("iri", "")) == XSD_STRING \
                and getattr(node, "_evalfn", None) is not None:
            node._evalfn = MethodType(_cast_to_string(node._evalfn), node)


def _fresh_blank_nodes(op: Any) -> None:
    """``INSERT DATA``: every blank node label stands for a new blank node (SPARQL 1.1 Update §3.1.1).

    rdflib keeps the label as the id, which could name a stored blank node with that id.
    """
    fresh: dict[BNode, BNode] = {}

    def renamed(triples: Any) -> list[Any]:
        return [tuple(fresh.setdefault(t, BNode()) if isinstance(t, BNode) else t for t in triple)
                for triple in triples or []]

    op.triples = renamed(op.triples)
    if op.quads:
        op.quads = {g: renamed(triples) for g, triples in op.quads.items()}


def _no_blank_nodes(op: Any) -> None:
    """``DELETE DATA`` may not contain blank nodes (SPARQL 1.1 Update §3.1.2); rdflib would match them by id."""
    for triples in [op.triples or [], *(op.quads or {}).values()]:
        if any(isinstance(t, BNode) for triple in triples for t in triple):
            raise SyntaxError("blank nodes are not allowed in DELETE DATA (SPARQL 1.1 Update §3.1.2)")


def compute_delta(store: ox.Store, sparql: str | Lexed, *, base_iri: str | None = None, union: bool = True) -> Delta:
    """Evaluate ``sparql`` against ``store`` without writing; return what it would change.

    Not to run beside other rdflib SPARQL work in the process: rdflib's parser is not
    thread-safe (the worker serializes it: :data:`service.store.ops.RDFLIB_WORK`).
    Raises ``SyntaxError`` (with line and column) for an update rdflib cannot parse and
    :class:`UpdateRefused` for LOAD or SERVICE. (The protocol's using-graph-uri parameters
    arrive as USING clauses in the text: :func:`service.sparql.lexer.add_using_clauses`.)
    A caller that has lexed the text (the worker, for its nesting check) passes the ``Lexed``.
    """
    lexed = lex(sparql)
    sparql = lexed.text
    data = parse_data_update(lexed, base_iri=base_iri)
    del lexed  # a large update's tokens are not kept through the rest of the work
    if data is not None:  # only INSERT DATA / DELETE DATA: linear, no query engine
        return _data_delta(store, data, union=union)
    overlay = OverlayStore(store, union=union)
    with _exact_literals():
        operations = _translate(sparql, base_iri)
        dataset = Dataset(store=overlay, default_union=False)
        for op in operations:
            _refuse_unsupported(op)
            _evaluate(op, dataset, overlay)
    return overlay.delta()


def _data_delta(store: ox.Store, data: list[DataOperation], *, union: bool) -> Delta:
    """The delta of an update made only of INSERT DATA / DELETE DATA, read quad by quad."""
    overlay = OverlayStore(store, union=union)
    for operation in data:
        for quad in operation.quads:
            (overlay.add_quad if operation.insert else overlay.remove_quad)(quad)
    return overlay.delta()


def _translate(sparql: str, base_iri: str | None) -> list[Any]:
    """The update's operations in rdflib's algebra, with the functions rdflib gets wrong replaced (see
    :func:`_spec_functions`); a ``SyntaxError`` with the best position we can give when it does not parse."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parsed = translateUpdate(parseUpdate(sparql), base=base_iri)
    except Exception as exc:
        raise _syntax_error(sparql, base_iri, exc) from exc
    for op in parsed.algebra:
        _spec_functions(op)
    return list(parsed.algebra)


def _refuse_unsupported(op: Any) -> None:
    """LOAD and SERVICE would fetch from the network, which the service never does for an update."""
    if op.name == "Load":
        raise UpdateRefused("LOAD is not supported: the service fetches nothing from the network; "
                            "POST the data to /ingest or to the Graph Store instead")
    if any(getattr(n, "name", "") == "ServiceGraphPattern" for n in _walk(op)):
        raise UpdateRefused("SERVICE is not supported inside updates")


def _evaluate(op: Any, dataset: Dataset, overlay: OverlayStore) -> None:
    """Run one update operation against the overlay; its failure fails the request unless it is SILENT."""
    from rdflib.plugins.sparql.sparql import QueryContext
    from rdflib.plugins.sparql.update import (
        evalAdd,
        evalClear,
        evalCopy,
        evalDeleteData,
        evalDrop,
        evalInsertData,
        evalMove,
    )

    ctx = QueryContext(dataset, initBindings={})
    ctx.graph = dataset.default_graph
    ctx.prologue = op.prologue
    handlers = {"Clear": evalClear, "Drop": evalDrop, "Add": evalAdd, "Move": evalMove, "Copy": evalCopy,
                "InsertData": evalInsertData, "DeleteData": evalDeleteData}
    if op.name == "InsertData":
        _fresh_blank_nodes(op)
    elif op.name == "DeleteData":
        _no_blank_nodes(op)
    try:
        if op.name == "Create":
            _create(overlay, op)
        elif op.name in ("Drop", "Clear") and op.graphiri not in ("DEFAULT", "NAMED", "ALL") \
                and not overlay._exists(_graph_term(op.graphiri)):
            if not op.silent:
                raise ValueError(f"the graph <{op.graphiri}> does not exist (use {op.name.upper()} SILENT)")
        elif op.name == "Modify":
            _modify(ctx, dataset, overlay, op)
        elif op.name == "DeleteWhere":
            _delete_where(ctx, dataset, op)
        elif op.name in handlers:
            handlers[op.name](ctx, op)
        else:
            raise UpdateRefused(f"unknown update operation {op.name}")
    except UpdateRefused:
        raise
    except Exception as exc:
        if not op.silent:
            raise ValueError(f"the {op.name} operation failed: {exc}") from exc


def _syntax_error(sparql: str, base_iri: str | None, exc: Exception) -> SyntaxError:
    """The best syntax error message we can give, with line and column.

    rdflib's parser often points at the start of the request; pyoxigraph's points at
    the offending token. Its parser runs on an empty in-memory store, so nothing is
    read or written — unless the text could make it fetch (LOAD, SERVICE), which the
    protocol layer refuses earlier anyway.
    """
    if not any(token.is_word("LOAD", "SERVICE") for token in tokenize(sparql)):
        try:
            ox.Store().update(sparql, base_iri=base_iri)
        except SyntaxError as precise:
            return SyntaxError(str(precise))
        except Exception:  # noqa: S110 - only the syntax check matters here
            pass
    line, column = getattr(exc, "lineno", None), getattr(exc, "col", None)
    where = f" at line {line}, column {column}" if line else ""
    return SyntaxError(f"the update could not be parsed{where}: {getattr(exc, 'msg', exc)}")


def _create(overlay: OverlayStore, op: Any) -> None:
    graph = _graph_term(op.graphiri)
    if overlay._exists(graph):
        if not op.silent:
            raise ValueError(f"CREATE GRAPH: the graph <{op.graphiri}> already exists (use CREATE SILENT)")
        return
    overlay.created.add(graph)


def _modify(ctx: Any, dataset: Dataset, overlay: OverlayStore, op: Any) -> None:
    """DELETE/INSERT … WHERE, with USING / USING NAMED / WITH applied without fetching anything."""
    from rdflib.plugins.sparql.evaluate import evalPart
    from rdflib.plugins.sparql.sparql import QueryContext

    default = [_graph_term(d.default) for d in op.using or () if d.default is not None]
    named = [_graph_term(d.named) for d in op.using or () if d.named is not None]
    template_graph = dataset.get_context(op.withClause) if op.withClause else dataset.default_graph
    if op.using:
        view = Dataset(store=DatasetView(overlay, default, named), default_union=False)
        where = QueryContext(view, initBindings={})
        where.graph = view.default_graph
        where.prologue = ctx.prologue
    elif op.withClause:
        where = ctx.pushGraph(template_graph)
    else:
        where = ctx
    _apply_templates(dataset, template_graph, op.delete, op.insert, evalPart(where, op.where))


def _delete_where(ctx: Any, dataset: Dataset, op: Any) -> None:
    """DELETE WHERE: the pattern is both the WHERE clause and the template (``GRAPH ?g`` included)."""
    from rdflib.plugins.sparql.algebra import BGP, Join
    from rdflib.plugins.sparql.algebra import Graph as GraphPattern
    from rdflib.plugins.sparql.evaluate import evalPart

    where = BGP(op.triples or [])
    for g, triples in (op.quads or {}).items():
        where = Join(where, GraphPattern(g, BGP(triples)))
    _apply_templates(dataset, dataset.default_graph, op, None, evalPart(ctx, where))


def _apply_templates(dataset: Dataset, template_graph: Graph, delete: Any, insert: Any, solutions: Any) -> None:
    """SPARQL 1.1 Update §3.1.3: instantiate both templates for every solution, delete, then insert."""
    from rdflib.plugins.sparql.evalutils import _fillTemplate

    deletions: list[tuple[Graph, list[Any]]] = []
    insertions: list[tuple[Graph, list[Any]]] = []
    for solution in list(solutions):
        for template, target in ((delete, deletions), (insert, insertions)):
            if not template:
                continue
            target.append((template_graph, list(_fillTemplate(template.triples or [], solution))))
            for g, triples in (template.quads or {}).items():
                name = solution.get(g)
                if name is not None:
                    target.append((dataset.get_context(name), list(_fillTemplate(triples, solution))))
    for graph, triples in deletions:
        for triple in triples:
            graph.remove(triple)
    for graph, triples in insertions:
        graph += triples
