// The query page of dprk-japan-kg: a textarea with a highlighted <pre> behind it, examples,
// prefixes, a results table and download links. Plain JavaScript, no dependencies, works offline.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const textarea = $("query");
  const highlight = $("highlight");
  const MAX_ROWS_SHOWN = 1000;

  // -- highlighting ---------------------------------------------------------------------------
  // One regular expression with a group per token kind, in the order the SPARQL grammar needs:
  // comments, strings and IRIs first, so that keywords inside them are not highlighted.
  const TOKEN = new RegExp([
    "(#[^\\n]*)",                                                        // 1 comment
    "(\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*')", // 2 string
    "(<[^<>\"{}|^`\\\\\\s]*>)",                                          // 3 IRI
    "([?$][\\w\\u00b7\\u00c0-\\uffff]+)",                                  // 4 variable
    "((?:[A-Za-z\\u00c0-\\uffff][\\w.\\-\\u00c0-\\uffff]*)?:[\\w.\\-:%\\u00c0-\\uffff]*)", // 5 prefixed name
    "(@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",                                    // 6 language tag
    "(\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b)",                         // 7 number
    "(\\b[A-Za-z_]\\w*\\b)",                                             // 8 word
  ].join("|"), "g");
  const KEYWORDS = new Set(("BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT DESCRIBE ASK FROM NAMED WHERE ORDER BY " +
    "ASC DESC LIMIT OFFSET VALUES UNDEF GROUP HAVING OPTIONAL GRAPH UNION MINUS FILTER BIND SERVICE SILENT EXISTS NOT " +
    "IN INSERT DELETE DATA WITH USING DEFAULT ALL CLEAR DROP CREATE ADD MOVE COPY TO LOAD INTO A TRUE FALSE").split(" "));
  const CLASSES = ["comment", "string", "iri", "var", "pname", "lang", "number"];

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function highlighted(text) {
    let html = "";
    let last = 0;
    for (const match of text.matchAll(TOKEN)) {
      html += escapeHtml(text.slice(last, match.index));
      let kind = CLASSES[match.slice(1, 8).findIndex((group) => group !== undefined)];
      if (match[8] !== undefined) {
        kind = KEYWORDS.has(match[8].toUpperCase()) ? "keyword" : "function";
      }
      html += `<span class="tok-${kind}">${escapeHtml(match[0])}</span>`;
      last = match.index + match[0].length;
    }
    // A trailing newline needs a character after it, or the <pre> is one line shorter than the textarea.
    return html + escapeHtml(text.slice(last)) + "\n";
  }

  function refresh() {
    highlight.innerHTML = highlighted(textarea.value);
    syncScroll();
  }

  function syncScroll() {
    highlight.scrollTop = textarea.scrollTop;
    highlight.scrollLeft = textarea.scrollLeft;
  }

  // The query form decides which formats apply: read the first keyword after the prologue.
  function queryKind(text) {
    const stripped = text.replace(TOKEN, (m, comment, string, iri) => (comment ? " " : string || iri ? " x " : m));
    const words = stripped.replace(/\b(BASE|PREFIX)\s+(\S*:)?\s*x/gi, " ").match(/[A-Za-z]+/g) || [];
    const first = (words[0] || "").toUpperCase();
    return ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"].includes(first) ? first : "SELECT";
  }

  // -- editing helpers ------------------------------------------------------------------------
  function setQuery(text) {
    textarea.value = text;
    refresh();
    textarea.focus();
  }

  function insertAtCursor(text) {
    const start = textarea.selectionStart;
    textarea.setRangeText(text, start, textarea.selectionEnd, "end");
    refresh();
    textarea.focus();
  }

  function prefixLine(prefix) {
    return `PREFIX ${prefix}: <${config.prefixes[prefix]}>\n`;
  }

  function addExample(group, title, query) {
    const option = document.createElement("option");
    option.textContent = title;
    option.value = query;
    group.appendChild(option);
  }

  function setUpExamples() {
    const select = $("examples");
    const builtIn = document.createElement("optgroup");
    builtIn.label = "Examples";
    for (const example of config.examples) addExample(builtIn, example.title, example.query);
    select.appendChild(builtIn);
    select.addEventListener("change", () => {
      if (select.value) setQuery(select.value);
      select.selectedIndex = 0;
    });
    // Canned queries, when the service has them (GET /queries answers JSON).
    fetch(config.queries, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        const items = Array.isArray(data) ? data : data && (data.queries || data.items) || [];
        const canned = document.createElement("optgroup");
        canned.label = "Canned queries";
        for (const item of items) {
          // The example_query has the example values bound, so it runs as a meaningful example.
          const text = item.example_query || item.sparql || item.query || item.text;
          const title = [item.name, item.summary || item.title].filter(Boolean).join(" — ") || "query";
          if (typeof text === "string") addExample(canned, title, text);
        }
        if (canned.children.length) select.appendChild(canned);
      })
      .catch(() => {});
  }

  function setUpPrefixes() {
    const select = $("prefixes");
    for (const prefix of Object.keys(config.prefixes)) {
      const option = document.createElement("option");
      option.value = prefix;
      option.textContent = `${prefix}: <${config.prefixes[prefix]}>`;
      select.appendChild(option);
    }
    select.addEventListener("change", () => {
      if (select.value) insertAtCursor(prefixLine(select.value));
      select.selectedIndex = 0;
    });
    $("all-prefixes").addEventListener("click", () => {
      const missing = Object.keys(config.prefixes).filter(
        (p) => !new RegExp(`PREFIX\\s+${p}:`, "i").test(textarea.value));
      setQuery(missing.map(prefixLine).join("") + textarea.value);
    });
  }

  // -- running and showing results ------------------------------------------------------------
  function compact(iri) {
    for (const [prefix, namespace] of Object.entries(config.prefixes)) {
      if (iri.startsWith(namespace) && /^[\w\-.]*$/.test(iri.slice(namespace.length))) {
        return `${prefix}:${iri.slice(namespace.length)}`;
      }
    }
    return `<${iri}>`;
  }

  function termCell(term) {
    const cell = document.createElement("td");
    if (!term) return cell;
    if (term.type === "uri") {
      const link = document.createElement("a");
      link.href = term.value;
      link.textContent = compact(term.value);
      link.title = term.value;
      cell.appendChild(link);
    } else if (term.type === "bnode") {
      cell.textContent = `_:${term.value}`;
      cell.className = "bnode";
    } else {
      cell.textContent = term.value;
      const suffix = term["xml:lang"] ? `@${term["xml:lang"]}` : term.datatype ? `^^${compact(term.datatype)}` : "";
      if (suffix) {
        const small = document.createElement("span");
        small.className = "datatype";
        small.textContent = suffix;
        cell.appendChild(small);
      }
    }
    return cell;
  }

  function showTable(data) {
    const results = $("results");
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const variable of data.head.vars) {
      const th = document.createElement("th");
      th.textContent = `?${variable}`;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const binding of data.results.bindings.slice(0, MAX_ROWS_SHOWN)) {
      const row = body.insertRow();
      for (const variable of data.head.vars) row.appendChild(termCell(binding[variable]));
    }
    results.appendChild(table);
    const count = data.results.bindings.length;
    return `${count} row${count === 1 ? "" : "s"}` + (count > MAX_ROWS_SHOWN ? ` (showing ${MAX_ROWS_SHOWN})` : "");
  }

  function showText(text, className) {
    const pre = document.createElement("pre");
    pre.className = className;
    pre.textContent = text;
    $("results").appendChild(pre);
  }

  function showDownloads(query, kind) {
    const nav = $("downloads");
    nav.querySelectorAll("a").forEach((a) => a.remove());
    const formats = kind === "CONSTRUCT" || kind === "DESCRIBE" ? config.formats.graph : config.formats.results;
    for (const format of formats) {
      const link = document.createElement("a");
      link.href = `${config.endpoint}?query=${encodeURIComponent(query)}&download=${format.name}`;
      link.download = `results.${format.extension}`;
      link.textContent = format.name.toUpperCase();
      link.title = format.label;
      nav.appendChild(link);
    }
    nav.hidden = false;
  }

  async function run() {
    const query = textarea.value;
    const kind = queryKind(query);
    const graph = kind === "CONSTRUCT" || kind === "DESCRIBE";
    const status = $("status");
    $("results").replaceChildren();
    status.className = "";
    status.textContent = "running…";
    const started = performance.now();
    try {
      const response = await fetch(config.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: graph ? "text/turtle" : "application/sparql-results+json",
        },
        body: `query=${encodeURIComponent(query)}`,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (!response.ok) {
        status.className = "error";
        status.textContent = `${response.status} ${response.statusText}`;
        showText(await response.text(), "error-text");
        return;
      }
      const truncated = response.headers.get("X-Result-Truncated") === "true" ? " — cut at the row cap" : "";
      if (graph) {
        const text = await response.text();
        showText(text, "turtle");
        status.textContent = `${seconds} s${truncated}`;
      } else {
        const data = await response.json();
        if (typeof data.boolean === "boolean") {
          showText(String(data.boolean), "boolean");
          status.textContent = `${seconds} s`;
        } else {
          status.textContent = `${showTable(data)} in ${seconds} s${truncated}`;
        }
      }
      showDownloads(query, kind);
    } catch (error) {
      status.className = "error";
      status.textContent = `The request failed: ${error.message}`;
    }
  }

  // -- wiring ---------------------------------------------------------------------------------
  textarea.addEventListener("input", refresh);
  textarea.addEventListener("scroll", syncScroll);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      insertAtCursor("  ");
    }
  });
  $("run").addEventListener("click", run);
  $("endpoint-url").textContent = new URL(config.endpoint, window.location.href).href;
  $("description-link").href = config.endpoint;
  $("description-link").addEventListener("click", async (event) => {
    event.preventDefault();
    const response = await fetch(config.endpoint, { headers: { Accept: "text/turtle" } });
    $("results").replaceChildren();
    showText(await response.text(), "turtle");
  });
  setUpExamples();
  setUpPrefixes();
  // A link to the page with ?query=… opens that query and runs it (shareable queries).
  const shared = new URLSearchParams(window.location.search).get("query");
  setQuery(shared || config.examples[0].query);
  if (shared) run();
  window.dprkKg = { run, highlighted, queryKind };
})();
