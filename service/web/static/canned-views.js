// Result views on a canned-query page: the answer's JSON twin (the page's own download link) drawn as a timeline
// (static/timeline.js) or a chart (static/chart.js) in each <details class="result-view">. Without JavaScript the
// table is the answer; the open view is the URL's #fragment (#timeline, #chart), so a shared link opens on it.
"use strict";

(function () {
  if (typeof DprkTimeline === "undefined" || typeof Plot === "undefined") return;
  const views = { timeline: window.DprkTimeline, chart: window.DprkChart };
  let answer = null; // one fetch for every view of the page

  async function load(url) {
    if (!answer) {
      answer = fetch(url, { headers: { Accept: "application/sparql-results+json" } }).then((response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        return response.json();
      });
      answer.catch(() => { answer = null; });
    }
    return answer;
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
        const results = await load(view.dataset.answer);
        target.textContent = "";
        if (!api.render(target, results, { localBase: view.dataset.localBase, filename: view.dataset.filename })) {
          target.textContent = "This answer has nothing this view can draw.";
        }
      } catch (error) {
        drawn = false;
        target.textContent = `The answer could not be drawn: ${error.message}`;
      }
    };
    view.addEventListener("toggle", () => {
      const url = new URL(location.href);
      if (view.open) url.hash = name;
      else if (url.hash === `#${name}`) url.hash = "";
      history.replaceState(history.state, "", url.hash ? url : url.pathname + url.search);
      if (view.open) draw();
    });
    if (location.hash === `#${name}`) view.open = true;
    if (view.open) draw();
  }
})();
