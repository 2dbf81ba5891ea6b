"""Validating a change *in the context of the stored graph*, incrementally — the only module that drives pySHACL.

Why: every write is checked against the shapes before it is committed, and the check must
cost what the change costs, not what the graph costs. Validating the batch alone is wrong
(a new round of talks names participants whose types live in the store), and validating
the whole graph is too slow. So :func:`validate_change`:

1. reads the *after* state through :class:`~.scope.AfterView` (nothing is written);
2. works out which nodes could validate differently after the change (the *affected focus
   nodes*, :func:`~.scope.affected_focus_nodes`) from the analysis of the shapes
   (:class:`~.shapes.ShapesModel`);
3. builds a small data graph holding exactly what those nodes' validation reads, plus the
   class hierarchy (:func:`~.scope.context_triples`);
4. runs pySHACL's shapes on the affected focus nodes only, and turns its results into a
   :class:`~.report.ValidationReport`.

pySHACL's own ``focus_nodes`` option is not used: it also filters the value nodes of nested
shapes (``sh:or``, ``sh:node``, ``sh:qualifiedValueShape``) against the focus list, so a wrong
participant type inside ``sh:or`` passes unnoticed. We select each shape's focus nodes
ourselves and hand them to the shape — which is pySHACL's internal API (``Shape.validate``,
``SHACLExecutor``, its constraint-parameter cache), hence the upper bound on pySHACL in
``pyproject.toml`` and this module being the one place that uses it.

SPARQL-based constraints run on pyoxigraph (a copy of the small context), much faster than
rdflib's engine here; everything else is pySHACL's. Neither engine may reach the network:
every SPARQL text of a shapes graph is checked when the shapes are parsed
(:class:`~.shapes.ShapesModel`), and every text pySHACL runs is checked again at the engine
(:func:`_data_graph`), by :mod:`service.validation.shape_queries` — whatever path brought the
shapes (a dry run, a write, the bundled files, the CLI).

Changes to the shapes graph are validated in full (every node, every shape), and so are
shapes the analysis cannot bound (recursive shapes, ``sh:zeroOrMorePath`` outside
``rdfs:subClassOf``, SPARQL constraints with free patterns).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF, RDFS

from service.rdf.terms import from_rdflib, to_rdflib
from service.rdf.vocabulary import SHAPES_GRAPH
from service.validation.core_checks import CoreChecks
from service.validation.report import ValidationReport, build_report, node_text
from service.validation.scope import (
    SUBCLASS,
    AfterView,
    DataScope,
    affected_focus_nodes,
    changed_triples,
    changes_shapes,
    context_triples,
    full_validation_reason,
    hierarchy_consequences,
    shapes_after,
)
from service.validation.shape_queries import check_query
from service.validation.shapes import TARGET_PARAMS, ShapesModel, shapes_model
from service.validation.sparql_checks import ContextStore

# -- the API -------------------------------------------------------------------------------


def validate_change(
    store: ox.Store,
    add: Iterable[ox.Quad] = (),
    remove: Iterable[ox.Quad] = (),
    drop_graphs: Iterable[Any] = (),
    *,
    union: bool = True,
    full: bool = False,
) -> ValidationReport:
    """Validate the state ``store`` would have after the change, nothing written.

    Incremental unless ``full`` is asked or the change needs it (see
    :func:`~.scope.full_validation_reason`); the report says which. Class-hierarchy changes
    stay incremental: every instance of an affected class becomes a focus node.
    """
    started = time.perf_counter()
    add, remove, drop_graphs = list(add), list(remove), list(drop_graphs)
    shapes_change = changes_shapes(add, remove, drop_graphs)
    with _client_shapes(shapes_change):
        model = shapes_model(shapes_after(store, add, remove, drop_graphs) if shapes_change else store)
        engine = _engine(model)
    view = AfterView(store, add, remove, drop_graphs, DataScope(union=union), fast_types=not model.exact_types)
    reason = "full validation was asked for" if full else full_validation_reason(model, add, remove, drop_graphs)
    if reason:
        triples = set(view.all_triples())
        with _client_shapes(shapes_change):
            reports = _run(engine, triples, None)
        return build_report(model, view, reports, mode="full", focus_count=len({s for s, _, _ in triples}),
                            context_count=len(triples), started=started, reason=reason)
    hierarchy = view.hierarchy()
    changed = changed_triples(store, add, remove, drop_graphs, view.scope)
    changed |= hierarchy_consequences(view, store, changed, hierarchy)
    focus = affected_focus_nodes(model, view, changed)
    triples = context_triples(model, view, focus)
    triples |= {(c, SUBCLASS, d) for c, d in hierarchy}
    reports = _run(engine, triples, focus)
    report = build_report(model, view, reports, mode="incremental", focus_count=len(focus),
                          context_count=len(triples), started=started)
    report.checked = {node_text(to_rdflib(n)) for n in focus}
    return report


def validate_store(store: ox.Store, *, union: bool = True) -> ValidationReport:
    """Full validation of everything the store holds (``dprk-kg validate`` without files)."""
    return validate_change(store, union=union, full=True)


def refuse_shape_change(add: Iterable[ox.Quad], remove: Iterable[ox.Quad], drop_graphs: Iterable[Any]) -> None:
    """Raise ``PermissionError`` (403) if the change touches the shapes graph: a dry run without the write token.

    Why: shapes are the service's rules, and SHACL-SPARQL in them is code the validator
    runs; a change to them forces a full validation of the whole store. Only whoever may
    commit a shapes change (the token holder) may have one tried.
    """
    if changes_shapes(list(add), list(remove), list(drop_graphs)):
        raise PermissionError(f"A dry run that changes the shapes graph <{SHAPES_GRAPH}> needs the write token "
                              "(send 'Authorization: Bearer <token>'): shapes are the service's rules, and "
                              "their SPARQL runs in the validator.")


# -- pySHACL -------------------------------------------------------------------------------


@contextmanager
def _client_shapes(active: bool) -> Iterator[None]:
    """While ``active`` (the change brings its own shapes), pySHACL's refusals of them are the client's: ``ValueError``.

    Stored shapes that pySHACL cannot use stay a server error.
    """
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError, ValidationFailure

    try:
        yield
    except (ConstraintLoadError, ReportableRuntimeError, ShapeLoadError, ValidationFailure) as exc:
        if not active:
            raise
        message = getattr(exc, "message", None) or str(exc)
        raise ValueError(f"the new shapes cannot be used: {message}") from exc


@dataclass
class _Engine:
    """pySHACL's shape objects for one :class:`~.shapes.ShapesModel`: the shapes that have targets."""

    shapes: list[Any]
    #: pySHACL's shape objects keep caches: one validation at a time.
    lock: threading.Lock
    #: The targeting shapes evaluated without pySHACL (:mod:`.core_checks`), and those left to it.
    core: CoreChecks


#: Built once per shapes model, and dropped with it (the model cache in :mod:`.shapes` bounds both).
_engines: weakref.WeakKeyDictionary[ShapesModel, _Engine] = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()


def _engine(model: ShapesModel) -> _Engine:
    """pySHACL's parse of the model's shapes, made on first use."""
    from pyshacl.shapes_graph import ShapesGraph

    with _engines_lock:
        engine = _engines.get(model)
        if engine is None:
            shapes: Graph = model.graph
            parsed = ShapesGraph(shapes)
            targeting = [s for s in parsed.shapes if any(True for p in TARGET_PARAMS for _ in shapes.objects(s.node, p))
                         or (s.node, RDF.type, RDFS.Class) in shapes]
            core = CoreChecks(shapes, [s.node for s in targeting])
            engine = _engines[model] = _Engine(targeting, threading.Lock(), core)
        return engine


def _data_graph(triples: Iterable[tuple[Any, Any, Any]], predicates: set[Any] | None = None,
                oxstore: ox.Store | None = None) -> Any:
    """A pySHACL data graph whose SPARQL queries run on pyoxigraph (same triples, same terms).

    ``predicates``: the shapes left to pySHACL read only the triples of these predicates through rdflib
    (their targets; their SPARQL runs on pyoxigraph, over every triple — :meth:`.CoreChecks.rdflib_predicates`),
    so only those are copied into rdflib; a query pyoxigraph cannot take is answered by rdflib over all of them.
    ``oxstore``: the pyoxigraph store of the same triples, when the core checks already built one.
    """
    from pyshacl.graph_abstraction import RdfLibDataGraph

    class HybridDataGraph(RdfLibDataGraph):
        """rdflib for pySHACL's core constraints, pyoxigraph for its SPARQL queries."""

        oxstore: ox.Store
        #: Every triple, when rdflib holds only some of them.
        partial_of: list[tuple[Any, Any, Any]] | None = None

        def rdflib_query(self, query_object: Any, *args: Any, initBindings: Any = None, **kwargs: Any) -> Any:
            if self.partial_of is not None:
                return _data_graph(self.partial_of).query(query_object, *args, initBindings=initBindings, **kwargs)
            return super().query(query_object, *args, initBindings=initBindings, **kwargs)

        def query(self, query_object: Any, *args: Any, initBindings: Any = None, **kwargs: Any) -> Any:
            if not isinstance(query_object, str):
                return self.rdflib_query(query_object, *args, initBindings=initBindings, **kwargs)
            from rdflib.query import Result
            from rdflib.term import Variable

            # The text as pySHACL built it (its substitutions, prefixes): checked again at the engine.
            check_query(query_object, "a query the shapes run")
            subs = {ox.Variable(str(k)): from_rdflib(v) for k, v in (initBindings or {}).items()
                    if f"${k}" in query_object or f"?{k}" in query_object}
            try:
                answer = self.oxstore.query(query_object, substitutions=subs or None)
            except RuntimeError:  # a pre-bound variable outside the projection: let rdflib do it
                return self.rdflib_query(query_object, *args, initBindings=initBindings, **kwargs)
            if isinstance(answer, ox.QueryBoolean):
                result = Result("ASK")
                result.askAnswer = bool(answer)
                return result
            result = Result("SELECT")
            result.vars = [Variable(v.value) for v in answer.variables]
            result.bindings = [{var: to_rdflib(value) for var, value in zip(result.vars, row, strict=True)
                                if value is not None} for row in answer]
            return result

    triples = list(triples)
    graph = Graph()
    graph.addN((to_rdflib(s), to_rdflib(p), to_rdflib(o), graph) for s, p, o in triples
               if predicates is None or p in predicates)
    if oxstore is None:
        oxstore = ContextStore(triples).store
    data = HybridDataGraph(graph.store, graph)
    data.oxstore = oxstore
    data.partial_of = triples if predicates is not None else None
    return data


def _fast_parameter_lookup() -> None:
    """Let pySHACL test "is this predicate a constraint parameter?" with a set instead of a list.

    Why: ``Shape.validate`` runs that test for every predicate of a shape, for every
    focus node and every value node of a nested shape, against a list of ~40 IRIs —
    most of a large batch's validation time went to ``URIRef.__eq__``. pySHACL caches
    the (list, map) pair on its ``shape`` module the first time; we seed that cache with
    a list whose membership test uses a set. It stays a real list — pySHACL's advanced
    mode, which other callers in the same process may use, copies it and appends to the
    copy — so results cannot change.
    """
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    if not isinstance(getattr(shape, "CONSTRAINT_PARAMS", (None,))[0], _ParameterList):
        shape.CONSTRAINT_PARAMS = (_ParameterList(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)


_CHECKED_SPARQL: set[tuple[str, bool, frozenset[str]]] = set()


def _checked_sparql_once() -> None:
    """Let pySHACL check a SPARQL constraint's text once per text, not once per focus node.

    Why: before binding ``$this`` for each focus node, pySHACL checks the constraint's text
    (no MINUS, VALUES or SERVICE, pre-bound variables selected by nested SELECTs) with regular
    expressions over the whole text — the same text, for every focus node. On a batch of
    thousands of resources that check was about a third of the validation's time. It depends
    only on the text, whether a value node is bound, and the extra variables, so a check that
    passed is remembered for those; a text that fails still raises every time.
    """
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    check = SPARQLQueryHelper.check_invalid_sparql
    if getattr(check, "checked_once", False):
        return

    def checked_once(self: Any, sparql_text: str, valuenode: Any = None, extravars: Any = None) -> bool:
        key = (sparql_text, valuenode is not None, frozenset(extravars or ()))
        if key not in _CHECKED_SPARQL:
            check(self, sparql_text, valuenode=valuenode, extravars=extravars)
            _CHECKED_SPARQL.add(key)
        return True

    checked_once.checked_once = True  # type: ignore[attr-defined]
    SPARQLQueryHelper.check_invalid_sparql = checked_once  # type: ignore[method-assign]


def _no_result_text() -> None:
    """Let pySHACL skip the human-readable text it writes for every result: nothing here reads it.

    Why: for each result pySHACL formats a multi-line description, turning the focus node, the value, the shape and
    the path into text through rdflib's namespace manager — on a refused batch of tens of thousands of triples that
    was about a fifth of the check. :func:`~.report.build_report` builds the report from the result's triples
    (focus, value, path, shape, component, messages), never from that text, so the results are unchanged.
    """
    from pyshacl.constraints.constraint_component import ConstraintComponent

    if getattr(ConstraintComponent.make_v_result_description, "no_text", False):
        return

    def no_text(self: Any, *args: Any, **kwargs: Any) -> str:
        return ""

    no_text.no_text = True  # type: ignore[attr-defined]
    ConstraintComponent.make_v_result_description = no_text  # type: ignore[method-assign]


class _ParameterList(list):
    """A list with set-speed membership; ``copy()`` gives a plain list pySHACL may append to."""

    def __init__(self, items: Any) -> None:
        super().__init__(items)
        self._members = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def copy(self) -> list:  # type: ignore[override]
        return list(self)


#: Whether the shapes :mod:`.core_checks` compiled are evaluated there (True) or by pySHACL like the others
#: (False): the parity tests run both ways and compare the reports.
USE_CORE_CHECKS = True


def _run(engine: _Engine, triples: set[tuple[Any, Any, Any]], focus: set[Any] | None) -> list[tuple[Any, Any, list]]:
    """Validate ``triples`` with every targeting shape, restricted to ``focus`` when given.

    The shapes :mod:`.core_checks` compiled are evaluated there; the others by pySHACL, over an rdflib data
    graph built only when one of them has a focus node (building it is a large part of a small check).
    """
    reports: list[tuple[Any, Any, list]] = []
    shapes = engine.shapes
    predicates = None
    context = ContextStore(triples)  # one pyoxigraph store of the triples, for our SPARQL constraints and pySHACL's
    if USE_CORE_CHECKS:
        shapes = [s for s in engine.shapes if s.node not in engine.core.compiled]
        reports, needed = engine.core.run(triples, focus, [s.node for s in shapes], context)
        if not needed:
            return reports
        predicates = engine.core.rdflib_predicates([s.node for s in shapes])
    from pyshacl.monkey import apply_patches
    from pyshacl.pytypes import SHACLExecutor

    apply_patches()
    _fast_parameter_lookup()
    _checked_sparql_once()
    _no_result_text()
    data = _data_graph(triples, predicates, context.store)
    executor = SHACLExecutor(allow_warnings=True, allow_infos=True)
    wanted = {to_rdflib(n) for n in focus} if focus is not None else None
    with engine.lock:
        for shape in shapes:
            if wanted is None:
                _, found = shape.validate(executor, data)
            else:
                targets = [n for n in shape.focus_nodes(data) if n in wanted]
                if not targets:
                    continue
                _, found = shape.validate(executor, data, focus=targets)
            reports.extend(found)
    return reports
