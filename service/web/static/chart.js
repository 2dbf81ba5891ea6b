// The chart view of a SPARQL answer (SPARQL JSON): a bar chart of a numeric column by a label column (e.g. how
// often each issue was discussed), or a line chart when a numeric year column is the axis (counts by year). Drawn
// with Observable Plot; downloads and links through static/timeline.js, which pages load first.
"use strict";

(function () {
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const NUMERIC = new Set(["integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong"].map((t) => XSD + t));
  const MAX_BARS = 200; // drawn at most; the caption says how many were left out

  function numericColumns(vars, bindings) {
    return vars.filter((v) => {
      const bound = bindings.filter((row) => row[v]);
      return bound.length > 0 && bound.every((row) => row[v].type !== "uri" && NUMERIC.has(row[v].datatype));
    });
  }

  // What the chart reads: the measures (numeric columns), the axis (a year column, or labels) and the link.
  function shape(results) {
    const vars = (results && results.head && results.head.vars) || [];
    const bindings = (results && results.results && results.results.bindings) || [];
    const numbers = numericColumns(vars, bindings);
    const year = numbers.find((v) => /^(year|yr)$|_year$/i.test(v)) || null;
    const measures = numbers.filter((v) => v !== year);
    if (measures.length === 0 || bindings.length === 0) return null;
    const iri = vars.find((v) => bindings.some((row) => row[v] && row[v].type === "uri")) || null;
    const label = vars.find((v) => !numbers.includes(v) && bindings.some((row) => row[v] && row[v].type !== "uri"
      && (!row[v].datatype || row[v].datatype.endsWith("#langString") || row[v].datatype === XSD + "string")));
    if (!year && !label && !iri) return null;
    return { year, measures, iri, label: label || null, bindings };
  }

  function fits(results) {
    return shape(results) !== null;
  }

  // Draw the chart of `results` (measure `options.measure`, else the first) into `container`; false if none fits.
  function render(container, results, options) {
    options = options || {};
    const found = shape(results);
    if (!found) return false;
    const measure = found.measures.includes(options.measure) ? options.measure : found.measures[0];
    const rows = found.bindings.filter((row) => row[measure]).map((row, index) => {
      const resource = found.iri && row[found.iri] ? row[found.iri].value : null;
      const label = (found.label && row[found.label] && row[found.label].value)
        || (resource ? DprkTimeline.shortName(resource) : `row ${index + 1}`);
      return { key: `${index}`, label, value: Number(row[measure].value),
        year: found.year && row[found.year] ? Number(row[found.year].value) : null,
        href: resource ? DprkTimeline.localHref(resource, options.localBase) : null,
        tip: `${label}\n${measure}: ${row[measure].value}` };
    });
    const drawn = found.year ? rows.filter((row) => row.year !== null) : rows.slice(0, MAX_BARS);
    container.replaceChildren();
    const figure = document.createElement("figure");
    figure.className = "chart";
    figure.dataset.items = String(drawn.length);
    figure.dataset.kind = found.year ? "line" : "bar";
    const caption = document.createElement("figcaption");
    caption.textContent = (found.year ? `${measure} by ${found.year}` : `${measure} by ${found.label || found.iri}`)
      + (drawn.length < rows.length ? ` — the first ${drawn.length} of ${rows.length} rows are drawn` : "") + ".";
    figure.append(caption);
    if (found.measures.length > 1) {
      const choice = document.createElement("label");
      choice.textContent = "Measure ";
      const select = document.createElement("select");
      for (const name of found.measures) select.add(new Option(name, name, false, name === measure));
      select.addEventListener("change", () => {
        render(container, results, Object.assign({}, options, { measure: select.value }));
        if (options.onMeasure) options.onMeasure(select.value);
        container.querySelector("select").focus();
      });
      choice.append(select);
      figure.append(choice);
    }
    const width = Math.max(480, Math.min(container.clientWidth || 960, 1400));
    const labels = new Map(drawn.map((row) => [row.key, row.label]));
    const plot = found.year
      ? Plot.plot({
        className: "dprk-timeline-plot", width, height: 320, y: { grid: true, label: measure },
        x: { label: found.year, tickFormat: "d" },
        marks: [Plot.lineY(drawn, { x: "year", y: "value", stroke: "#1f5fa8", sort: "year" }),
          Plot.dot(drawn, { x: "year", y: "value", fill: "#1f5fa8", title: "tip", href: "href" }),
          Plot.ruleY([0])],
      })
      : Plot.plot({
        className: "dprk-timeline-plot", width, height: 40 + 24 * drawn.length,
        marginLeft: Math.min(260, 8 + 6.5 * Math.max(...drawn.map((row) => Math.min(row.label.length, 40)))),
        x: { grid: true, label: measure },
        y: { label: null, domain: [...drawn].sort((a, b) => b.value - a.value).map((row) => row.key),
          tickFormat: (key) => { const text = labels.get(key) || ""; return text.length > 40 ? text.slice(0, 39) + "…" : text; } },
        marks: [Plot.barX(drawn, { x: "value", y: "key", fill: "#1f5fa8", href: "href", title: "tip" }),
          Plot.text(drawn, { x: "value", y: "key", text: (row) => String(row.value), dx: 4, textAnchor: "start" }),
          Plot.ruleX([0])],
      });
    figure.append(plot, DprkTimeline.downloads(plot, options.filename || "chart"));
    container.append(figure);
    return true;
  }

  window.DprkChart = { render, fits };
})();
