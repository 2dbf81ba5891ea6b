// Result views on a canned-query page or an entity page: an answer (the page's JSON or N-Triples twin, or a
// query to /sparql) drawn as a timeline (static/timeline.js), a chart (static/chart.js) or a network
// (static/network.js) in each <details class="result-view">. Without JavaScript the tables are the answer; the open
// view is the URL's #fragment (#timeline, #chart, #network), so a shared link opens on it.
"use strict";

(function () {
  if (typeof DprkTimeline === "undefined" || typeof Plot === "undefined") return;
  // The network takes a graph: from the N-Triples twin of a CONSTRUCT page, or from a SELECT answer's IRI columns.
  const network = window.DprkNetwork && {
    render: (target, answer, options) => DprkNetwork.render(target, typeof answer === "string"
      ? DprkNetwork.fromTriples(DprkNetwork.parseNTriples(answer)) : DprkNetwork.fromSelect(answer), options),
  };
  const views = { timeline: window.DprkTimeline, chart: window.DprkChart, network };
  const answers = new Map(); // one fetch per twin for every view of the page

  function load(url, format) {
    if (!answers.has(url)) {
      const accept = format === "nt" ? "application/n-triples" : "application/sparql-results+json";
      const loading = fetch(url, { headers: { Accept: accept } }).then((response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        return format === "nt" ? response.text() : response.json();
      });
      loading.catch(() => answers.delete(url));
      answers.set(url, loading);
    }
    return answers.get(url);
  }

  // The fragment names the open view, and the chart's measure: #timeline, #network, #chart or #chart=events.
  function isShown(name) {
    return location.hash === `#${name}` || location.hash.startsWith(`#${name}=`);
  }

  function hashValue(name) {
    return location.hash.startsWith(`#${name}=`) ? decodeURIComponent(location.hash.slice(name.length + 2)) : null;
  }

  function setHash(hash) {
    const url = new URL(location.href);
    url.hash = hash;
    history.replaceState(history.state, "", hash ? url : url.pathname + url.search);
  }

  for (const view of document.querySelectorAll("details.result-view[data-answer]")) {
    const name = view.dataset.view;
    const api = views[name];
    if (!api) continue;
    view.hidden = false;
    let drawn = false;
    const draw = async () => {
      if (drawn) return;
      drawn = true;
      const target = view.querySelector(".view-body");
      target.textContent = "Loading…";
      try {
        const results = await load(view.dataset.answer, view.dataset.format);
        target.textContent = "";
        if (!(await api.render(target, results, { localBase: view.dataset.localBase, filename: view.dataset.filename,
          endpoint: view.dataset.endpoint, measure: hashValue(name),
          onMeasure: (measure) => setHash(`${name}=${encodeURIComponent(measure)}`),
          prefixes: view.dataset.prefixes ? JSON.parse(view.dataset.prefixes) : {} }))) {
          target.textContent = "This answer has nothing this view can draw.";
        }
      } catch (error) {
        drawn = false;
        target.textContent = `The answer could not be drawn: ${error.message}`;
      }
    };
    view.addEventListener("toggle", () => {
      if (view.open && !isShown(name)) setHash(name);
      else if (!view.open && isShown(name)) setHash("");
      if (view.open) draw();
    });
    if (isShown(name)) view.open = true;
    if (view.open) draw();
  }
})();
