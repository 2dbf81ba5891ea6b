// The query page of dprk-japan-kg: YASGUI's editor (Yasqe) and result view (Yasr), vendored in /assets/vendor/.
// Without this script (or without the vendored files) the page is a plain form that GETs /sparql.
// What this adds: our endpoint, prefixes and examples; completion of classes and properties from /query/terms.json
// (never a service on the internet); each run's query in the URL and in a local history; the line and column of a
// syntax error the endpoint reports, marked in the editor; Escape then Tab leaves the editor (WCAG 2.1.2).
"use strict";

(function () {
  if (typeof Yasqe === "undefined" || typeof Yasr === "undefined") return; // the plain form stays
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("query-form");
  const textarea = $("query");
  const status = $("status");
  const HISTORY_KEY = "dprk-kg.query-history";
  const HISTORY_SIZE = 30;

  // -- completion from this service -----------------------------------------------------------------------------
  let terms = { classes: [], properties: [] };
  const termsReady = fetch(config.terms, { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : terms))
    .then((loaded) => { terms = loaded; })
    .catch(() => {});

  // A token is completed from the full IRI its prefix gives (Yasqe's preprocessing), or from a term's local name.
  function termsCompleter(base, kind) {
    return Object.assign({}, base, {
      bulk: false,
      persistenceId: null,
      get: (yasqe, token) => termsReady.then(() => {
        const wanted = ((token && (token.autocompletionString || token.string)) || "").trim();
        return terms[kind].filter((iri) => iri.startsWith(wanted)
          || (wanted && !wanted.includes(":") && iri.replace(/^.*[#/]/, "").startsWith(wanted)));
      }),
    });
  }
  Yasqe.registerAutocompleter(termsCompleter(Yasqe.Autocompleters["class"], "classes"), false);
  Yasqe.registerAutocompleter(termsCompleter(Yasqe.Autocompleters["property"], "properties"), false);
  // Prefix declarations complete from our prefixes (the bundled list of the web's prefixes is not offered).
  Yasqe.registerAutocompleter(Object.assign({}, Yasqe.Autocompleters["prefixes"], {
    persistenceId: null,
    get: () => Object.entries(config.prefixes).map(([prefix, iri]) => `${prefix}: <${iri}>`).sort(),
  }), false);

  // -- the editor ---------------------------------------------------------------------------------------------
  let leaving = false; // Escape was pressed: the next Tab leaves the editor instead of indenting
  const editorEl = $("editor");
  editorEl.hidden = false;
  for (const element of document.querySelectorAll(".js-only")) element.hidden = false;
  textarea.hidden = true;
  const yasqe = new Yasqe(editorEl, {
    value: textarea.value,
    persistenceId: null, // the URL and the history hold queries; nothing is restored behind the user's back
    consumeShareLink: null,
    createShareableLink: () => shareUrl(yasqe.getValue()),
    showQueryButton: false, // the form's own Run button runs it (reachable by keyboard)
    prefixCcApi: null,
    autocompleters: ["prefixes", "variables", "class", "property"],
    editorHeight: "340px",
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    extraKeys: {
      "Ctrl-Enter": () => run(true),
      "Cmd-Enter": () => run(true),
      Esc: () => {}, // handled on keydown below: keep the focus, arm the way out
    },
  });
  yasqe.getInputField().setAttribute("aria-label", "SPARQL query (Escape then Tab leaves the editor)");
  yasqe.getInputField().setAttribute("aria-describedby", "keyboard-help");
  yasqe.on("keydown", (_cm, event) => {
    if (event.key === "Escape") {
      leaving = true;
      status.textContent = "Press Tab to leave the editor (Shift+Tab to go back).";
    } else if (event.key === "Tab" && leaving) {
      event.codemirrorIgnore = true; // the browser moves the focus as for any field
      leaving = false;
    } else if (event.key !== "Shift") {
      leaving = false;
    }
  });
  yasqe.on("change", () => { textarea.value = yasqe.getValue(); clearError(); });
  // The timeline (static/timeline.js) and the chart (static/chart.js) as views beside the table, each offered when
  // the answer has the shape it draws (a date column; a numeric column with labels or years).
  function resultView(global, label, iconText, filename) {
    return class {
      constructor(yasr) {
        this.yasr = yasr;
        this.priority = 5;
        this.label = label;
      }

      answer() {
        try {
          return this.yasr.results && !this.yasr.results.getError() ? this.yasr.results.getAsJson() : null;
        } catch (_error) {
          return null;
        }
      }

      canHandleResults() {
        return typeof window[global] !== "undefined" && typeof Plot !== "undefined" && window[global].fits(this.answer());
      }

      draw() {
        const element = document.createElement("div");
        element.className = "result-view-body";
        this.yasr.resultsEl.append(element);
        window[global].render(element, this.answer(), {
          localBase: config.localBase, filename,
          measure: new URLSearchParams(location.search).get("measure"),
          onMeasure: (measure) => setParam("measure", measure),
        });
      }

      getIcon() {
        const icon = document.createElement("span");
        icon.className = "view-icon";
        icon.setAttribute("aria-hidden", "true");
        icon.textContent = iconText;
        return icon;
      }
    };
  }

  function setParam(name, value) {
    const params = new URLSearchParams(location.search);
    if (!params.has("query")) return;
    if (value) params.set(name, value);
    else params.delete(name);
    window.history.replaceState(window.history.state, "", `${location.pathname}?${params}`);
  }
  Yasr.registerPlugin("timeline", resultView("DprkTimeline", "Timeline", "⟷", "query-timeline"));
  Yasr.registerPlugin("chart", resultView("DprkChart", "Chart", "▤", "query-chart"));

  // The network of a CONSTRUCT/DESCRIBE answer (Yasr's parsed Turtle) or of a SELECT answer with two IRI columns.
  class NetworkView {
    constructor(yasr) {
      this.yasr = yasr;
      this.priority = 5;
      this.label = "Network";
    }

    graph() {
      if (typeof DprkNetwork === "undefined" || typeof d3 === "undefined") return null;
      const results = this.yasr.results;
      try {
        if (!results || results.getError()) return null;
        // The whole answer, not the table's first VIEW_CAP rows: the network has its own cap, in nodes.
        if (whole && whole.graph) return DprkNetwork.fromTriples(DprkNetwork.parseNTriples(whole.text));
        if (whole) return DprkNetwork.fromSelect(JSON.parse(whole.text));
        if (results.getType() === "ttl") {
          const quads = results.getStatements();
          return quads && quads.length ? DprkNetwork.fromQuads(quads) : null;
        }
        return DprkNetwork.fromSelect(results.getAsJson());
      } catch (_error) {
        return null;
      }
    }

    canHandleResults() {
      const graph = this.graph();
      return graph !== null && graph.nodes.size > 0;
    }

    draw() {
      const element = document.createElement("div");
      element.className = "result-view-body";
      this.yasr.resultsEl.append(element);
      return DprkNetwork.render(element, this.graph(), { endpoint: config.endpoint, prefixes: config.prefixes,
        localBase: config.localBase, filename: "query-network" });
    }

    getIcon() {
      const icon = document.createElement("span");
      icon.className = "view-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "⋈";
      return icon;
    }
  }
  Yasr.registerPlugin("network", NetworkView);
  const yasr = new Yasr($("yasr"), {
    prefixes: config.prefixes,
    persistenceId: null,
    pluginOrder: ["table", "timeline", "chart", "network", "response"],
    defaultPlugin: "table",
  });
  const initialView = new URLSearchParams(location.search).get("view");
  if (initialView && yasr.config.plugins[initialView]) yasr.selectPlugin(initialView);
  // The chosen view is part of the URL, so a shared link opens on it.
  yasr.on("change", () => setParam("view", yasr.selectedPlugin !== "table" ? yasr.selectedPlugin : null));

  // Our IRIs resolve on this service (/id/…, /ontology#…, /graph/…): the table links them here, in this tab.
  function localLinks(root) {
    for (const anchor of root.querySelectorAll("a.iri")) {
      const iri = anchor.getAttribute("href") || "";
      if (iri.startsWith(config.localBase)) {
        anchor.setAttribute("href", "/" + iri.slice(config.localBase.length));
        anchor.removeAttribute("target");
      }
    }
  }
  new MutationObserver(() => localLinks($("yasr"))).observe($("yasr"), { childList: true, subtree: true });

  // -- errors at the reported place ------------------------------------------------------------------------------
  let errorMarks = [];
  let errorLine = null;
  function clearError() {
    for (const mark of errorMarks) mark.clear();
    errorMarks = [];
    if (errorLine !== null) {
      yasqe.removeLineClass(errorLine, "background", "server-error-line");
      yasqe.setGutterMarker(errorLine, "gutterErrorBar", null);
      errorLine = null;
    }
    const jump = $("goto-error");
    if (jump) jump.remove();
  }

  function markError(problem) {
    clearError();
    const line = Number(problem.line) - 1;
    if (!Number.isInteger(line) || line < 0 || line > yasqe.lastLine()) return;
    const ch = Math.max(0, (Number(problem.column) || 1) - 1);
    const text = yasqe.getLine(line);
    errorLine = line;
    yasqe.addLineClass(line, "background", "server-error-line");
    const gutter = document.createElement("span");
    gutter.className = "server-error-gutter";
    gutter.textContent = "▶";
    gutter.title = problem.message;
    yasqe.setGutterMarker(line, "gutterErrorBar", gutter);
    if (ch < text.length) {
      errorMarks.push(yasqe.markText({ line, ch }, { line, ch: ch + 1 },
        { className: "server-error", attributes: { title: problem.message } }));
    } else {
      const caret = document.createElement("span");
      caret.className = "server-error server-error-end";
      caret.title = problem.message;
      caret.textContent = " ";
      errorMarks.push(yasqe.setBookmark({ line, ch: text.length }, { widget: caret }));
    }
    const jump = document.createElement("button");
    jump.type = "button";
    jump.id = "goto-error";
    jump.textContent = `Go to line ${problem.line}, column ${problem.column || 1}`;
    jump.addEventListener("click", () => { yasqe.focus(); yasqe.setCursor({ line, ch }); });
    status.after(jump);
  }

  // -- running, the URL and the history -------------------------------------------------------------------------
  function shareUrl(query) {
    const view = yasr && yasr.selectedPlugin && yasr.selectedPlugin !== "table" ? `&view=${yasr.selectedPlugin}` : "";
    return `${location.origin}${location.pathname}?query=${encodeURIComponent(query)}${view}`;
  }

  function history() {
    try {
      const stored = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(stored) ? stored.filter((entry) => typeof entry.query === "string") : [];
    } catch (_error) {
      return [];
    }
  }

  function title(query) {
    const line = query.split("\n").map((l) => l.trim())
      .find((l) => l && !/^(prefix|base)\b/i.test(l) && !l.startsWith("#")) || query.trim();
    return line.length > 70 ? line.slice(0, 69) + "…" : line;
  }

  function showHistory() {
    const select = $("history");
    select.length = 1;
    for (const entry of history()) {
      const option = new Option(`${title(entry.query)} (${new Date(entry.at).toLocaleString()})`, entry.query);
      select.add(option);
    }
  }

  function remember(query) {
    const entries = [{ query, at: Date.now() }, ...history().filter((entry) => entry.query !== query)];
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(entries.slice(0, HISTORY_SIZE)));
    } catch (_error) { /* private mode or full: no history, the page still works */ }
    showHistory();
  }

  let whole = null; // the last answer in full ({graph, text}) for the network view
  const VIEW_CAP = 2000; // rows (or triples) handed to the table and the views; the downloads hold them all

  function isGraph(kind) {
    return kind === "CONSTRUCT" || kind === "DESCRIBE";
  }

  function acceptFor(kind) {
    // N-Triples for graphs (one triple a line: a large answer is cut for the views by lines); the problem JSON
    // (application/json) is preferred to plain text when the query fails.
    return (isGraph(kind) ? "application/n-triples" : "application/sparql-results+json") + ", application/json;q=0.5";
  }

  // The answer as the table and the views get it: at most VIEW_CAP rows, and how many it had.
  function capped(kind, text) {
    if (isGraph(kind)) {
      const lines = text.split("\n").filter((line) => line.trim());
      return { count: lines.length, content: lines.length > VIEW_CAP ? lines.slice(0, VIEW_CAP).join("\n") + "\n" : text };
    }
    let answer;
    try { answer = JSON.parse(text); } catch (_error) { return { count: null, content: text }; }
    const bindings = answer.results && answer.results.bindings;
    if (!bindings) return { count: null, content: text };
    if (bindings.length <= VIEW_CAP) return { count: bindings.length, content: text };
    return { count: bindings.length,
      content: JSON.stringify({ ...answer, results: { ...answer.results, bindings: bindings.slice(0, VIEW_CAP) } }) };
  }

  // Links to the whole answer in each format (the endpoint's download parameter).
  function showDownloads(query, kind) {
    const nav = $("downloads");
    nav.querySelectorAll("a").forEach((link) => link.remove());
    for (const format of isGraph(kind) ? config.formats.graph : config.formats.results) {
      const link = document.createElement("a");
      link.href = `${config.endpoint}?query=${encodeURIComponent(query)}&download=${format.name}`;
      link.download = `results.${format.extension}`;
      link.textContent = format.name.toUpperCase();
      link.title = format.label;
      nav.append(" ", link);
    }
    nav.hidden = false;
  }

  let running = null;
  async function run(pushUrl) {
    const query = yasqe.getValue();
    textarea.value = query;
    clearError();
    if (pushUrl && new URLSearchParams(location.search).get("query") !== query) { // a new query: a new history entry
      window.history.pushState({ query }, "", shareUrl(query));
    }
    remember(query);
    if (running) running.abort();
    running = new AbortController();
    status.textContent = "Running…";
    const started = performance.now();
    let response;
    let text;
    try {
      response = await fetch(config.endpoint, {
        method: "POST",
        headers: { Accept: acceptFor(yasqe.getQueryType()), "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query }),
        signal: running.signal,
      });
      text = await response.text();
    } catch (error) {
      if (error.name === "AbortError") return;
      status.textContent = `The service could not be reached: ${error.message}`;
      yasr.setResponse(error);
      return;
    }
    const duration = Math.round(performance.now() - started);
    if (!response.ok) {
      let problem = { message: text.trim() };
      try { problem = JSON.parse(text); } catch (_error) { /* plain text */ }
      status.textContent = `Error ${response.status}: ${problem.message}`;
      markError(problem);
      yasr.setResponse(new Error(problem.message), duration);
      return;
    }
    const kind = yasqe.getQueryType();
    const { count, content } = capped(kind, text);
    whole = count !== null && count > VIEW_CAP ? { graph: isGraph(kind), text } : null;
    status.textContent = count === null ? `Answered in ${duration} ms`
      : `${count.toLocaleString()} rows in ${duration} ms`
        + (count > VIEW_CAP ? ` — the table and the views hold the first ${VIEW_CAP.toLocaleString()}` : "");
    showDownloads(query, kind);
    // After the status is shown: a large table takes its time to build.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    yasr.setResponse({ ok: true, status: response.status, statusText: response.statusText,
      headers: response.headers, type: response.type, content }, duration);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(true);
  });
  $("examples").addEventListener("change", (event) => {
    if (event.target.value) {
      yasqe.setValue(event.target.value);
      yasqe.focus();
    }
  });
  $("history").addEventListener("change", (event) => {
    if (event.target.value) yasqe.setValue(event.target.value);
  });
  $("clear-history").addEventListener("click", () => {
    try { localStorage.removeItem(HISTORY_KEY); } catch (_error) { /* nothing stored */ }
    showHistory();
  });
  window.addEventListener("popstate", () => {
    const query = new URLSearchParams(location.search).get("query");
    if (query !== null) {
      yasqe.setValue(query);
      run(false);
    }
  });
  showHistory();
  // A shared URL reproduces its answer: the query in it is run as the page opens.
  if (new URLSearchParams(location.search).has("query")) run(false);
})();
