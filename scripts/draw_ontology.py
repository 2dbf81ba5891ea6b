"""Draw the ontology (classes, subclass links, main object properties) as a deterministic SVG.

Why this exists: a newcomer understands the model faster from a picture than from 1,000
lines of Turtle, and the picture must never drift from the ontology. So it is generated
from ontology/dprk-japan.ttl by pure Python (no Graphviz binary, which a fresh machine may
lack), with a layout that depends only on the ontology: the same input gives a byte-identical
SVG, and tests/data/test_picture.py fails when the committed docs/ontology.svg is stale.

    python scripts/draw_ontology.py                     # writes docs/ontology.svg
    python scripts/draw_ontology.py --output preview.svg

Layout (a small Sugiyama-style layered drawing):
* A class gets its own box if it is a root of the dj: hierarchy, a direct subclass of
  dj:Agent, or the domain or range of an object property. Every other class is listed
  inside the box of its nearest boxed ancestor, indented by depth ("› NuclearTest").
* Boxes are put in layers by longest path over the edges domain→range and
  superclass→subclass, so every edge points downwards; long edges pass through invisible
  dummy points, one per layer crossed, so they never cut through a box.
* Order within a layer: barycentre sweeps, ties broken by name. x positions: packed, then
  pulled towards the mean x of their neighbours while keeping the order and the gaps.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import escape

import rdflib
from rdflib import OWL, RDF, RDFS, URIRef
from rdflib.collection import Collection

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY = ROOT / "ontology" / "dprk-japan.ttl"
OUTPUT = ROOT / "docs" / "ontology.svg"
DJ = "https://w3id.org/dprk-japan-kg/ontology#"

FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
CHAR_W = 7.0  # estimated advance of one character at 12 px (generous, so text fits)
TITLE_H, LINE_H, PAD = 22.0, 15.0, 8.0
LAYER_GAP, NODE_GAP, DUMMY_W, MARGIN = 92.0, 34.0, 14.0, 30.0
SWEEPS, PULLS = 8, 12


@dataclass
class Model:
    """The part of the ontology the picture shows, keyed by local name."""

    classes: set[str]
    parent: dict[str, str]  # direct dj: superclass (first by name when several)
    properties: list[tuple[str, str, str]]  # (property, domain class, range class)
    open_properties: list[str]  # object properties with no dj: range (e.g. dj:about)


@dataclass
class Node:
    """A box (a class) or a dummy point on a long edge."""

    name: str
    layer: int
    width: float
    height: float
    lines: list[str] = field(default_factory=list)
    loop: str = ""  # label of self-loop properties, drawn at the right side
    dummy: bool = False
    x: float = 0.0  # left edge
    y: float = 0.0  # top edge

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


@dataclass
class Edge:
    """A drawn edge: a chain of node names from the upper end to the lower end."""

    chain: list[str]
    label: str
    subclass: bool  # True: lower end is the subclass, arrow points up to the superclass


def local(iri: object) -> str:
    return str(iri)[len(DJ) :]


def members(graph: rdflib.Graph, node: object) -> list[str]:
    """The dj: classes a domain/range denotes: the class itself or the members of an owl:unionOf."""
    union = graph.value(node, OWL.unionOf)
    items = list(Collection(graph, union)) if union is not None else [node]
    return sorted(local(i) for i in items if isinstance(i, URIRef) and str(i).startswith(DJ))


def load(path: Path) -> Model:
    """Read classes, the subclass tree and object properties from the ontology file."""
    graph = rdflib.Graph().parse(path)
    classes = {local(c) for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(DJ)}
    parent = {}
    for cls in sorted(classes):
        supers = sorted(local(s) for s in graph.objects(URIRef(DJ + cls), RDFS.subClassOf) if str(s).startswith(DJ))
        if supers:
            parent[cls] = supers[0]
    properties, open_properties = [], []
    for prop in sorted(local(p) for p in graph.subjects(RDF.type, OWL.ObjectProperty) if str(p).startswith(DJ)):
        iri = URIRef(DJ + prop)
        domains = members(graph, graph.value(iri, RDFS.domain))
        ranges = members(graph, graph.value(iri, RDFS.range))
        if not domains or not ranges:
            open_properties.append(prop)
            continue
        properties += [(prop, d, r) for d in domains for r in ranges]
    return Model(classes, parent, properties, open_properties)


def boxed(model: Model) -> set[str]:
    """Classes that get a box of their own (see the module docstring)."""
    ends = {d for _, d, _ in model.properties} | {r for _, _, r in model.properties}
    return {c for c in model.classes if c not in model.parent or model.parent[c] == "Agent" or c in ends}


def box_of(model: Model, boxes: set[str], cls: str) -> str:
    while cls not in boxes:
        cls = model.parent[cls]
    return cls


def compartment(model: Model, boxes: set[str], box: str) -> list[str]:
    """The non-boxed subclasses shown inside a box, depth-first, indented by depth."""
    children = defaultdict(list)
    for cls, sup in model.parent.items():
        children[sup].append(cls)
    lines: list[str] = []

    def walk(cls: str, depth: int) -> None:
        for child in sorted(children[cls]):
            if child not in boxes:
                lines.append("   " * (depth - 1) + ("› " if depth > 1 else "") + child)
                walk(child, depth + 1)

    walk(box, 1)
    return lines


def text_width(text: str, size: float = 12.0) -> float:
    return len(text) * CHAR_W * size / 12.0


def neighbours_of(edges: list[Edge]) -> dict[str, list[str]]:
    """Each node's neighbours along the edge chains: ordering and placing both pull a node towards them."""
    neighbours: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        for a, b in pairwise(edge.chain):
            neighbours[a].append(b)
            neighbours[b].append(a)
    return neighbours


def not_drawn_note(model: Model) -> str:
    """The footnote naming what the picture leaves out; the canvas is made wide enough for it."""
    return ("Not drawn: dct:source (every fact → dj:SourceDocument) and properties without a dj: range: "
            + ", ".join("dj:" + p for p in model.open_properties) + ".")


def build(model: Model) -> tuple[dict[str, Node], list[Edge], list[list[str]]]:
    """Nodes with layers, edges through dummies, and the order of each layer."""
    boxes = boxed(model)
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    loops: dict[str, list[str]] = defaultdict(list)
    for prop, dom, rng in model.properties:
        upper, lower = box_of(model, boxes, dom), box_of(model, boxes, rng)
        if upper == lower:
            loops[upper].append(prop)
        elif prop not in pairs[(upper, lower)]:
            pairs[(upper, lower)].append(prop)
    subclass_pairs = sorted((model.parent[c], c) for c in boxes if c in model.parent)

    # Longest-path layering over superclass→subclass and domain→range (the graph is acyclic
    # for this ontology; a cycle would be a modelling surprise worth an error).
    succ: dict[str, set[str]] = defaultdict(set)
    for upper, lower in list(pairs) + subclass_pairs:
        succ[upper].add(lower)
    layer: dict[str, int] = {}

    def depth(cls: str, seen: tuple[str, ...] = ()) -> int:
        if cls in seen:
            raise ValueError(f"cycle through {' → '.join((*seen, cls))}: cannot layer the picture")
        if cls not in layer:
            preds = [u for u in sorted(succ) if cls in succ[u]]
            layer[cls] = 1 + max((depth(p, (*seen, cls)) for p in preds), default=-1)
        return layer[cls]

    for cls in sorted(boxes):
        depth(cls)

    nodes: dict[str, Node] = {}
    for cls in sorted(boxes):
        lines = compartment(model, boxes, cls)
        loop = ", ".join(sorted(loops[cls]))
        width = max([text_width("dj:" + cls, 13) + 2 * PAD] + [text_width(t) + 2 * PAD for t in lines])
        height = TITLE_H + (len(lines) * LINE_H + PAD if lines else 0) + 4
        nodes[cls] = Node(cls, layer[cls], max(width, 96.0), height, lines, loop)

    edges: list[Edge] = []
    for (upper, lower), props in sorted(pairs.items()):
        edges.append(Edge([upper, lower], ", ".join(props), False))
    for sup, sub in subclass_pairs:
        edges.append(Edge([sup, sub], "", True))
    for edge in edges:  # replace long edges by chains through dummy nodes
        upper, lower = edge.chain
        chain = [upper]
        for level in range(nodes[upper].layer + 1, nodes[lower].layer):
            name = f"~{upper}>{lower}#{level}"
            nodes[name] = Node(name, level, DUMMY_W, 1.0, dummy=True)
            chain.append(name)
        edge.chain = [*chain, lower]

    count = max(n.layer for n in nodes.values()) + 1
    order = [sorted(n.name for n in nodes.values() if n.layer == i) for i in range(count)]
    neighbours = neighbours_of(edges)
    for sweep in range(SWEEPS):
        rng = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        for i in rng:
            ref = i - 1 if sweep % 2 == 0 else i + 1
            pos = {name: k for k, name in enumerate(order[ref])}

            def key(name: str, pos: dict[str, int] = pos, row: list[str] = order[i]) -> tuple[float, str]:
                linked = [pos[m] for m in neighbours[name] if m in pos]
                return (sum(linked) / len(linked) if linked else float(row.index(name)), name)

            order[i] = sorted(order[i], key=key)
    return nodes, edges, order


def place(nodes: dict[str, Node], edges: list[Edge], order: list[list[str]]) -> tuple[float, float]:
    """Assign coordinates; return the canvas size."""
    top = MARGIN + 40
    for row in order:
        height = max(nodes[n].height for n in row)
        for name in row:
            nodes[name].y = top + (height - nodes[name].height) / 2 if nodes[name].dummy else top
        top += height + LAYER_GAP

    def gap(name: str) -> float:
        node = nodes[name]
        return NODE_GAP / 3 if node.dummy else NODE_GAP + (text_width(node.loop, 11) + 24 if node.loop else 0)

    widest = max(sum(nodes[n].width + gap(n) for n in row) for row in order)
    for row in order:
        x = MARGIN + (widest - sum(nodes[n].width + gap(n) for n in row)) / 2
        for name in row:
            nodes[name].x = x
            x += nodes[name].width + gap(name)
    neighbours = neighbours_of(edges)
    for _ in range(PULLS):
        for row in order:
            for k, name in enumerate(row):
                node = nodes[name]
                linked = [nodes[m].cx for m in neighbours[name]]
                if not linked:
                    continue
                want = sum(linked) / len(linked) - node.width / 2
                low = nodes[row[k - 1]].x + nodes[row[k - 1]].width + gap(row[k - 1]) if k else MARGIN
                high = nodes[row[k + 1]].x - node.width - gap(name) if k + 1 < len(row) else float("inf")
                node.x = min(max(want, low), high)
    left = min(n.x for n in nodes.values())
    for node in nodes.values():
        node.x += MARGIN - left
    width = max(n.x + n.width + (text_width(n.loop, 11) + 30 if n.loop else 0) for n in nodes.values()) + MARGIN
    return width, top - LAYER_GAP + MARGIN + 70


def fmt(value: float) -> str:
    """Numbers with at most one decimal, no trailing zeros: stable across platforms."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def ports(nodes: dict[str, Node], edges: list[Edge]) -> dict[tuple[int, str], float]:
    """Spread the ends of edges over the bottom/top side of a box, ordered by the other end's x."""
    result: dict[tuple[int, str], float] = {}
    ends: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    for k, edge in enumerate(edges):
        first, second = nodes[edge.chain[0]], nodes[edge.chain[1]]
        last, before = nodes[edge.chain[-1]], nodes[edge.chain[-2]]
        ends[(first.name, "bottom")].append((second.cx, k))
        ends[(last.name, "top")].append((before.cx, k))
    for (name, side), items in ends.items():
        node = nodes[name]
        items.sort()
        for i, (_, k) in enumerate(items):
            result[(k, side)] = node.x + node.width * (i + 1) / (len(items) + 1)
    return result


Point = tuple[float, float]
Segment = tuple[Point, Point, Point, Point]
Rect = tuple[float, float, float, float]
LABEL_TS = (0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85)


def bezier(segment: Segment, t: float) -> Point:
    """Point at parameter t on a cubic Bézier segment."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = segment
    u = 1 - t
    return (
        u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
        u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3,
    )


def overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(nodes: dict[str, Node], curves: list[tuple[Edge, list[Segment]]]) -> list[tuple[float, float, str]]:
    """Put each edge label on its own curve where it covers no box and no earlier label.

    Candidates are tried segment by segment (upper end first) at the parameters LABEL_TS;
    the first free one wins, else the first candidate. Deterministic: edges come sorted.
    """
    taken: list[Rect] = [
        (n.x - 3, n.y - 3, n.x + n.width + 3, n.y + n.height + 3) for n in nodes.values() if not n.dummy
    ]
    taken += [
        (n.x + n.width, n.y, n.x + n.width + text_width(n.loop, 11) + 30, n.y + 40) for n in nodes.values() if n.loop
    ]
    placed = []
    for edge, segments in curves:
        half_w, half_h = (text_width(edge.label, 11) + 4) / 2, 8.0
        candidates = [bezier(seg, t) for seg in segments for t in LABEL_TS]
        chosen = candidates[0]
        for x, y in candidates:
            if not any(overlaps((x - half_w, y - half_h, x + half_w, y + half_h), r) for r in taken):
                chosen = (x, y)
                break
        x, y = chosen
        taken.append((x - half_w, y - half_h, x + half_w, y + half_h))
        placed.append((x, y, edge.label))
    return placed


def render(model: Model, nodes: dict[str, Node], edges: list[Edge], size: tuple[float, float]) -> str:
    """The SVG document as text (attributes in a fixed order, numbers via fmt)."""
    width, height = size
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{fmt(width)}" height="{fmt(height)}" '
        f'viewBox="0 0 {fmt(width)} {fmt(height)}" font-family="{FONT}">',
        "<title>dprk-japan-kg ontology: classes, subclass links and object properties</title>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2f4b7c"/></marker>',
        '<marker id="triangle" viewBox="0 0 12 12" refX="12" refY="6" markerWidth="11" markerHeight="11" '
        'orient="auto-start-reverse"><path d="M0,0 L12,6 L0,12 z" fill="#ffffff" stroke="#555555"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{fmt(width)}" height="{fmt(height)}" fill="#ffffff"/>',
        f'<text x="{fmt(MARGIN)}" y="{fmt(MARGIN + 6)}" font-size="17" font-weight="bold" fill="#222222">'
        "dprk-japan-kg ontology (dj:)</text>",
        f'<text x="{fmt(MARGIN)}" y="{fmt(MARGIN + 26)}" font-size="12" fill="#444444">'
        "Boxes: classes (indented names: further subclasses). Hollow arrow: subclass of. "
        "Blue arrow: object property, domain → range.</text>",
    ]
    port = ports(nodes, edges)
    layer_bottom: dict[int, float] = defaultdict(float)
    for node in nodes.values():
        layer_bottom[node.layer] = max(layer_bottom[node.layer], node.y + node.height)
    curves: list[tuple[Edge, list[Segment]]] = []
    for k, edge in enumerate(edges):
        first = nodes[edge.chain[0]]
        start = (port[(k, "bottom")], first.y + first.height)
        # Drop straight to the bottom of the layer first, so that the curve cannot cut
        # through a taller box beside this one.
        points = [start, (start[0], layer_bottom[first.layer])]
        for name in edge.chain[1:-1]:
            points.append((nodes[name].cx, nodes[name].y))
            points.append((nodes[name].cx, nodes[name].y + nodes[name].height))
        points.append((port[(k, "top")], nodes[edge.chain[-1]].y))
        segments = []
        for (x1, y1), (x2, y2) in pairwise(points):
            bend = (y2 - y1) / 2
            segments.append(((x1, y1), (x1, y1 + bend), (x2, y2 - bend), (x2, y2)))
        dropped = segments[0][0] != segments[0][3]
        if not dropped:
            segments = segments[1:]  # the box is the tallest of its layer: no drop needed
        path = f"M{fmt(segments[0][0][0])},{fmt(segments[0][0][1])}" + "".join(
            f" C{fmt(c1[0])},{fmt(c1[1])} {fmt(c2[0])},{fmt(c2[1])} {fmt(end[0])},{fmt(end[1])}"
            for _, c1, c2, end in segments
        )
        if edge.subclass:
            out.append(
                f'<path d="{path}" fill="none" stroke="#777777" stroke-width="1.3" marker-start="url(#triangle)"/>'
            )
        else:
            out.append(f'<path d="{path}" fill="none" stroke="#2f4b7c" stroke-width="1.3" marker-end="url(#arrow)"/>')
            # Labels go on the curves first; the straight drop is the last resort.
            curves.append((edge, segments[1:] + segments[:1] if dropped and len(segments) > 1 else segments))
    labels = place_labels(nodes, curves)
    for node in (nodes[n] for n in sorted(nodes)):
        if node.dummy:
            continue
        out.append(f'<g id="class-{node.name}">')
        out.append(
            f'<rect x="{fmt(node.x)}" y="{fmt(node.y)}" width="{fmt(node.width)}" '
            f'height="{fmt(node.height)}" rx="5" fill="#fff8e7" stroke="#b08a2e" stroke-width="1.4"/>'
        )
        out.append(
            f'<text x="{fmt(node.cx)}" y="{fmt(node.y + 16)}" font-size="13" font-weight="bold" '
            f'text-anchor="middle" fill="#3d2f00">dj:{escape(node.name)}</text>'
        )
        if node.lines:
            line_y = node.y + TITLE_H + 2
            out.append(
                f'<line x1="{fmt(node.x)}" y1="{fmt(line_y)}" x2="{fmt(node.x + node.width)}" '
                f'y2="{fmt(line_y)}" stroke="#d9c48f"/>'
            )
            for i, text in enumerate(node.lines):
                out.append(
                    f'<text x="{fmt(node.x + PAD)}" y="{fmt(line_y + 13 + i * LINE_H)}" font-size="12" '
                    f'fill="#333333" xml:space="preserve">{escape(text)}</text>'
                )
        if node.loop:
            right, mid = node.x + node.width, node.y + min(node.height, 40) / 2
            out.append(
                f'<path d="M{fmt(right)},{fmt(mid - 7)} C{fmt(right + 26)},{fmt(mid - 22)} '
                f'{fmt(right + 26)},{fmt(mid + 22)} {fmt(right)},{fmt(mid + 7)}" fill="none" '
                'stroke="#2f4b7c" stroke-width="1.3" marker-end="url(#arrow)"/>'
            )
            out.append(
                f'<text x="{fmt(right + 24)}" y="{fmt(mid + 4)}" font-size="11" fill="#2f4b7c">'
                f"{escape(node.loop)}</text>"
            )
        out.append("</g>")
    for x, y, text in labels:
        w = text_width(text, 11) + 4
        out.append(
            f'<rect x="{fmt(x - w / 2)}" y="{fmt(y - 8)}" width="{fmt(w)}" height="14" rx="3" '
            'fill="#ffffff" fill-opacity="0.9"/>'
        )
        out.append(
            f'<text x="{fmt(x)}" y="{fmt(y + 3)}" font-size="11" text-anchor="middle" '
            f'fill="#2f4b7c">{escape(text)}</text>'
        )
    note = not_drawn_note(model)
    out.append(
        f'<text x="{fmt(MARGIN)}" y="{fmt(height - MARGIN + 4)}" font-size="12" fill="#444444">{escape(note)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def draw(ontology: Path) -> str:
    """Ontology file → SVG text."""
    model = load(ontology)
    nodes, edges, order = build(model)
    size = place(nodes, edges, order)
    note_width = text_width(not_drawn_note(model), 12)
    return render(model, nodes, edges, (max(size[0], note_width + 2 * MARGIN), size[1]))


def main(argv: Sequence[str] | None = None) -> int:
    """Write the picture; exit 2 with the file name when the ontology cannot be read."""
    parser = argparse.ArgumentParser(description="Draw ontology/dprk-japan.ttl as an SVG.")
    parser.add_argument("--ontology", type=Path, default=ONTOLOGY, help="ontology Turtle file")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="SVG file to write")
    args = parser.parse_args(argv)
    try:
        svg = draw(args.ontology)
    except (OSError, SyntaxError, ValueError) as exc:
        print(f"{args.ontology}: {exc}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(svg, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
