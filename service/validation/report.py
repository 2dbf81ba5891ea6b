"""Validation reports: each result with what a person needs to act on it, as JSON, text or a SHACL graph.

Why: pySHACL's results are tuples of rdflib terms; people need the node and the value with
their labels, the rule's name, the path as SPARQL text and the problem in plain words. The
report crosses the pipe from the store worker as JSON (:meth:`ValidationReport.from_json`)
and is rendered by the web and CLI layers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from service.rdf.terms import from_rdflib, to_rdflib
from service.rdf.vocabulary import PREFIXES, XSD_STRING, curie

if TYPE_CHECKING:  # rdflib is imported where a report graph is built or pySHACL's results are read
    from rdflib import Graph
    from rdflib.term import Node

    from service.validation.scope import AfterView
    from service.validation.shapes import ShapesModel

#: The SHACL namespace, spelled out: the web tier reads and writes reports without loading rdflib
#: (it only needs rdflib for a report graph, in :meth:`ValidationReport.to_graph`).
SHACL = "http://www.w3.org/ns/shacl#"
SEVERITY_NAMES = {f"{SHACL}Violation": "Violation", f"{SHACL}Warning": "Warning", f"{SHACL}Info": "Info"}


def short_text(term: Any) -> str:
    """A term for people: CURIEs for IRIs, ``"lexical"^^xsd:type`` or ``"text"@lang`` for literals."""
    if isinstance(term, ox.NamedNode):
        return curie(term.value, brackets=True)
    if isinstance(term, ox.Literal):
        if term.language:
            return f'"{term.value}"@{term.language}'
        if term.datatype.value == XSD_STRING:
            return f'"{term.value}"'
        return f'"{term.value}"^^{curie(term.datatype.value, brackets=True)}'
    return str(term)


#: What a failed constraint component means, in plain words ({path} is filled in).
PLAIN_WORDS = {
    "MinCountConstraintComponent": "is missing {path} (or has too few values)",
    "MaxCountConstraintComponent": "has more than the allowed number of {path} values",
    "ClassConstraintComponent": "has a {path} value that is not of the required type",
    "DatatypeConstraintComponent": "has a {path} value of the wrong datatype",
    "NodeKindConstraintComponent": "has a {path} value of the wrong kind (IRI, literal or blank node)",
    "LanguageInConstraintComponent": "has a {path} value in a language that is not allowed",
    "UniqueLangConstraintComponent": "has two {path} values in the same language",
    "PatternConstraintComponent": "has a {path} value that does not match the expected pattern",
    "InConstraintComponent": "has a {path} value that is not one of the allowed values",
    "HasValueConstraintComponent": "lacks the required {path} value",
    "OrConstraintComponent": "has a {path} value that matches none of the allowed forms",
    "XoneConstraintComponent": "has a {path} value that must match exactly one of the allowed forms",
    "AndConstraintComponent": "has a {path} value that does not meet all the required conditions",
    "NotConstraintComponent": "has a {path} value of a form that is not allowed",
    "NodeConstraintComponent": "has a {path} value that does not have the required shape",
    "QualifiedMinCountConstraintComponent": "has too few {path} values of the required kind",
    "QualifiedMaxCountConstraintComponent": "has too many {path} values of one kind",
    "SPARQLConstraintComponent": "breaks a rule about {path}",
    "ClosedConstraintComponent": "uses a property the rule does not allow",
    "LessThanConstraintComponent": "has {path} values that are not less than they should be",
    "EqualsConstraintComponent": "has {path} values that differ where they must be equal",
    "DisjointConstraintComponent": "shares {path} values it must not share",
    "MinInclusiveConstraintComponent": "has a {path} value that is too small",
    "MaxInclusiveConstraintComponent": "has a {path} value that is too large",
    "MinLengthConstraintComponent": "has a {path} value that is too short",
    "MaxLengthConstraintComponent": "has a {path} value that is too long",
}


@dataclass
class ValidationResult:
    """One SHACL result, with what a person needs to act on it."""

    focus: str
    focus_label: str | None
    severity: str
    message: str
    shape: str
    shape_name: str | None
    component: str
    path: str | None = None
    path_text: str | None = None
    value: str | None = None
    value_text: str | None = None
    value_label: str | None = None
    constraint: str | None = None

    @property
    def key(self) -> tuple:
        """Identity of the result (for comparisons between validations)."""
        return (self.focus, self.path, self.value, self.shape, self.component, self.severity, self.constraint)

    @property
    def problem(self) -> str:
        """What is wrong, in plain words, without naming the resource: "has too few … values"."""
        phrase = PLAIN_WORDS.get(self.component, "breaks the rule on {path}")
        what = phrase.format(path=self.path_text or "a property")
        if self.value_text is not None and self.value != self.focus:
            what += f" (value: {self.value_label}, {self.value_text})" if self.value_label else \
                f" (value: {self.value_text})"
        return what

    @property
    def summary(self) -> str:
        """The result as one sentence in plain words, naming the resource and the rule."""
        who = f"{self.focus_label} ({short_node(self.focus)})" if self.focus_label else short_node(self.focus)
        rule = self.shape_name or short_node(self.shape)
        return f"{who} {self.problem} — rule “{rule}”."

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "focus": self.focus, "focus_label": self.focus_label, "severity": self.severity,
            "path": self.path, "path_text": self.path_text, "value": self.value, "value_text": self.value_text,
            "value_label": self.value_label, "message": self.message, "summary": self.summary,
            "problem": self.problem,
            "shape": self.shape, "shape_name": self.shape_name, "component": self.component,
            "constraint": self.constraint,
        }


def short_node(text: str) -> str:
    """An N-Triples/IRI string as a CURIE when possible."""
    if text.startswith("_:"):
        return text
    return curie(text, brackets=True)


@dataclass
class ValidationReport:
    """The outcome of a validation: conforms (no sh:Violation), results, and how it was computed.

    Warnings and infos are reported but do not make a change non-conforming.
    """

    conforms: bool
    results: list[ValidationResult]
    mode: str = "incremental"
    focus_nodes: int = 0
    context_triples: int = 0
    elapsed_ms: float = 0.0
    reason: str | None = None
    #: The focus nodes checked (incremental mode; empty for full validation). Not serialized.
    checked: set[str] = field(default_factory=set, repr=False)

    def count(self, severity: str) -> int:
        """How many results have this severity (Violation, Warning, Info)."""
        return sum(1 for r in self.results if r.severity == severity)

    def groups(self) -> list[tuple[str, str | None, list[ValidationResult]]]:
        """Results grouped by focus node: violations first, then by node."""
        grouped: dict[str, list[ValidationResult]] = defaultdict(list)
        for result in self.results:
            grouped[result.focus].append(result)

        def order(item: tuple[str, list[ValidationResult]]) -> tuple[int, str]:
            return (0 if any(r.severity == "Violation" for r in item[1]) else 1, item[0])

        return [(focus, results[0].focus_label, sorted(results, key=_result_order))
                for focus, results in sorted(grouped.items(), key=order)]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: counts, results grouped by focus node, and the flat list."""
        return {
            "conforms": self.conforms,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "mode": self.mode,
            "checked_focus_nodes": self.focus_nodes,
            "context_triples": self.context_triples,
            "elapsed_ms": round(self.elapsed_ms, 1),
            **({"full_validation_reason": self.reason} if self.reason else {}),
            "by_focus_node": [{"focus": focus, "label": label, "results": [r.to_json() for r in results]}
                              for focus, label, results in self.groups()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ValidationReport:
        """Rebuild a report from :meth:`to_json` (it crosses the pipe from the store worker as JSON)."""
        results = []
        for group in data.get("by_focus_node", []):
            for r in group["results"]:
                results.append(ValidationResult(
                    focus=r["focus"], focus_label=r["focus_label"], severity=r["severity"], message=r["message"],
                    shape=r["shape"], shape_name=r["shape_name"], component=r["component"], path=r["path"],
                    path_text=r["path_text"], value=r["value"], value_text=r["value_text"],
                    value_label=r["value_label"], constraint=r["constraint"]))
        return cls(conforms=data["conforms"], results=results, mode=data.get("mode", "incremental"),
                   focus_nodes=data.get("checked_focus_nodes", 0), context_triples=data.get("context_triples", 0),
                   elapsed_ms=data.get("elapsed_ms", 0.0), reason=data.get("full_validation_reason"))

    def to_graph(self) -> Graph:
        """The report as a SHACL ``sh:ValidationReport`` graph (W3C SHACL §3.6)."""
        from rdflib import BNode, Graph, Literal, URIRef
        from rdflib.namespace import RDF, SH

        graph = Graph()
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for r in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, _node_from_text(r.focus)))
            graph.add((node, SH.resultSeverity, SH[r.severity]))
            graph.add((node, SH.sourceConstraintComponent, SH[r.component]))
            graph.add((node, SH.sourceShape, _node_from_text(r.shape)))
            graph.add((node, SH.resultMessage, Literal(r.message, lang="en")))
            if r.path and not r.path.startswith(("^", "(")) and "/" not in r.path:
                graph.add((node, SH.resultPath, URIRef(r.path.strip("<>"))))
            if r.value is not None:
                graph.add((node, SH.value, to_rdflib(_parse_term(r.value))))
            if r.constraint:
                graph.add((node, SH.sourceConstraint, _node_from_text(r.constraint)))
        return graph

    def to_text(self) -> str:
        """A table for people, grouped by focus node, with labels."""
        lines = [f"Conforms: {'yes' if self.conforms else 'no'} — {self.count('Violation')} violation(s), "
                 f"{self.count('Warning')} warning(s), {self.count('Info')} info(s); "
                 f"{self.focus_nodes} focus node(s) checked ({self.mode} validation)."]
        for focus, label, results in self.groups():
            lines.append("")
            lines.append(f"{short_node(focus)}" + (f"  “{label}”" if label else ""))
            for r in results:
                value = ""
                if r.value_text is not None and r.value != r.focus:
                    value = f"  value {r.value_text}" + (f" ({r.value_label})" if r.value_label else "")
                lines.append(f"  {r.severity:<9} {r.path_text or '-':<28}{value}")
                lines.append(f"            rule: {r.shape_name or short_node(r.shape)} ({short_node(r.shape)})")
                lines.append(f"            {r.message}")
        return "\n".join(lines) + "\n"


def _result_order(r: ValidationResult) -> tuple[int, str, str]:
    return ({"Violation": 0, "Warning": 1}.get(r.severity, 2), r.path_text or "", r.value_text or "")


def _node_from_text(text: str) -> Node:
    from rdflib import BNode, URIRef

    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _parse_term(text: str) -> Any:
    """An N-Triples term back to pyoxigraph (for report graphs rebuilt from JSON)."""
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    quad = next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    return quad.object


def node_text(term: Node) -> str:
    """An rdflib term as the report writes it: the bare IRI, or ``_:id`` for a blank node."""
    from rdflib import BNode

    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def build_report(model: ShapesModel, view: AfterView, reports: list[tuple[Any, Any, list]], *, mode: str,
                 focus_count: int, context_count: int, started: float, reason: str | None = None
                 ) -> ValidationReport:
    """Turn pySHACL's result tuples into a :class:`ValidationReport` with labels and names."""
    from rdflib.namespace import SH

    results: list[ValidationResult] = []
    seen: set[tuple] = set()
    result_message = SH.resultMessage  # rdflib looks namespace attributes up on each access: once, not per triple
    for _text, _node, parts in reports:
        fields: dict[Any, Any] = {}
        messages: list[Any] = []
        for _, predicate, obj in parts:
            value = obj[1] if isinstance(obj, tuple) else obj
            if predicate == result_message:
                messages.append(value)
            else:
                fields[predicate] = value
        english = [m for m in messages if getattr(m, "language", None) == "en"]
        message = str((english or messages)[0]) if messages else ""
        focus = fields[SH.focusNode]
        focus_ox = from_rdflib(focus)
        path = fields.get(SH.resultPath)
        value = fields.get(SH.value)
        value_ox = from_rdflib(value) if value is not None else None
        shape = fields[SH.sourceShape]
        result = ValidationResult(
            focus=node_text(focus),
            focus_label=view.label(focus_ox),
            severity=SEVERITY_NAMES.get(str(fields.get(SH.resultSeverity)), "Violation"),
            message=message,
            shape=node_text(shape),
            shape_name=model.name(shape),
            component=str(fields.get(SH.sourceConstraintComponent, "")).split("#")[-1],
            path=model.path_text(path, short=False),
            path_text=model.path_text(path, short=True),
            value=str(value_ox) if value_ox is not None else None,
            value_text=short_text(value_ox) if value_ox is not None else None,
            value_label=view.label(value_ox) if value_ox is not None else None,
            constraint=node_text(fields[SH.sourceConstraint]) if SH.sourceConstraint in fields else None,
        )
        if result.key not in seen:
            seen.add(result.key)
            results.append(result)
    # A total order (ties broken by shape, component, value, path, message): the same results in the same order
    # whichever evaluator found them and in whichever order (pySHACL's follows its hash-ordered sets).
    results.sort(key=lambda r: (r.focus, *_result_order(r), r.shape, r.component, r.value or "", r.path or "",
                                r.message, r.constraint or ""))
    conforms = not any(r.severity == "Violation" for r in results)
    return ValidationReport(conforms=conforms, results=results, mode=mode, focus_nodes=focus_count,
                            context_triples=context_count, elapsed_ms=(time.perf_counter() - started) * 1000,
                            reason=reason)
