"""The README's canned-query section, generated from the ``.rq`` headers.

Why generated: the README must give every canned query its URL, parameters and a
working ``curl`` line (Datasette style), and a hand-written list would drift from the
files. ``python -m service.canned.readme --readme`` rewrites the section between the
``<!-- BEGIN canned -->`` / ``<!-- END canned -->`` markers; ``--check`` exits 1 when the
section is stale, and ``tests/canned/test_canned_docs.py`` runs that check.
"""

from __future__ import annotations

import sys
from pathlib import Path

from service.canned.contract import CannedQuery, ParamSpec
from service.canned.header import ALLOWLIST_SOURCE, load_queries
from service.canned.params import query_string
from service.canned.run import formats_for
from service.config import BUNDLE_ROOT, DEFAULT_SERVICE_ALLOWLIST
from service.rdf.vocabulary import curie

BEGIN, END = "<!-- BEGIN canned -->", "<!-- END canned -->"
BASE_URL = "http://127.0.0.1:8000"
#: Benchmark figures written by ``bench/bench_canned.py --record`` (included verbatim when present).
BENCH_RESULTS = Path("bench") / "canned-results.md"

INTRO = """\
## Canned queries

Questions analysts ask of the graph, one URL each — no SPARQL needed. Each is one file
`queries/<name>.rq` whose `#+` YAML header declares its parameters (typed) and its output columns;
the file stem is the operation name. Adding a `.rq` file with a valid header is all it takes to
publish a query (restart the service); a malformed header stops the service at start with the file,
line and problem named. The header format is documented in [queries/README.md](queries/README.md).

* `GET /queries` — the list (JSON; an HTML page with a form per query in a browser). Each entry has the
  query text and a ready example URL.
* `GET|POST /queries/<name>` — run a query; parameters as query-string or form fields (or a JSON object
  body). Lists: repeat the parameter (`?issue=a&issue=b`) or, for IRIs, dates and numbers, separate values
  with spaces. Formats by `Accept` or suffix: `.json` (SPARQL results JSON), `.xml`, `.csv`, `.tsv` for
  tables; `.ttl`, `.jsonld`, `.nt` for graphs; `.html` for people.
* `GET /openapi.json` — an OpenAPI 3.1 document generated from the headers; `GET /api` — the same as a
  readable page.
* `dprk-kg query NAME --param key=value … --format csv|tsv|json|table` runs a query locally on the bundled
  files (no server needed) or, with `--endpoint URL`, against a running service; `dprk-kg query --list`.
  Locally, federated queries reach their endpoints as the service does — through the bounded client, each
  endpoint with its own time limit and row cap, from the allow-list in `DPRK_KG_SERVICE_ALLOWLIST`. When a
  row cap cut the answer, a note on stderr says so (stdout stays machine-readable).

IRI parameters take an absolute IRI, a prefixed name (`djr:chongryon`, `dj:Person`) or a bare id
(`chongryon`, read as `djr:chongryon`); an IRI parameter with a `class` must name an instance of it.

**How values are bound (injection-safe).** Each value is parsed by its declared type and turned into an
RDF term (an IRI, a typed or language-tagged literal); anything else is refused with `400` naming the
parameter and what was expected (an IRI with a space or `>`, a bad date, an IRI that is not an instance
of the required class, an unknown enum value, an unknown parameter name, a missing required parameter).
The terms are then bound through a standard `VALUES` block at the place the query marks with
`VALUES ?v { UNDEF }`: the block is written from the validated terms in N-Triples syntax (every quote,
backslash and newline escaped by pyoxigraph) and each term's text is parsed back and compared with the
term before use, so a value can only ever be one RDF term — the client's text is never spliced into the
query. We use `VALUES` rather than pyoxigraph's `substitutions` because substitution requires the variable
to be projected (parameters would become output columns) and makes `BOUND(?v)` false, so optional
parameters could not be written; `VALUES` has the standard semantics, takes one value or a list alike,
and the same text runs on any SPARQL 1.1 engine. An absent optional parameter leaves `VALUES ?v { UNDEF }`
in place: the variable is unbound and the query reads it as "no filter". Tests send a corpus of injection
attempts (quotes, braces, `#`, `} UNION {`, newlines, very long values) and check every answer is the safe
baseline or a `400`.

**Federated queries.** A header with `federated: true` may use `SERVICE`; every `SERVICE <iri>` must be
in the SERVICE allow-list (setting `SERVICE_ALLOWLIST`) or the service refuses to start, and `SERVICE ?v`
needs a parameter `v` of type `enum` with `values_from: SERVICE_ALLOWLIST` — the request only *selects*
an allow-listed endpoint, whose IRI comes from the server's configuration. Federated queries run with
the endpoint's own timeout and row cap, and are not cached (the remote data can change).

**Caching.** Answers are cached per (query, parameters, format) — up to `CANNED_CACHE_SIZE` entries —
and the whole cache is dropped on the first request after any write (it is keyed on the store's write
generation); responses carry `X-Cache: HIT` or `MISS`.
"""


def _type_text(param: ParamSpec) -> str:
    item = param.item
    text = item.type
    if item.type == "iri" and item.class_iri:
        text = f"IRI of a `{curie(item.class_iri)}`"
    elif item.type == "iri":
        text = "IRI"
    elif item.type == "enum" and item.values is not None:
        text = "one of " + ", ".join(f"`{v.key}`" for v in item.values)
    elif item.type == "enum" and item.values_from == ALLOWLIST_SOURCE:
        text = "an endpoint of the SERVICE allow-list"
    elif item.type == "enum":
        text = "one of the values in the data (listed in `/openapi.json`)"
    elif item.type == "gYear":
        text = "year (YYYY)"
    elif item.type == "date":
        text = "date (YYYY-MM-DD)"
    if param.is_list:
        text = f"list of {text}"
    return text


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def example_url(query: CannedQuery, suffix: str = "") -> str:
    """The documented example: the query's URL with each parameter's example, readable (``:`` unescaped)."""
    return f"/queries/{query.name}{'.' + suffix if suffix else ''}" + query_string(query.example_params())


def query_section(query: CannedQuery) -> list[str]:
    """The README lines of one query."""
    suffixes = list(formats_for(query))
    lines = [f"### `{query.name}` — {query.summary}", ""]
    if query.description:
        lines += [query.description, ""]
    lines.append(f"`GET|POST /queries/{query.name}` · formats: " + ", ".join(f"`.{s}`" for s in suffixes)
                 + ", `.html`" + (" · **federated**" if query.federated else ""))
    lines.append("")
    if query.params:
        lines += ["| parameter | type | required | default | description |", "|---|---|---|---|---|"]
        for param in query.params:
            default = param.default if param.default is not None else ""
            if isinstance(default, list):
                default = " ".join(default)
            lines.append(f"| `{param.name}` | {_cell(_type_text(param))} | {'yes' if param.required else 'no'} | "
                         f"{f'`{default}`' if default != '' else ''} | {_cell(param.description)} |")
        lines.append("")
    else:
        lines += ["No parameters.", ""]
    if query.columns:
        columns = ", ".join(f"`{c.name}` ({' or '.join(c.types)}{', optional' if c.optional else ''})"
                            for c in query.columns)
        lines += [f"Columns: {columns}.", ""]
    else:
        lines += [f"Answer: {'an RDF graph' if query.is_graph else 'true or false'}.", ""]
    suffix = "csv" if not query.is_graph else "ttl"
    lines += ["```sh", f"curl '{BASE_URL}{example_url(query, suffix)}'", "```", ""]
    return lines


def section(queries: list[CannedQuery], root: Path = BUNDLE_ROOT) -> str:
    """The whole generated section, markers included."""
    lines = [BEGIN, INTRO.rstrip("\n"), ""]
    bench = root / BENCH_RESULTS
    if bench.exists():
        lines += [bench.read_text(encoding="utf-8").rstrip("\n"), ""]
    lines += ["### The queries", "",
              "(Generated by `python -m service.canned.readme --readme` from the headers of `queries/*.rq`.)", ""]
    lines += [f"* [`{q.name}`](#{q.name}--{_anchor(q.summary)}) — {q.summary}" for q in queries]
    lines.append("")
    for query in queries:
        lines += query_section(query)
    while lines and lines[-1] == "":
        lines.pop()
    lines.append(END)
    return "\n".join(lines)


def _anchor(text: str) -> str:
    """GitHub's heading anchor for the text after the query name (lower-case, punctuation dropped)."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def render(readme_text: str, new_section: str) -> str:
    """``readme_text`` with its canned section replaced (or appended when the markers are absent)."""
    if BEGIN in readme_text and END in readme_text:
        start, end = readme_text.index(BEGIN), readme_text.index(END) + len(END)
        return readme_text[:start] + new_section + readme_text[end:]
    return readme_text.rstrip("\n") + "\n\n" + new_section + "\n"


def main(argv: list[str]) -> int:
    """``--readme`` rewrites the section; ``--readme --check`` exits 1 if it is stale; ``--root DIR``."""
    if "--readme" not in argv:
        print("usage: python -m service.canned.readme --readme [--check] [--root DIR]", file=sys.stderr)
        return 2
    root = Path(argv[argv.index("--root") + 1]) if "--root" in argv else BUNDLE_ROOT
    queries = list(load_queries(root / "queries", DEFAULT_SERVICE_ALLOWLIST).values())
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    updated = render(text, section(queries, root))
    if "--check" in argv:
        if updated != text:
            print("The README's canned-query section is stale: run python -m service.canned.readme --readme",
                  file=sys.stderr)
            return 1
        return 0
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    print(f"README canned section: {len(queries)} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
