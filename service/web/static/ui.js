// The query page of dprk-japan-kg: a textarea with a highlighted <pre> behind it, examples,
// prefixes, a results table and download links. Plain JavaScript, no dependencies, works offline.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("config").textContent);
  const $ = (id) => document.getElementById(id);
  const textarea = $("query");
  const highlight = $("highlight");

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

  // The built-in examples are in the page already; the canned queries join them when the service has them.
  function setUpExamples() {
    const select = $("examples");
    select.addEventListener("change", () => {
      if (select.value) setQuery(select.value);
      select.selectedIndex = 0;
    });
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
  // The server renders the answer as a page (labels first, dates at their precision: one display module for
  // every page); the script asks for that page and moves its answer into this one.
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

  function answerOf(page) {
    const main = page.querySelector("main");
    const parts = main ? main.querySelectorAll(".table-scroll, p.verdict, section.subject, p.empty") : [];
    const count = main && main.querySelector("p.count, p.hint");
    return { parts: Array.from(parts), count: count ? count.textContent.trim() : "" };
  }

  async function run() {
    const query = textarea.value;
    const kind = queryKind(query);
    const status = $("status");
    $("results").replaceChildren();
    status.className = "";
    status.textContent = "running…";
    const started = performance.now();
    try {
      const response = await fetch(config.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html" },
        body: `query=${encodeURIComponent(query)}`,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const text = await response.text();
      const page = new DOMParser().parseFromString(text, "text/html");
      if (!response.ok) {
        status.className = "error";
        status.textContent = `${response.status} ${response.statusText}`;
        const problem = page.querySelector(".problem .message");
        showText(problem ? problem.textContent.trim() : text, "error-text");
        return;
      }
      const answer = answerOf(page);
      for (const part of answer.parts) $("results").appendChild(document.importNode(part, true));
      status.textContent = `${answer.count} ${seconds} s`.trim();
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
  $("query-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  $("editor").classList.add("highlighted");
  document.querySelectorAll(".js-only").forEach((element) => { element.hidden = false; });
  setUpExamples();
  setUpPrefixes();
  // A link to the page with ?query=… opens that query and runs it (shareable queries).
  const shared = new URLSearchParams(window.location.search).get("query");
  refresh();
  if (shared) run();
  window.dprkKg = { run, highlighted, queryKind };
})();
