// The timeline view of a SPARQL answer (SELECT results as SPARQL JSON) with date columns, drawn with Observable Plot
// (vendored with d3 in /assets/vendor/). Used on the query page (a Yasr view beside the table) and on canned-query
// pages. Each date at its own precision: a day spans the day, a gYearMonth the month, a gYear the year; a start and
// an end column make a range; rows without a date are listed apart; items link to their pages on this service.
"use strict";

(function () {
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const DATE_TYPES = new Set(["date", "dateTime", "gYearMonth", "gYear"].map((name) => XSD + name));
  const MAX_ITEMS = 1000; // drawn at most; the view says how many it left out
  const PLOT_CLASS = "dprk-timeline-plot";

  // [first instant, first instant after] of a date literal at its precision, in UTC; null if unreadable.
  function span(term) {
    if (!term || term.type === "uri" || !DATE_TYPES.has(term.datatype)) return null;
    const text = term.value.trim();
    let match = /^(-?\d{4,})(?:Z|[+-]\d\d:\d\d)?$/.exec(text);
    if (match && term.datatype === XSD + "gYear") {
      const year = Number(match[1]);
      return [utc(year, 0, 1), utc(year + 1, 0, 1), text];
    }
    match = /^(-?\d{4,})-(\d\d)(?:Z|[+-]\d\d:\d\d)?$/.exec(text);
    if (match && term.datatype === XSD + "gYearMonth") {
      const year = Number(match[1]);
      const month = Number(match[2]) - 1;
      return [utc(year, month, 1), utc(year, month + 1, 1), text];
    }
    match = /^(-?\d{4,})-(\d\d)-(\d\d)/.exec(text);
    if (match) {
      const start = utc(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
      return [start, new Date(start.getTime() + 86400000), text];
    }
    return null;
  }

  function utc(year, month, day) {
    const date = new Date(Date.UTC(2000, month, day));
    date.setUTCFullYear(year); // years before 100 are not shifted into the 1900s
    return date;
  }

  function isDate(term) {
    return term && term.type !== "uri" && DATE_TYPES.has(term.datatype);
  }

  // Which columns the view reads: the dates (start, end), the label and the linked resource.
  function columns(vars, bindings) {
    const dated = vars.filter((v) => bindings.some((row) => isDate(row[v])));
    if (dated.length === 0) return null;
    const start = dated.find((v) => /start|begin|first|from|date|when|year|issued/i.test(v)) || dated[0];
    const end = dated.find((v) => v !== start && /end|until|last|to$|finish/i.test(v)) || null;
    const iri = vars.find((v) => bindings.some((row) => row[v] && row[v].type === "uri")) || null;
    const textual = vars.filter((v) => !dated.includes(v) && bindings.some((row) => row[v] && row[v].type !== "uri"
      && !row[v].datatype));
    const label = vars.find((v) => /label|name|title/i.test(v) && textual.includes(v)) || textual[0] || null;
    return { start, end, iri, label };
  }

  function localHref(iri, localBase) {
    return localBase && iri.startsWith(localBase) ? "/" + iri.slice(localBase.length) : iri;
  }

  function shortName(iri) {
    return iri.replace(/^.*[#/]/, "");
  }

  // The items of the timeline and the rows left apart, from SPARQL JSON results.
  function items(results, options) {
    const vars = (results.head && results.head.vars) || [];
    const bindings = (results.results && results.results.bindings) || [];
    const cols = columns(vars, bindings);
    if (!cols) return null;
    const dated = [];
    const undated = [];
    bindings.forEach((row, index) => {
      const begin = span(row[cols.start]);
      const finish = cols.end ? span(row[cols.end]) : null;
      const resource = cols.iri && row[cols.iri] ? row[cols.iri].value : null;
      const label = (cols.label && row[cols.label] && row[cols.label].value)
        || (resource ? shortName(resource) : `row ${index + 1}`);
      const href = resource ? localHref(resource, options.localBase) : null;
      if (!begin && !finish) {
        undated.push({ label, href });
        return;
      }
      const first = begin || finish;
      const last = finish && finish[1] > first[1] ? finish : first;
      const when = begin && finish && finish[2] !== begin[2] ? `${begin[2]} – ${finish[2]}` : first[2];
      dated.push({ key: `${index}`, label, href, begin: first[0], end: last[1], when, tip: `${label}\n${when}` });
    });
    return { columns: cols, dated, undated };
  }

  function button(text, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  function save(blob, filename) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // The SVG as a file: Plot's own <style> (kept out of the page, whose CSP allows no inline style) put back.
  function svgText(svg, styleText) {
    const copy = svg.cloneNode(true);
    copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    if (styleText) {
      const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
      style.textContent = styleText;
      copy.insertBefore(style, copy.firstChild);
    }
    return new XMLSerializer().serializeToString(copy);
  }

  function savePng(svg, styleText, filename) {
    const { width, height } = svg.getBoundingClientRect();
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = Math.ceil(width * 2);
      canvas.height = Math.ceil(height * 2);
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.scale(2, 2);
      context.drawImage(image, 0, 0, width, height);
      canvas.toBlob((blob) => save(blob, filename), "image/png");
    };
    image.src = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svgText(svg, styleText))));
  }

  // The SVG and PNG download buttons of a Plot figure. Plot writes a <style> element into its SVG; the query
  // page's CSP admits none, so its rules live in views.css and it is taken out before the SVG joins the document
  // (and put back in the downloads).
  function downloads(plot, name) {
    const svg = plot.tagName.toLowerCase() === "svg" ? plot : plot.querySelector("svg");
    let styleText = "";
    for (const style of plot.querySelectorAll("style")) {
      styleText += style.textContent;
      style.remove();
    }
    const bar = document.createElement("p");
    bar.className = "view-downloads";
    bar.append(
      button("Download SVG", () => save(new Blob([svgText(svg, styleText)], { type: "image/svg+xml" }), `${name}.svg`)),
      button("Download PNG", () => savePng(svg, styleText, `${name}.png`)),
    );
    return bar;
  }

  // Draw the timeline of `results` into `container`; returns false (drawing nothing) when no column holds dates.
  function render(container, results, options) {
    options = options || {};
    const found = items(results, options);
    if (!found || found.dated.length === 0) return false;
    const drawn = found.dated.slice(0, MAX_ITEMS);
    container.replaceChildren();
    const figure = document.createElement("figure");
    figure.className = "timeline";
    figure.dataset.items = String(drawn.length);
    figure.dataset.dated = String(found.dated.length);
    figure.dataset.undated = String(found.undated.length);
    const caption = document.createElement("figcaption");
    caption.textContent = `${found.dated.length} dated rows by ${found.columns.start}`
      + (found.columns.end ? ` to ${found.columns.end}` : "")
      + " — each date spans its precision (a day, a month or a year)"
      + (drawn.length < found.dated.length ? `; the first ${drawn.length} are drawn` : "") + ".";
    figure.append(caption);
    const labels = new Map(drawn.map((item) => [item.key, item.label]));
    const width = Math.max(480, Math.min(container.clientWidth || 960, 1400));
    const plot = Plot.plot({
      className: PLOT_CLASS,
      width,
      height: 40 + 22 * drawn.length,
      marginLeft: Math.min(260, 8 + 6.5 * Math.max(...drawn.map((item) => Math.min(item.label.length, 40)))),
      x: { type: "utc", grid: true, label: null, inset: 12 },
      y: { domain: drawn.map((item) => item.key), label: null,
        tickFormat: (key) => { const text = labels.get(key) || ""; return text.length > 40 ? text.slice(0, 39) + "…" : text; } },
      marks: [
        Plot.barX(drawn, { x1: "begin", x2: "end", y: "key", fill: "#1f5fa8", fillOpacity: 0.45,
          insetTop: 5, insetBottom: 5, href: "href", title: "tip", ariaLabel: "timeline item" }),
        Plot.dot(drawn, { x: "begin", y: "key", r: 3, fill: "#1f5fa8", href: "href", title: "tip" }),
      ],
    });
    figure.append(plot, downloads(plot, options.filename || "timeline"));
    container.append(figure);
    if (found.undated.length) {
      const apart = document.createElement("section");
      apart.className = "timeline-undated";
      const heading = document.createElement("h3");
      heading.textContent = `Not dated (${found.undated.length})`;
      const list = document.createElement("ul");
      for (const item of found.undated) {
        const entry = document.createElement("li");
        if (item.href) {
          const link = document.createElement("a");
          link.href = item.href;
          link.textContent = item.label;
          entry.append(link);
        } else {
          entry.textContent = item.label;
        }
        list.append(entry);
      }
      apart.append(heading, list);
      container.append(apart);
    }
    return true;
  }

  // Whether an answer has a date column (the view is offered only then).
  function fits(results) {
    const vars = (results && results.head && results.head.vars) || [];
    const bindings = (results && results.results && results.results.bindings) || [];
    return bindings.some((row) => vars.some((v) => isDate(row[v])));
  }

  window.DprkTimeline = { render, fits, span, items, downloads, localHref, shortName };
})();
