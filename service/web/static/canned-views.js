// Result views on a canned-query page: the answer's JSON twin (the page's own download link) drawn as a timeline
// (static/timeline.js) in each <details class="result-view">. Without JavaScript the table is the answer; the
// view's state is the URL's #fragment (#timeline), so a shared link opens on it.
"use strict";

(function () {
  if (typeof DprkTimeline === "undefined" || typeof Plot === "undefined") return;
  for (const view of document.querySelectorAll("details.result-view[data-answer]")) {
    view.hidden = false;
    const name = view.dataset.view;
    let drawn = false;
    const draw = async () => {
      if (drawn) return;
      drawn = true;
      const target = view.querySelector(".view-body");
      target.textContent = "Loading…";
      try {
        const response = await fetch(view.dataset.answer, { headers: { Accept: "application/sparql-results+json" } });
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        const answer = await response.json();
        target.textContent = "";
        if (!DprkTimeline.render(target, answer, { localBase: view.dataset.localBase, filename: view.dataset.filename })) {
          target.textContent = "No row of this answer has a date.";
        }
      } catch (error) {
        drawn = false;
        target.textContent = `The answer could not be drawn: ${error.message}`;
      }
    };
    view.addEventListener("toggle", () => {
      const url = new URL(location.href);
      url.hash = view.open ? name : "";
      history.replaceState(history.state, "", url.hash ? url : url.pathname + url.search);
      if (view.open) draw();
    });
    if (location.hash === `#${name}`) view.open = true;
    if (view.open) draw();
  }
})();
