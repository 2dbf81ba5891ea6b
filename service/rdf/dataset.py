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
    """The curated data: every ``data/*.trig`` file, then the evidence passages ``data/evidence/*.trig``
    (generated from the curators' quotes), each in name order (deterministic loads)."""
    return sorted((root / "data").glob("*.trig")) + sorted((root / "data" / "evidence").glob("*.trig"))


def bundled_files(root: Path) -> Iterator[BundledFile]:
    """Every file of the bundled graph, ontology and shapes first."""
    if ontology_file(root).exists():
        yield BundledFile(ontology_file(root), "text/turtle", ONTOLOGY_GRAPH)
    if shapes_file(root).exists():
        yield BundledFile(shapes_file(root), "text/turtle", SHAPES_GRAPH)
    for path in data_files(root):
        yield BundledFile(path, "application/trig", None)


class MissingBundle(RuntimeError):
    """The data root lacks what the service needs: it refuses to start rather than serve an empty graph."""


def missing_parts(root: Path, *, data: bool = True) -> list[str]:
    """What the service needs from the data root ``root`` and does not find there (empty: nothing is missing).

    Always ``queries/`` (the canned queries; an empty folder is allowed: no canned query). With ``data`` (the
    bundled graph is loaded on first start): also the ontology, the shapes and at least one ``data/*.trig``.
    """
    if not root.is_dir():
        return [f"{root} itself (no such folder)"]
    missing = []
    if data:
        missing += [str(path.relative_to(root)) for path in (ontology_file(root), shapes_file(root))
                    if not path.is_file()]
        if not data_files(root):
            missing.append("data/*.trig")
    if not (root / "queries").is_dir():
        missing.append("queries/")
    return missing


def require_parts(root: Path, *, data: bool = True) -> None:
    """Raise :class:`MissingBundle`, naming each missing part, unless ``root`` holds what the service needs."""
    missing = missing_parts(root, data=data)
    if missing:
        raise MissingBundle(
            f"cannot start: the data root {root} lacks {', '.join(missing)}. Set DATA_ROOT (--data-root) to a "
            f"folder holding ontology/, data/ and queries/ (or --no-data to start without loading the graph)")
