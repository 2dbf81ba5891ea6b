// The network view: CONSTRUCT/DESCRIBE answers (triples) and SELECT answers with two IRI columns as a graph of
// nodes and labelled edges, laid out by d3-force once (a fixed number of steps, then drawn still, so a few thousand
// nodes stay usable), nodes coloured by type and linked to their pages, labels fetched from this service's endpoint
// for IRIs the answer does not label. Downloads and links through static/timeline.js, which pages load first.
"use strict";

(function () {
  const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
  const LABELS = new Set(["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel",
    "https://schema.org/name", "http://purl.org/dc/terms/title"]);
  const OUR_CLASSES = "https://w3id.org/dprk-japan-kg/ontology#";
  const MAX_NODES = 3000; // drawn at most; the caption says how many were left out
  const TYPE_LIKE = /^(type|kind|class|category)$/i;

  function emptyGraph() {
    return { nodes: new Map(), edges: [] };
  }

  function node(graph, term) {
    let found = graph.nodes.get(term.value);
    if (!found) {
      found = { id: term.value, iri: term.type === "uri" ? term.value : null, label: null, type: null };
      graph.nodes.set(term.value, found);
    }
    return found;
  }

  // Triples as {s, p, o}, each {type: "uri"|"bnode"|"literal", value, lang?}.
  function fromTriples(triples) {
    const graph = emptyGraph();
    for (const { s, p, o } of triples) {
      if (p.value === RDF_TYPE && o.type === "uri") {
        const subject = node(graph, s);
        if (!subject.type || o.value.startsWith(OUR_CLASSES)) subject.type = o.value;
        continue;
      }
      if (o.type === "literal") {
        const subject = node(graph, s);
        if (LABELS.has(p.value) && (!subject.label || o.lang === "en")) subject.label = o.value;
        continue;
      }
      node(graph, s);
      node(graph, o);
      graph.edges.push({ source: s.value, target: o.value, label: p.value });
    }
    return graph;
  }

  // The edge columns of a SELECT answer: the first IRI column and the next one that is not a type.
  function selectColumns(results) {
    const vars = (results && results.head && results.head.vars) || [];
    const bindings = (results && results.results && results.results.bindings) || [];
    const iris = vars.filter((v) => bindings.some((row) => row[v] && row[v].type === "uri"));
    const ends = iris.filter((v) => !TYPE_LIKE.test(v));
    if (ends.length < 2) return null;
    return { vars, bindings, source: ends[0], target: ends[1], type: iris.find((v) => TYPE_LIKE.test(v)) || null };
  }

  function fromSelect(results) {
    const cols = selectColumns(results);
    if (!cols) return null;
    const graph = emptyGraph();
    const labelOf = (v) => (cols.vars.includes(`${v}_label`) ? `${v}_label`
      : v === cols.source && cols.vars.includes("label") ? "label" : null);
    for (const row of cols.bindings) {
      const ends = [cols.source, cols.target].map((v) => {
        if (!row[v] || row[v].type !== "uri") return null;
        const found = node(graph, row[v]);
        const label = labelOf(v);
        if (label && row[label] && !found.label) found.label = row[label].value;
        return found;
      });
      if (ends[0] && cols.type && row[cols.type]) ends[0].type = ends[0].type || row[cols.type].value;
      if (ends[0] && ends[1]) graph.edges.push({ source: ends[0].id, target: ends[1].id, label: cols.target });
    }
    return graph;
  }

  // The triples of an N-Triples document (what a canned page's .nt twin sends).
  function parseNTriples(text) {
    const term = String.raw`(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)`;
    const line = new RegExp(`^\\s*${term}\\s+${term}\\s+${term}\\s*\\.\\s*$`);
    const read = (token) => {
      if (token.startsWith("<")) return { type: "uri", value: token.slice(1, -1) };
      if (token.startsWith("_:")) return { type: "bnode", value: token };
      const end = token.lastIndexOf('"');
      const lang = token.slice(end + 1).startsWith("@") ? token.slice(end + 2) : undefined;
      return { type: "literal", value: JSON.parse(token.slice(0, end + 1)), lang };
    };
    const triples = [];
    for (const row of text.split("\n")) {
      const match = line.exec(row);
      if (match) triples.push({ s: read(match[1]), p: read(match[2]), o: read(match[3]) });
    }
    return triples;
  }

  // Yasr's parsed Turtle (N3 quads) as triples.
  function fromQuads(quads) {
    const term = (t) => ({ type: t.termType === "NamedNode" ? "uri" : t.termType === "BlankNode" ? "bnode" : "literal",
      value: t.termType === "BlankNode" ? `_:${t.value}` : t.value, lang: t.language || undefined });
    return fromTriples(quads.map((q) => ({ s: term(q.subject), p: term(q.predicate), o: term(q.object) })));
  }

  // Labels and types the answer lacks, from the endpoint (batches of IRIs in VALUES).
  async function complete(graph, endpoint) {
    const missing = [...graph.nodes.values()].filter((n) => n.iri && (!n.label || !n.type)).map((n) => n.iri);
    for (let start = 0; start < missing.length; start += 300) {
      const values = missing.slice(start, start + 300).map((iri) => `<${iri}>`).join(" ");
      const query = "SELECT ?s (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) WHERE { VALUES ?s { " + values + " }\n"
        + "OPTIONAL { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANGMATCHES(LANG(?l), \"en\") || LANG(?l) = \"\") }\n"
        + `OPTIONAL { ?s a ?t FILTER(STRSTARTS(STR(?t), "${OUR_CLASSES}")) } } GROUP BY ?s`;
      try {
        const response = await fetch(endpoint, { method: "POST", body: new URLSearchParams({ query }),
          headers: { Accept: "application/sparql-results+json" } });
        if (!response.ok) return;
        for (const row of (await response.json()).results.bindings) {
          const found = graph.nodes.get(row.s.value);
          if (!found) continue;
          if (!found.label && row.label) found.label = row.label.value;
          if (!found.type && row.type) found.type = row.type.value;
        }
      } catch (_error) {
        return; // the graph is drawn with what the answer says
      }
    }
  }

  function shortName(iri, prefixes) {
    for (const [prefix, namespace] of Object.entries(prefixes || {})) {
      if (iri.startsWith(namespace)) return `${prefix}:${iri.slice(namespace.length)}`;
    }
    return DprkTimeline.shortName(iri);
  }

  function svgElement(name, attributes, parent) {
    const element = document.createElementNS("http://www.w3.org/2000/svg", name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    if (parent) parent.append(element);
    return element;
  }

  // Draw `graph` into `container` (labels and types completed first); resolves to false when there is nothing.
  async function render(container, graph, options) {
    options = options || {};
    if (!graph || graph.nodes.size === 0) return false;
    container.replaceChildren();
    container.textContent = "Laying out…";
    if (options.endpoint) await complete(graph, options.endpoint);
    const all = [...graph.nodes.values()];
    const nodes = all.slice(0, MAX_NODES);
    const kept = new Set(nodes.map((n) => n.id));
    const edges = graph.edges.filter((e) => kept.has(e.source) && kept.has(e.target)).map((e) => ({ ...e }));
    const simulation = d3.forceSimulation(nodes)
      .force("link", d3.forceLink(edges).id((n) => n.id).distance(70))
      .force("charge", d3.forceManyBody().strength(-160).theta(0.9))
      .force("x", d3.forceX(0).strength(0.04)).force("y", d3.forceY(0).strength(0.04))
      .stop();
    const steps = nodes.length > 1000 ? 120 : 300;
    for (let i = 0; i < steps; i += 1) simulation.tick();

    const types = [...new Set(nodes.map((n) => n.type || ""))];
    const colour = d3.scaleOrdinal(types, d3.schemeTableau10.concat(d3.schemeSet3));
    const [minX, maxX] = d3.extent(nodes, (n) => n.x);
    const [minY, maxY] = d3.extent(nodes, (n) => n.y);
    const pad = 60;
    const named = nodes.length <= 400; // names written beside the nodes; above that, in their tooltips
    const width = Math.max(480, Math.min(container.clientWidth || 960, 1400));
    const height = Math.max(360, Math.min(720, width * 0.65));
    container.textContent = "";
    const figure = document.createElement("figure");
    figure.className = "network";
    figure.dataset.nodes = String(nodes.length);
    figure.dataset.edges = String(edges.length);
    const caption = document.createElement("figcaption");
    caption.textContent = `${nodes.length} nodes and ${edges.length} edges`
      + (nodes.length < all.length ? ` — the first ${nodes.length} of ${all.length} nodes are drawn` : "")
      + ". Drag or use the arrow keys to move, scroll, the buttons or the + and - keys to zoom (0 resets);"
      + " a node opens its page.";
    figure.append(caption);
    const svg = svgElement("svg", { width, height, role: "group", class: "network-svg",
      viewBox: `${minX - pad} ${minY - pad} ${maxX - minX + 2 * pad + (named ? 200 : 0)} ${maxY - minY + 2 * pad}`,
      "aria-label": `Network of ${nodes.length} nodes`, tabindex: "0",
      "aria-keyshortcuts": "+ - 0 ArrowUp ArrowDown ArrowLeft ArrowRight" });
    const world = svgElement("g", {}, svg);
    const edgeGroup = svgElement("g", { stroke: "#8a94a6", "stroke-opacity": "0.7", "aria-label": "edges" }, world);
    for (const edge of edges) {
      const line = svgElement("line", { x1: edge.source.x, y1: edge.source.y, x2: edge.target.x, y2: edge.target.y },
        edgeGroup);
      svgElement("title", {}, line).textContent = shortName(edge.label, options.prefixes);
    }
    if (edges.length <= 150) {
      const labels = svgElement("g", { "font-size": "9", fill: "#5a6472", "text-anchor": "middle" }, world);
      for (const edge of edges) {
        svgElement("text", { x: (edge.source.x + edge.target.x) / 2, y: (edge.source.y + edge.target.y) / 2 - 2 },
          labels).textContent = shortName(edge.label, options.prefixes);
      }
    }
    const nodeGroup = svgElement("g", { "aria-label": "nodes", "font-size": "11" }, world);
    for (const n of nodes) {
      const label = n.label || (n.iri ? shortName(n.iri, options.prefixes) : "(blank node)");
      const holder = n.iri ? svgElement("a", { href: DprkTimeline.localHref(n.iri, options.localBase) }, nodeGroup)
        : svgElement("g", {}, nodeGroup);
      holder.setAttribute("class", "network-node");
      svgElement("circle", { cx: n.x, cy: n.y, r: 6, fill: colour(n.type || ""), stroke: "#fff", "stroke-width": "1.5" },
        holder);
      svgElement("title", {}, holder).textContent = label + (n.type ? ` (${shortName(n.type, options.prefixes)})` : "");
      if (named) svgElement("text", { x: n.x + 8, y: n.y + 4, fill: "#1c2430" }, holder).textContent = label;
    }
    const zoom = d3.zoom().scaleExtent([0.1, 12]).on("zoom", (event) => world.setAttribute("transform", event.transform));
    d3.select(svg).call(zoom);
    // The keyboard does what the mouse does (WCAG 2.1.1): with the drawing or one of its nodes focused, + and −
    // zoom, 0 resets, the arrow keys move the drawing. Keys with Ctrl, Alt or Meta are left to the browser.
    const step = 40; // pixels of the drawing per arrow key, whatever the zoom
    svg.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      const k = d3.zoomTransform(svg).k;
      const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (event.key === "+" || event.key === "=") d3.select(svg).call(zoom.scaleBy, 1.5);
      else if (event.key === "-" || event.key === "_") d3.select(svg).call(zoom.scaleBy, 1 / 1.5);
      else if (event.key === "0") d3.select(svg).call(zoom.transform, d3.zoomIdentity);
      else if (moves[event.key]) d3.select(svg).call(zoom.translateBy, moves[event.key][0] / k, moves[event.key][1] / k);
      else return;
      event.preventDefault();
    });
    figure.append(svg);
    const legend = document.createElement("ul");
    legend.className = "network-legend";
    for (const type of types) {
      const entry = document.createElement("li");
      const swatch = svgElement("svg", { width: 12, height: 12, "aria-hidden": "true" });
      svgElement("circle", { cx: 6, cy: 6, r: 5, fill: colour(type) }, swatch);
      entry.append(swatch, ` ${type ? shortName(type, options.prefixes) : "no type given"}`);
      legend.append(entry);
    }
    figure.append(legend);
    const controls = DprkTimeline.downloads(svg, options.filename || "network");
    const zoomButton = (text, action) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      button.addEventListener("click", action);
      return button;
    };
    controls.prepend(
      zoomButton("Zoom in", () => d3.select(svg).call(zoom.scaleBy, 1.5)),
      zoomButton("Zoom out", () => d3.select(svg).call(zoom.scaleBy, 1 / 1.5)),
      zoomButton("Reset", () => d3.select(svg).call(zoom.transform, d3.zoomIdentity)),
    );
    figure.append(controls);
    container.append(figure);
    return true;
  }

  window.DprkNetwork = { fromTriples, fromSelect, fromQuads, parseNTriples, selectColumns, render };
})();
