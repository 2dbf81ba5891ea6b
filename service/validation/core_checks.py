"""SHACL core constraints evaluated in plain Python over the change's context triples, with pySHACL's exact results.

Why: a guarded write is checked against the shapes before it is committed, and on a batch of thousands of
resources most of that check was pySHACL's per-focus-node machinery (a ``Shape`` walks its parameters, builds a
constraint object per component, reads an rdflib graph built for the occasion) doing simple things — count the
values, test a datatype, look up a type. Here the shapes that use only such core constraints are *compiled* once
per :class:`~.shapes.ShapesModel` and evaluated over dictionaries of the same context triples (pyoxigraph terms);
everything else stays with pySHACL (:mod:`.validate`, the one module that drives it).

The results must be pySHACL's, result for result: each evaluator reports what pySHACL's code for that component
does (read from pySHACL's ``shape.py`` and ``constraints/core``), including its quirks — a shape whose severity is
a warning or an info always *conforms* inside ``sh:or`` and ``sh:qualifiedValueShape``, ``sh:datatype`` relies on
rdflib's reading of the lexical form (an ill-typed ``"2001-13-45"^^xsd:date`` fails, an unparsed ``xsd:gYear``
passes), ``sh:in`` and ``sh:hasValue`` compare rdflib terms. Wherever a literal's value decides, the literal is
turned into the rdflib term pySHACL would see (:func:`~service.rdf.terms.to_rdflib`) and judged the same way.
``tests/validation/test_core_checks.py`` runs both evaluators on the same changes and compares the reports.

A node shape is compiled only when every part of it is understood here: targets of the four core kinds (and
implicit class targets); paths that are one predicate, its inverse, or a sequence of predicates; the components
below; ``sh:sparql`` SELECT constraints (read and run by :mod:`.sparql_checks`, on a pyoxigraph store of the
same triples, which decides the forms it leaves to pySHACL); no recursion; one severity; and, on every shape whose
results are reported, an ``sh:message`` that :func:`~.report.build_report` picks without ambiguity (pySHACL's generic
messages are its own text). Any other SHACL parameter — ``sh:node``, ``sh:closed``, complex paths,
``sh:deactivated``, ``sh:and``/``sh:xone``/``sh:not``, property pairs, string lengths, disjoint qualified shapes —
and any parameter of a custom constraint component leaves the node shape to pySHACL. A shape pySHACL would refuse
is never compiled, so pySHACL still raises its error.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from service.rdf.terms import from_rdflib, to_rdflib
from service.validation import sparql_checks
from service.validation.sparql_checks import ContextStore

_SH = str(SH)
_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
#: Severities that pySHACL's executor (``allow_warnings``, ``allow_infos``) lets conform.
_ALLOWED = frozenset({SH.Info, SH.Warning})

#: SHACL parameters that validate nothing (annotations, the path, what the result says).
_INERT = frozenset({SH.path, SH.name, SH.description, SH.message, SH.severity, SH.order, SH.group,
                    SH.defaultValue, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf})
#: Parameter -> the component evaluated here (pySHACL runs one component per kind, whatever its parameters).
_COMPONENTS = {
    SH["class"]: "class", SH.datatype: "datatype", SH.nodeKind: "nodeKind", SH.minCount: "minCount",
    SH.maxCount: "maxCount", SH.pattern: "pattern", SH.flags: None, SH["in"]: "in", SH.languageIn: "languageIn",
    SH.hasValue: "hasValue", SH.minInclusive: "minInclusive", SH.maxInclusive: "maxInclusive",
    SH.minExclusive: "minExclusive", SH.maxExclusive: "maxExclusive", SH.uniqueLang: "uniqueLang",
    SH["or"]: "or", SH.qualifiedValueShape: "qualified", SH.qualifiedMinCount: "qualified",
    SH.qualifiedMaxCount: "qualified", SH.property: "property", SH.sparql: "sparql",
}
_COMPONENT_IRIS = {
    "class": SH.ClassConstraintComponent, "datatype": SH.DatatypeConstraintComponent,
    "nodeKind": SH.NodeKindConstraintComponent, "minCount": SH.MinCountConstraintComponent,
    "maxCount": SH.MaxCountConstraintComponent, "pattern": SH.PatternConstraintComponent,
    "in": SH.InConstraintComponent, "languageIn": SH.LanguageInConstraintComponent,
    "hasValue": SH.HasValueConstraintComponent, "minInclusive": SH.MinInclusiveConstraintComponent,
    "maxInclusive": SH.MaxInclusiveConstraintComponent, "minExclusive": SH.MinExclusiveConstraintComponent,
    "maxExclusive": SH.MaxExclusiveConstraintComponent, "uniqueLang": SH.UniqueLangConstraintComponent,
    "or": SH.OrConstraintComponent,
}
_NODE_KINDS = {  # which kinds of term each sh:nodeKind accepts
    SH.IRI: {"I"}, SH.BlankNode: {"B"}, SH.Literal: {"L"}, SH.BlankNodeOrIRI: {"B", "I"},
    SH.BlankNodeOrLiteral: {"B", "L"}, SH.IRIOrLiteral: {"I", "L"},
}


# rdflib's namespace attributes are looked up on every access: the terms used per value or per result, once.
_P_TYPE, _RESULT, _P_COMPONENT, _P_SHAPE, _P_SEVERITY, _P_FOCUS, _P_VALUE, _P_PATH, _P_MESSAGE = (
    RDF.type, SH.ValidationResult, SH.sourceConstraintComponent, SH.sourceShape, SH.resultSeverity, SH.focusNode,
    SH.value, SH.resultPath, SH.resultMessage)
_P_CONSTRAINT = SH.sourceConstraint
_HAS_VALUE, _UNIQUE_LANG, _QUALIFIED_MAX, _QUALIFIED_MIN = (
    SH.HasValueConstraintComponent, SH.UniqueLangConstraintComponent, SH.QualifiedMaxCountConstraintComponent,
    SH.QualifiedMinCountConstraintComponent)
_RDFS_LITERAL, _RDFS_DATATYPE, _XSD_STRING, _LANG_STRING = RDFS.Literal, RDFS.Datatype, XSD.string, RDF.langString
_STRINGS = frozenset({XSD.string, RDF.langString})
#: The Python type rdflib gives the value of a well-formed literal of these datatypes (pySHACL's test).
_PYTHON_TYPES = {XSD.integer: int, XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: datetime.date,
                 XSD.time: datetime.time, XSD.dateTime: datetime.datetime}


class NotCompilable(Exception):
    """Some part of a shape is left to pySHACL."""


@dataclass(eq=False)
class _Shape:
    """One shape, compiled: what pySHACL's ``Shape`` would read from the shapes graph, read once."""

    node: Any
    path: Any = None  # the sh:path node (rdflib), for property shapes
    steps: tuple[tuple[ox.NamedNode, bool], ...] | None = None  # (predicate, inverse) for each step of the path
    severity: Any = SH.Violation
    messages: list[Any] = field(default_factory=list)
    checks: list[tuple[str, Any]] = field(default_factory=list)


#: An internal result: (focus, value or None, shape, component IRI); a SPARQL constraint's result adds
#: (result path or None, constraint node, messages) (:func:`.sparql_checks.evaluate`).
_Result = tuple


class _Compiler:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.shapes: dict[Any, _Shape] = {}
        custom: set[Any] = set()
        for component in graph.subjects(RDF.type, SH.ConstraintComponent):
            for parameter in graph.objects(component, SH.parameter):
                custom.update(graph.objects(parameter, SH.path))
        self.custom = custom

    def one(self, node: Any, predicate: Any) -> Any:
        values = list(self.graph.objects(node, predicate))
        if len(values) != 1:
            raise NotCompilable(f"{predicate} must have one value")
        return values[0]

    def items(self, node: Any) -> list[Any]:
        items = list(self.graph.items(node))
        if not items:
            raise NotCompilable("an empty or malformed list")
        return items

    def shape(self, node: Any, stack: tuple[Any, ...], reported: bool) -> _Shape:
        """Compile ``node``; ``reported``: its results reach the report (it needs its own message)."""
        if node in stack:
            raise NotCompilable("recursive shape")
        stack = (*stack, node)
        g = self.graph
        if isinstance(node, Literal):
            raise NotCompilable("a literal is not a shape")
        shape = _Shape(node)
        severities = set(g.objects(node, SH.severity))
        if len(severities) > 1:
            raise NotCompilable("several severities")
        if severities:
            shape.severity = next(iter(severities))
        shape.messages = list(set(g.objects(node, SH.message)))
        paths = list(g.objects(node, SH.path))
        if len(paths) > 1:
            raise NotCompilable("several paths")
        if paths:
            shape.path = paths[0]
            shape.steps = self.steps(paths[0])
        kinds: list[str] = []
        for predicate, _ in g.predicate_objects(node):
            if predicate in _INERT:
                continue
            if predicate in self.custom:
                raise NotCompilable(f"custom constraint parameter {predicate}")
            if predicate not in _COMPONENTS:
                if str(predicate).startswith(_SH):
                    raise NotCompilable(f"{predicate} is left to pySHACL")
                continue
            kind = _COMPONENTS[predicate]
            if kind is not None and kind not in kinds:
                kinds.append(kind)
        if SH.flags in set(g.predicates(node)) and "pattern" not in kinds:
            raise NotCompilable("sh:flags without sh:pattern")
        for kind in kinds:
            shape.checks.append((kind, self.params(kind, shape, stack, reported)))
        if reported and any(kind not in ("property", "sparql") for kind in kinds):
            english = [m for m in shape.messages if getattr(m, "language", None) == "en"]
            if not shape.messages or len(english) > 1 or (not english and len(shape.messages) > 1):
                raise NotCompilable("no single message to report")
        return shape

    def steps(self, path: Any) -> tuple[tuple[ox.NamedNode, bool], ...]:
        """A path of one predicate, its inverse, or a sequence (an RDF list of two or more) of predicates."""
        if isinstance(path, URIRef):
            return ((ox.NamedNode(str(path)), False),)
        if isinstance(path, BNode):
            pairs = list(self.graph.predicate_objects(path))
            if len(pairs) == 1 and pairs[0][0] == SH.inversePath and isinstance(pairs[0][1], URIRef):
                return ((ox.NamedNode(str(pairs[0][1])), True),)
            if {p for p, _ in pairs} == {RDF.first, RDF.rest} and len(pairs) == 2:
                members = list(self.graph.items(path))
                if len(members) >= 2 and all(isinstance(m, URIRef) for m in members):
                    return tuple((ox.NamedNode(str(m)), False) for m in members)
        raise NotCompilable("a path other than a predicate, its inverse or a sequence of predicates")

    def params(self, kind: str, shape: _Shape, stack: tuple[Any, ...], reported: bool) -> Any:
        g, node = self.graph, shape.node
        if kind == "class":
            rules = list(g.objects(node, SH["class"]))
            if not all(isinstance(c, URIRef) for c in rules):
                raise NotCompilable("sh:class must name IRIs")
            return [ox.NamedNode(str(c)) for c in rules]
        if kind == "datatype":
            return self.one(node, SH.datatype)
        if kind == "nodeKind":
            return _NODE_KINDS.get(self.one(node, SH.nodeKind), set())
        if kind in ("minCount", "maxCount"):
            value = self.one(node, SH[kind])
            if shape.path is None or not isinstance(value, Literal) or value.datatype != XSD.integer \
                    or not isinstance(value.value, int) or value.value < 0:
                raise NotCompilable(f"malformed sh:{kind}")
            return int(value.value)
        if kind == "pattern":
            patterns = list(g.objects(node, SH.pattern))
            flags = list(g.objects(node, SH.flags))
            if len(flags) > 1 or not all(isinstance(p, Literal) for p in patterns):
                raise NotCompilable("malformed sh:pattern")
            re_flags = 0
            if flags:
                text = str(flags[0].value).lower() if isinstance(flags[0], Literal) else ""
                re_flags |= re.I if "i" in text else 0
                re_flags |= re.M if "m" in text else 0
            try:
                return [re.compile(str(p.value) if p.value is not None and len(p.value) > 1 else str(p), re_flags)
                        for p in patterns]
            except (re.error, TypeError) as exc:
                raise NotCompilable("a pattern Python cannot compile") from exc
        if kind == "in":
            return set(self.items(self.one(node, SH["in"])))
        if kind == "languageIn":
            languages = self.items(self.one(node, SH.languageIn))
            if not all(isinstance(lang, Literal) and isinstance(lang.value, str) for lang in languages):
                raise NotCompilable("malformed sh:languageIn")
            return {str(lang.value).lower() for lang in languages}
        if kind == "hasValue":
            return list(set(g.objects(node, SH.hasValue)))
        if kind in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            bounds = list(g.objects(node, SH[kind]))
            if not all(isinstance(b, Literal) for b in bounds):
                raise NotCompilable(f"malformed sh:{kind}")
            return bounds
        if kind == "uniqueLang":
            value = self.one(node, SH.uniqueLang)
            if shape.path is None or not isinstance(value, Literal) or not isinstance(value.value, bool):
                raise NotCompilable("malformed sh:uniqueLang")
            return value.value
        if kind == "or":
            return [[self.shape(member, stack, False) for member in set(self.items(lst))]
                    for lst in g.objects(node, SH["or"])]
        if kind == "qualified":
            if shape.path is None or any(True for _ in g.objects(node, SH.qualifiedValueShapesDisjoint)):
                raise NotCompilable("sh:qualifiedValueShape on a node shape, or disjoint")
            counts = []
            for param in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                values = list(g.objects(node, param))
                if len(values) > 1 or any(not isinstance(v, Literal) or not isinstance(v.value, int) for v in values):
                    raise NotCompilable("malformed qualified count")
                counts.append(values[0].value if values else None)
            value_shapes = list(set(g.objects(node, SH.qualifiedValueShape)))
            if not value_shapes or counts == [None, None]:
                raise NotCompilable("malformed sh:qualifiedValueShape")
            return [self.shape(v, stack, False) for v in value_shapes], counts[0], counts[1]
        if kind == "property":
            found = []
            for child in g.objects(node, SH.property):
                compiled = self.shape(child, stack, reported)
                if compiled.path is None:
                    raise NotCompilable("sh:property names a shape without sh:path")
                found.append(compiled)
            return found
        if kind == "sparql":  # sparql_checks decides what pySHACL would do, and raises where it does not
            try:
                return sparql_checks.compile_constraints(g, node, shape.path, shape.messages, reported)
            except sparql_checks.Unsupported as exc:
                raise NotCompilable(str(exc)) from exc
        raise NotCompilable(kind)  # pragma: no cover - every kind is handled above

    def targets(self, node: Any) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        g = self.graph
        classes = list(g.objects(node, SH.targetClass))
        subclasses_of_class = set(g.subjects(RDFS.subClassOf, RDFS.Class)) | {RDFS.Class}
        if any(t in subclasses_of_class for t in g.objects(node, RDF.type)):
            classes.append(node)  # an implicit class target
        return ([from_rdflib(n) for n in g.objects(node, SH.targetNode)], [from_rdflib(c) for c in set(classes)],
                [from_rdflib(p) for p in g.objects(node, SH.targetSubjectsOf)],
                [from_rdflib(p) for p in g.objects(node, SH.targetObjectsOf)])


@dataclass
class _Target:
    shape: _Shape
    nodes: list[Any]
    classes: list[Any]
    subjects_of: list[Any]
    objects_of: list[Any]


class CoreChecks:
    """The compiled node shapes of one shapes model, and the reasons the others stay with pySHACL."""

    def __init__(self, graph: Graph, targeting: Iterable[Any]) -> None:
        compiler = _Compiler(graph)
        self.compiled: dict[Any, _Target] = {}
        self.left: dict[Any, str] = {}
        targets: dict[Any, tuple] = {}
        for node in targeting:
            try:
                targets[node] = compiler.targets(node)
                self.compiled[node] = _Target(compiler.shape(node, (), True), *targets[node])
            except NotCompilable as exc:
                self.left[node] = str(exc)
            except Exception as exc:  # anything unexpected stays with pySHACL, which will say why
                self.left[node] = f"not understood ({type(exc).__name__})"
        self._targets = targets
        #: Per shape left to pySHACL whose only constraints are SPARQL-based: the predicates pySHACL reads
        #: through rdflib for it (its targets; its queries run on pyoxigraph).
        self._sparql_only: dict[Any, set[Any]] = {}
        for node in self.left:
            predicates = {p for p, _ in graph.predicate_objects(node)}
            if node in targets and predicates <= _INERT | {SH.sparql, RDF.type, RDFS.comment, RDFS.label} \
                    and not predicates & compiler.custom:
                _, classes, subjects_of, objects_of = targets[node]
                self._sparql_only[node] = {_TYPE, *({_SUBCLASS} if classes else ()), *subjects_of, *objects_of}

    def rdflib_predicates(self, nodes: Iterable[Any]) -> set[Any] | None:
        """The predicates whose triples pySHACL's rdflib graph needs for the shapes ``nodes``: ``None`` (every
        triple) unless each of them is a SPARQL-only shape, whose queries run on pyoxigraph."""
        needed: set[Any] = set()
        for node in nodes:
            if node not in self._sparql_only:
                return None
            needed |= self._sparql_only[node]
        return needed

    def run(self, triples: Iterable[tuple[Any, Any, Any]], focus: set[Any] | None, others: Iterable[Any] = (),
            context: ContextStore | None = None) -> tuple[list[tuple[str, None, list[tuple[None, Any, Any]]]], bool]:
        """Every compiled shape on its focus nodes (restricted to ``focus`` when given), as pySHACL's result
        tuples; and whether any of the shapes ``others`` (left to pySHACL) has a focus node — if none has,
        pySHACL's data graph need not be built. ``context``: the pyoxigraph store of the same triples the SPARQL
        constraints query (built here on first use when not given; ``triples`` must then be iterable twice)."""
        data = _Data(triples, context)
        results: list[_Result] = []
        for target in self.compiled.values():
            found = data.targets(target.nodes, target.classes, target.subjects_of, target.objects_of)
            _, found_results = _validate(target.shape, data, [n for n in found if focus is None or n in focus])
            results.extend(found_results)
        others_needed = False
        for node in others:
            if node not in self._targets:
                others_needed = True  # its targets were not understood: let pySHACL look
                break
            found = data.targets(*self._targets[node])
            if found if focus is None else any(n in focus for n in found):
                others_needed = True
                break
        return [_as_pyshacl(result, data) for result in results], others_needed


def _as_pyshacl(result: _Result, data: _Data) -> tuple[str, None, list[tuple[None, Any, Any]]]:
    """One result as pySHACL's ``make_v_result`` writes it (what :func:`~.report.build_report` reads)."""
    focus, value, shape, component, *extra = result
    if extra:  # a SPARQL constraint's: its own path, constraint and messages
        path, constraint, messages = extra[0]
        return "", None, [
            (None, _P_TYPE, _RESULT), (None, _P_COMPONENT, component), (None, _P_SHAPE, shape.node),
            (None, _P_SEVERITY, shape.severity), (None, _P_FOCUS, data.rdflib(focus)),
            *([(None, _P_VALUE, data.rdflib(value))] if value is not None else []),
            *([(None, _P_PATH, path if path is not None else shape.path)]
              if path is not None or shape.path is not None else []),
            (None, _P_CONSTRAINT, constraint), *((None, _P_MESSAGE, m) for m in messages)]
    parts: list[tuple[None, Any, Any]] = [
        (None, _P_TYPE, _RESULT),
        (None, _P_COMPONENT, component),
        (None, _P_SHAPE, shape.node),
        (None, _P_SEVERITY, shape.severity),
        (None, _P_FOCUS, data.rdflib(focus)),
    ]
    if value is not None:
        parts.append((None, _P_VALUE, data.rdflib(value)))
    if shape.path is not None:
        parts.append((None, _P_PATH, shape.path))
    parts.extend((None, _P_MESSAGE, m) for m in shape.messages)
    return "", None, parts


class _Data:
    """The context triples as dictionaries, with the lookups pySHACL makes on its rdflib graph."""

    def __init__(self, triples: Iterable[tuple[Any, Any, Any]], context: ContextStore | None = None) -> None:
        #: The same triples in pyoxigraph, for the SPARQL constraints (built when one runs).
        self.context = context if context is not None else ContextStore(triples)
        spo: dict[Any, dict[Any, set[Any]]] = {}
        pos: dict[Any, dict[Any, set[Any]]] = {}
        for s, p, o in triples:
            by_p = spo.get(s)
            if by_p is None:
                by_p = spo[s] = {}
            values = by_p.get(p)
            if values is None:
                by_p[p] = {o}
            else:
                values.add(o)
            by_o = pos.get(p)
            if by_o is None:
                by_o = pos[p] = {}
            subjects = by_o.get(o)
            if subjects is None:
                by_o[o] = {s}
            else:
                subjects.add(s)
        self.spo, self.pos = spo, pos
        self._rdflib: dict[Any, Any] = {}
        self._supers: dict[Any, set[Any]] = {}

    def rdflib(self, term: Any) -> Any:
        found = self._rdflib.get(term)
        if found is None:
            found = self._rdflib[term] = to_rdflib(term)
        return found

    def objects(self, s: Any, p: Any) -> set[Any]:
        return self.spo.get(s, {}).get(p, set())

    def subjects(self, p: Any, o: Any) -> set[Any]:
        return self.pos.get(p, {}).get(o, set())

    def _closure(self, start: Any, step: Any) -> set[Any]:
        seen = {start}
        todo = [start]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def supers(self, cls: Any) -> set[Any]:
        """``cls`` and its superclasses (rdflib's ``transitive_objects(cls, rdfs:subClassOf)``)."""
        found = self._supers.get(cls)
        if found is None:
            found = self._supers[cls] = self._closure(cls, lambda c: self.objects(c, _SUBCLASS))
        return found

    def targets(self, nodes: list[Any], classes: list[Any], subjects_of: list[Any], objects_of: list[Any]
                ) -> set[Any]:
        """pySHACL's ``Shape.focus_nodes``: the target nodes, the SHACL instances of the target classes, the
        subjects and objects of the given predicates."""
        found = set(nodes)
        for cls in classes:
            for sub in self._closure(cls, lambda c: self.subjects(_SUBCLASS, c)):
                found |= self.subjects(_TYPE, sub)
        for p in subjects_of:
            found.update(self.spo_subjects(p))
        for p in objects_of:
            found.update(self.pos.get(p, {}).keys())
        return found

    def spo_subjects(self, p: Any) -> set[Any]:
        subjects: set[Any] = set()
        for group in self.pos.get(p, {}).values():
            subjects |= group
        return subjects

    def values(self, shape: _Shape, focus: Any) -> set[Any]:
        """pySHACL's ``value_nodes``: the focus node itself for a node shape, else the nodes its path reaches."""
        if shape.steps is None:
            return {focus}
        found = {focus}
        for predicate, inverse in shape.steps:
            if len(found) == 1:
                (node,) = found
                found = self.subjects(predicate, node) if inverse else self.objects(node, predicate)
            else:
                found = set().union(*(self.subjects(predicate, n) if inverse else self.objects(n, predicate)
                                      for n in found))
        return found

    def is_instance(self, value: Any, cls: Any) -> bool:
        if isinstance(value, ox.Literal):
            return False
        return any(cls in self.supers(t) for t in self.objects(value, _TYPE))


def _kind(term: Any) -> str:
    return "L" if isinstance(term, ox.Literal) else "B" if isinstance(term, ox.BlankNode) else "I"


def _validate(shape: _Shape, data: _Data, focus_list: Iterable[Any]) -> tuple[bool, list[_Result]]:
    """pySHACL's ``Shape.validate`` with the focus nodes given: (conforms, results)."""
    value_nodes = {f: data.values(shape, f) for f in focus_list}
    if not value_nodes:
        return True, []
    allow_conform = shape.severity in _ALLOWED
    non_conformant = False
    results: list[_Result] = []
    for kind, params in shape.checks:
        conforms, found = _CHECKS[kind](shape, params, data, value_nodes)
        if not conforms and not allow_conform:
            non_conformant = non_conformant or not all(r[2].severity in _ALLOWED for r in found)
        results.extend(found)
    return not non_conformant, results


def _per_value(shape: _Shape, kind: str, value_nodes: dict[Any, set[Any]], ok: Any) -> tuple[bool, list[_Result]]:
    """A result with the value for each value node that fails ``ok``."""
    component = _COMPONENT_IRIS[kind]
    results = [(f, v, shape, component) for f, values in value_nodes.items() for v in values if not ok(v)]
    return not results, results


def _check_class(shape: _Shape, rules: list[Any], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    results: list[_Result] = []
    for cls in rules:
        results.extend(_per_value(shape, "class", value_nodes, lambda v, c=cls: data.is_instance(v, c))[1])
    return not results, results


def _actual_datatype(value: Any, rule: Any) -> bool:
    """pySHACL's ``DatatypeConstraintComponent._assert_actual_datatype``: rdflib's Python value has the right type."""
    if rule in _STRINGS:
        return isinstance(value, (str, bytes))
    return isinstance(value, _PYTHON_TYPES[rule]) if rule in _PYTHON_TYPES else True


def _check_datatype(shape: _Shape, rule: Any, data: _Data, value_nodes: dict) -> tuple[bool, list]:
    def ok(v: Any) -> bool:
        if not isinstance(v, ox.Literal):
            return False
        lit = data.rdflib(v)
        if lit.datatype == rule:
            return False if getattr(lit, "ill_typed", None) is True else _actual_datatype(lit.value, rule)
        if rule == _RDFS_LITERAL:
            return True
        if rule == _RDFS_DATATYPE and lit.datatype:
            return True
        if lit.datatype is None and lit.language is None and rule == _XSD_STRING:
            return _actual_datatype(lit.value, rule)
        if rule == _LANG_STRING and lit.language:
            return _actual_datatype(lit.value, rule)
        return False

    return _per_value(shape, "datatype", value_nodes, ok)


def _check_node_kind(shape: _Shape, kinds: set[str], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    return _per_value(shape, "nodeKind", value_nodes, lambda v: _kind(v) in kinds)


def _check_count(kind: str) -> Any:
    def check(shape: _Shape, limit: int, data: _Data, value_nodes: dict) -> tuple[bool, list]:
        if kind == "minCount" and limit == 0:
            return True, []
        component = _COMPONENT_IRIS[kind]
        results = [(f, None, shape, component) for f, values in value_nodes.items()
                   if (len(values) < limit if kind == "minCount" else len(values) > limit)]
        return not results, results

    return check


def _check_pattern(shape: _Shape, patterns: list[Any], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    results: list[_Result] = []
    for pattern in patterns:
        # pySHACL's value_node_to_string: the lexical form of a literal, the text of an IRI; blank nodes fail.
        results.extend(_per_value(shape, "pattern", value_nodes, lambda v, p=pattern: not isinstance(
            v, ox.BlankNode) and p.search(v.value) is not None)[1])
    return not results, results


def _check_in(shape: _Shape, allowed: set[Any], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    return _per_value(shape, "in", value_nodes, lambda v: data.rdflib(v) in allowed)


def _check_language_in(shape: _Shape, languages: set[str], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    def ok(v: Any) -> bool:
        if not isinstance(v, ox.Literal) or not v.language:
            return False
        lang = v.language.lower()
        return "*" in languages or lang in languages or lang.split("-")[0] in languages

    return _per_value(shape, "languageIn", value_nodes, ok)


def _check_has_value(shape: _Shape, wanted: list[Any], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    results = [(f, None, shape, _HAS_VALUE) for hv in wanted
               for f, values in value_nodes.items() if not any(data.rdflib(v) == hv for v in values)]
    return not results, results


def _compare_literal(l1: Any, l2: Any) -> int:
    """pySHACL's ``rdfutil.compare.compare_literal`` (raises TypeError/NotImplementedError where it does)."""
    if l1.eq(l2):
        return 0
    if l1.value.__class__ in (datetime.datetime, datetime.time):
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


def _check_range(kind: str) -> Any:
    accept = {"minInclusive": lambda c: c >= 0, "minExclusive": lambda c: c > 0,
              "maxInclusive": lambda c: c <= 0, "maxExclusive": lambda c: c < 0}[kind]

    def check(shape: _Shape, bounds: list[Any], data: _Data, value_nodes: dict) -> tuple[bool, list]:
        results: list[_Result] = []
        for bound in bounds:
            bound_is_string = isinstance(bound.value, str)

            def ok(v: Any, bound: Any = bound, bound_is_string: bool = bound_is_string) -> bool:
                if not isinstance(v, ox.Literal):
                    return False
                lit = data.rdflib(v)
                if bound_is_string != isinstance(lit.value, str):
                    return False
                try:
                    return accept(_compare_literal(lit, bound))
                except (TypeError, NotImplementedError):
                    return False

            results.extend(_per_value(shape, kind, value_nodes, ok)[1])
        return not results, results

    return check


def _check_unique_lang(shape: _Shape, unique: bool, data: _Data, value_nodes: dict) -> tuple[bool, list]:
    if not unique:
        return True, []
    results: list[_Result] = []
    for f, values in value_nodes.items():
        seen: set[str] = set()
        duplicates: set[str] = set()
        for v in values:
            if isinstance(v, ox.Literal) and v.language:
                lang = v.language.lower()
                (duplicates if lang in seen else seen).add(lang)
        results.extend((f, None, shape, _UNIQUE_LANG) for _ in duplicates)
    return not results, results


def _check_or(shape: _Shape, lists: list[list[_Shape]], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    results: list[_Result] = []
    for members in lists:
        results.extend(_per_value(shape, "or", value_nodes, lambda v, ms=members: any(
            _validate(m, data, [v])[0] for m in ms))[1])
    return not results, results


def _check_qualified(shape: _Shape, params: tuple[list[_Shape], int | None, int | None], data: _Data,
                     value_nodes: dict) -> tuple[bool, list]:
    value_shapes, low, high = params
    if sum(len(values) for values in value_nodes.values()) < 1 and (low is None or low < 1):
        return True, []
    results: list[_Result] = []
    for value_shape in value_shapes:
        for f, values in value_nodes.items():
            conforming = sum(1 for v in values if _validate(value_shape, data, [v])[0])
            if high is not None and conforming > high:
                results.append((f, None, shape, _QUALIFIED_MAX))
            if low is not None and conforming < low:
                results.append((f, None, shape, _QUALIFIED_MIN))
    return not results, results


def _check_property(shape: _Shape, children: list[_Shape], data: _Data, value_nodes: dict) -> tuple[bool, list]:
    conforms = True
    results: list[_Result] = []
    for child in children:
        for values in value_nodes.values():
            for v in values:
                child_conforms, found = _validate(child, data, [v])
                conforms = conforms and child_conforms
                results.extend(found)
    return conforms, results


def _check_sparql(shape: _Shape, constraints: list, data: _Data, value_nodes: dict) -> tuple[bool, list]:
    results = sparql_checks.evaluate(shape, constraints, data, value_nodes.keys())
    return not results, results


_CHECKS = {
    "class": _check_class, "datatype": _check_datatype, "nodeKind": _check_node_kind,
    "minCount": _check_count("minCount"), "maxCount": _check_count("maxCount"), "pattern": _check_pattern,
    "in": _check_in, "languageIn": _check_language_in, "hasValue": _check_has_value,
    "minInclusive": _check_range("minInclusive"), "maxInclusive": _check_range("maxInclusive"),
    "minExclusive": _check_range("minExclusive"), "maxExclusive": _check_range("maxExclusive"),
    "uniqueLang": _check_unique_lang, "or": _check_or, "qualified": _check_qualified, "property": _check_property,
    "sparql": _check_sparql,
}
