"""The bundled graph: which files make it up and which named graph each goes into.

Why: the service's first start, ``dprk-kg validate``, ``dprk-kg stats`` and the tests all
load the same files the same way; this module is the one list of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.rdf.vocabulary import ONTOLOGY_GRAPH, SHAPES_GRAPH


@dataclass(frozen=True)
class BundledFile:
    """One file of the bundled graph: its path, its format, and its target graph.

    ``graph`` is ``None`` for dataset formats (TriG, N-Quads) whose quads name their
    own graphs.
    """

    path: Path
    format: str
    graph: str | None


def ontology_file(root: Path) -> Path:
    """The OWL ontology (Turtle)."""
    return root / "ontology" / "dprk-japan.ttl"


def shapes_file(root: Path) -> Path:
    """The SHACL shapes (Turtle)."""
    return root / "ontology" / "shapes.ttl"


def data_files(root: Path) -> list[Path]:
    """The curated data: every ``data/*.trig`` file, in name order (deterministic loads)."""
    return sorted((root / "data").glob("*.trig"))


def bundled_files(root: Path) -> Iterator[BundledFile]:
    """Every file of the bundled graph, ontology and shapes first."""
    if ontology_file(root).exists():
        yield BundledFile(ontology_file(root), "text/turtle", ONTOLOGY_GRAPH)
    if shapes_file(root).exists():
        yield BundledFile(shapes_file(root), "text/turtle", SHAPES_GRAPH)
    for path in data_files(root):
        yield BundledFile(path, "application/trig", None)
