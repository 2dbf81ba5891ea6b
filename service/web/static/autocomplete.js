// Autocomplete for IRI parameters of the canned-query forms: progressive enhancement.
// Each such input names its suggestion list (list="…") and the search URL limited to the parameter's class
// (data-search="/search?type=dj:Agent&limit=20&q="). Without JavaScript the form works as typed (prefixed names
// or IRIs); with it, typing a name fills the <datalist> with matching resources, offered by their prefixed name.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var base = input.getAttribute("data-search");
    if (!list || !base || !window.fetch) { return; }
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (!text || /^(https?:\/\/|[A-Za-z][\w-]*:\S)/.test(text) || text === asked) { return; }
      timer = setTimeout(function () {
        asked = text;
        fetch(base + encodeURIComponent(text), {headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            if (!body || asked !== text) { return; }
            list.textContent = "";
            body.results.forEach(function (result) {
              var option = document.createElement("option");
              option.value = result.id;
              option.label = result.label + (result.types.length ? " (" + result.types.map(function (t) {
                return t.label; }).join(", ") + ")" : "");
              option.textContent = option.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience: the form still works */ });
      }, 150);
    });
  }
  document.querySelectorAll("input[data-search][list]").forEach(attach);
}());
