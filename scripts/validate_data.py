"""Validate the data files against the project's SHACL shapes and print what to fix.

Why this exists: the people writing data/*.trig need a one-line check that uses exactly the
shapes and ontology the tests use, and a report grouped by rule (shape) so that one mistake
repeated thirty times reads as one item to fix, not thirty.

    python scripts/validate_data.py                 # ontology + data/*.trig, violations only
    python scripts/validate_data.py --warnings      # also list sh:Warning results
    python scripts/validate_data.py --per-graph     # validate each named graph on its own
    python scripts/validate_data.py data/doc-002.trig

The data graph is the union of all graphs in the given files plus the ontology, validated with
no inference: SHACL's sh:targetClass already reaches instances of subclasses because the
rdfs:subClassOf triples of the ontology are in the data graph. --per-graph checks the stricter
rule of the vocabulary that each document graph is self-contained (every resource it mentions
is typed, labelled and sourced inside it).

Exit status: 0 no violations, 1 violations found, 2 a file could not be read or parsed.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, SH

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "dprk-japan.ttl"
SHAPES = ROOT / "ontology" / "shapes.ttl"
DATA_DIR = ROOT / "data"

PREFIXES = {
    "dj": "https://w3id.org/dprk-japan-kg/ontology#",
    "djr": "https://w3id.org/dprk-japan-kg/id/",
    "djsh": "https://w3id.org/dprk-japan-kg/shapes#",
    "djg": "https://w3id.org/dprk-japan-kg/graph/",
}


class DataFileError(Exception):
    """A data, ontology or shapes file is missing or does not parse; the message names the file."""


@dataclass(frozen=True)
class Result:
    """One validation result, reduced to the fields a person needs to fix the data."""

    severity: str
    shape: str
    focus: str
    path: str
    value: str
    message: str
    graph: str = ""


def short(term: object) -> str:
    """Write an IRI with the project's prefixes so reports stay readable."""
    text = str(term)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    for prefix, namespace in (("sh", str(SH)), ("rdfs", "http://www.w3.org/2000/01/rdf-schema#")):
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace) :]}"
    return text


def parse_file(path: Path, fmt: str | None = None) -> rdflib.Dataset:
    """Parse one RDF file into a Dataset; raise DataFileError naming the file on any problem."""
    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    dataset = rdflib.Dataset()
    try:
        dataset.parse(path, format=fmt or rdflib.util.guess_format(str(path)) or "turtle")
    except Exception as exc:  # rdflib raises several unrelated types for bad syntax
        raise DataFileError(f"{path}: cannot parse: {exc}") from exc
    return dataset


def load_graph(path: Path) -> rdflib.Graph:
    """Load a Turtle file (ontology or shapes) as a plain graph."""
    graph = rdflib.Graph()
    for triple in parse_file(path, "turtle").triples((None, None, None)):
        graph.add(triple)
    return graph


def load_data(paths: Iterable[Path]) -> dict[str, rdflib.Graph]:
    """Load TriG files and return their named graphs by graph name (the default graph as '')."""
    graphs: dict[str, rdflib.Graph] = {}
    for path in paths:
        dataset = parse_file(path, "trig")
        for context in dataset.graphs():
            if len(context) == 0:
                continue
            name = "" if context.identifier == rdflib.graph.DATASET_DEFAULT_GRAPH_ID else str(context.identifier)
            target = graphs.setdefault(name, rdflib.Graph())
            for triple in context:
                target.add(triple)
    return graphs


def run_shapes(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph, graph_name: str = "") -> list[Result]:
    """Validate one data graph (with the ontology mixed in) and return every result."""
    _conforms, report, _text = validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True
    )
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        results.append(
            Result(
                severity=short(report.value(node, SH.resultSeverity)),
                shape=short(report.value(node, SH.sourceShape)),
                focus=short(report.value(node, SH.focusNode)),
                path=short(report.value(node, SH.resultPath) or ""),
                value=short(report.value(node, SH.value) or ""),
                message=messages[0] if messages else "",
                graph=short(graph_name) if graph_name else "",
            )
        )
    return sorted(results, key=lambda r: (r.severity, r.shape, r.graph, r.focus, r.value))


def validate_paths(paths: Sequence[Path], per_graph: bool = False) -> list[Result]:
    """Validate the given data files: their union (default) or each named graph separately."""
    ontology = load_graph(ONTOLOGY)
    shapes = load_graph(SHAPES)
    graphs = load_data(paths)
    if not per_graph:
        union = rdflib.Graph()
        for graph in graphs.values():
            for triple in graph:
                union.add(triple)
        return run_shapes(union, shapes, ontology)
    results: list[Result] = []
    for name in sorted(graphs):
        results.extend(run_shapes(graphs[name], shapes, ontology, name))
    return results


def format_report(results: Sequence[Result], include_warnings: bool) -> str:
    """Group results by shape: the message once, then each focus node (and offending value)."""
    shown = [r for r in results if include_warnings or r.severity == "sh:Violation"]
    if not shown:
        return "No violations." if not include_warnings else "No violations or warnings."
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in shown:
        groups[(result.severity, result.shape)].append(result)
    lines = []
    for (severity, shape), items in sorted(groups.items()):
        lines.append(f"{severity} {shape} ({len(items)})")
        lines.append(f"  {items[0].message}")
        for item in items:
            where = f" [{item.graph}]" if item.graph else ""
            value = f" value={item.value}" if item.value else ""
            path = f" path={item.path}" if item.path else ""
            lines.append(f"  - {item.focus}{path}{value}{where}")
        lines.append("")
    counts = defaultdict(int)
    for result in shown:
        counts[result.severity] += 1
    lines.append(", ".join(f"{n} {sev}" for sev, n in sorted(counts.items())))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status described in the module docstring."""
    parser = argparse.ArgumentParser(description="Validate data/*.trig against ontology/shapes.ttl.")
    parser.add_argument("files", nargs="*", type=Path, help="TriG files (default: data/*.trig)")
    parser.add_argument("--warnings", action="store_true", help="also list sh:Warning results")
    parser.add_argument("--per-graph", action="store_true", help="validate each named graph separately")
    args = parser.parse_args(argv)
    files = list(args.files) or sorted(DATA_DIR.glob("*.trig"))
    if not files:
        print(f"No data files: {DATA_DIR.relative_to(ROOT)}/*.trig is empty.", file=sys.stderr)
        return 2
    try:
        results = validate_paths(files, per_graph=args.per_graph)
    except DataFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(format_report(results, args.warnings))
    return 1 if any(r.severity == "sh:Violation" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
