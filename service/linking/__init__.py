"""External linking: links from our resources to Wikidata and DBpedia, and the tools around them.

* :mod:`.client` — a polite SPARQL client (User-Agent, time limits, retries with back-off, a
  disk cache) for public endpoints;
* :mod:`.profiles` — how each external dataset names, types and redirects its items;
* :mod:`.entities` — our resources as linking sees them (kind, labels, birth year, links);
* :mod:`.discover` — candidate matches by labels in all languages, type and dates, ranked;
* :mod:`.apply` — reviewed candidates become links, after SHACL validation;
* :mod:`.health` — drift of existing links (missing, redirected, wrong type, other name);
* :mod:`.linkfile` — reading and writing ``data/links.trig`` deterministically;
* :mod:`.cli` — ``dprk-kg link discover | apply | check``.
"""
