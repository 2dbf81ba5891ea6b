"""The formats the service reads and writes: one table of RDF syntaxes, one of SPARQL result formats.

Why one module: the Graph Store, ``/validate`` and ``/ingest``, the CLI, the store worker,
content negotiation, the dumps and the canned queries all name formats; each used to keep
its own table and the copies disagreed. Here each syntax is one row of facts (its media
type, short name, file extension, pyoxigraph format, aliases, whether it keeps named
graphs, who may send it), each backed by the W3C specification cited above it, and every
other table is a view of these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One media type the service answers with (or a client may ask for), as content negotiation sees it.

    ``media_type`` is what a client may ask for; ``content_type`` is what we answer with
    (an alias answers with its standard type); ``key`` is the store's name for it (a result
    writer's name, or the RDF syntax's media type); ``name`` is the short name of the
    non-standard ``download``/``format`` parameters; ``extension`` names downloaded files.
    """

    media_type: str
    key: str
    name: str
    extension: str
    alias_of: str | None = None

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` of the response (with a charset for text types)."""
        media_type = self.alias_of or self.media_type
        return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type

    @property
    def standard(self) -> bool:
        """False for compatibility aliases."""
        return self.alias_of is None


@dataclass(frozen=True)
class Syntax:
    """One RDF syntax: the facts every reader and writer of the service agrees on.

    ``aliases``: other media types that name exactly this syntax (read in a ``Content-Type``
    and answered to in an ``Accept``). ``answer_aliases``: generic media types a client may
    ask for and get this syntax (plain JSON → JSON-LD); never read as this syntax, since a
    body sent as ``application/json`` is not known to be JSON-LD. ``datasets``: the syntax
    keeps named graphs (dumps and exports of the whole dataset use these). ``graph_input``:
    a Graph Store body (one graph); ``document_input``: a ``/validate`` or ``/ingest`` body
    or a file given to the CLI (named graphs allowed). ``answers``: the store can write it.
    """

    name: str
    media_type: str
    extension: str
    rdf_format: ox.RdfFormat
    datasets: bool = False
    graph_input: bool = True
    document_input: bool = True
    answers: bool = True
    aliases: tuple[str, ...] = ()
    answer_aliases: tuple[str, ...] = ()
    #: More file extensions the CLI reads as this syntax (with the leading dot).
    file_extensions: tuple[str, ...] = ()


#: Every RDF syntax, in the order answers list them (the first is the default answer).
SYNTAXES: tuple[Syntax, ...] = (
    # https://www.w3.org/TR/turtle/ — readable and compact: the default answer
    Syntax("turtle", "text/turtle", "ttl", ox.RdfFormat.TURTLE,
           aliases=("application/x-turtle",)),  # not standard, but common
    # https://www.w3.org/TR/n-triples/ (plain text: a client asking for text/plain gets it)
    Syntax("ntriples", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, answer_aliases=("text/plain",)),
    # https://www.w3.org/TR/json-ld11/ (plain JSON means JSON-LD for a graph, as rdflib-endpoint)
    Syntax("jsonld", "application/ld+json", "jsonld", ox.RdfFormat.JSON_LD, answer_aliases=("application/json",),
           file_extensions=(".json",)),
    # https://www.w3.org/TR/rdf-syntax-grammar/ (plain XML means RDF/XML for a graph)
    Syntax("rdfxml", "application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML,
           answer_aliases=("application/xml", "text/xml"), file_extensions=(".owl", ".xml")),
    # https://www.w3.org/TR/n-quads/ and https://www.w3.org/TR/trig/: datasets, so never one Graph Store graph
    Syntax("nquads", "application/n-quads", "nq", ox.RdfFormat.N_QUADS, datasets=True, graph_input=False),
    Syntax("trig", "application/trig", "trig", ox.RdfFormat.TRIG, datasets=True, graph_input=False),
    # https://w3c.github.io/N3/spec/: read only, and only where a body is one graph (a formula would
    # become a blank-node graph, which a Graph Store write refuses)
    Syntax("n3", "text/n3", "n3", ox.RdfFormat.N3, document_input=False, answers=False),
)

#: The store's key of a syntax (its media type) → pyoxigraph format: what the worker loads, dumps and answers.
STORE_FORMATS: dict[str, ox.RdfFormat] = {s.media_type: s.rdf_format for s in SYNTAXES}


def _readable(wanted: str) -> dict[str, ox.RdfFormat]:
    return {media_type: s.rdf_format for s in SYNTAXES if getattr(s, wanted)
            for media_type in (s.media_type, *s.aliases)}


#: Request bodies of ``/validate`` and ``/ingest`` (documents: named graphs allowed): media type → parser format.
DOCUMENT_INPUT: dict[str, ox.RdfFormat] = _readable("document_input")
#: Request bodies the Graph Store accepts (one graph, so no dataset syntaxes): media type → parser format.
GRAPH_INPUT: dict[str, ox.RdfFormat] = _readable("graph_input")
#: File extensions the CLI reads (the syntaxes of :data:`DOCUMENT_INPUT`).
EXTENSIONS: dict[str, ox.RdfFormat] = {ext: s.rdf_format for s in SYNTAXES if s.document_input
                                       for ext in ("." + s.extension, *s.file_extensions)}


def _answer_formats() -> tuple[Format, ...]:
    """The RDF answer formats: the standard media types first (table order), then the aliases."""
    written = [s for s in SYNTAXES if s.answers]
    standard = [Format(s.media_type, s.media_type, s.name, s.extension) for s in written]
    aliases = [Format(alias, s.media_type, s.name, s.extension, alias_of=s.media_type)
               for s in written for alias in (*s.aliases, *s.answer_aliases)]
    return (*standard, *aliases)


#: CONSTRUCT and DESCRIBE answers, Graph Store GET, dumps: what a client may ask for. ``key`` is the syntax's
#: media type (:data:`STORE_FORMATS`). Dataset syntaxes answer a graph query with its triples in the default graph.
RDF_FORMATS: tuple[Format, ...] = _answer_formats()

#: SELECT and ASK answers. ``key`` names the store's result writer.
RESULT_FORMATS: tuple[Format, ...] = (
    # https://www.w3.org/TR/sparql11-results-json/
    #: The default: what SPARQL clients and federated queries expect.
    Format("application/sparql-results+json", "json", "json", "srj"),
    # https://www.w3.org/TR/rdf-sparql-XMLres/
    Format("application/sparql-results+xml", "xml", "xml", "srx"),
    # https://www.w3.org/TR/sparql11-results-csv-tsv/
    Format("text/csv", "csv", "csv", "csv"),
    Format("text/tab-separated-values", "tsv", "tsv", "tsv"),
    # for compatibility (clients that ask for plain JSON or XML)
    Format("application/json", "json", "json", "json", alias_of="application/sparql-results+json"),
    Format("application/xml", "xml", "xml", "xml", alias_of="application/sparql-results+xml"),
    Format("text/xml", "xml", "xml", "xml", alias_of="application/sparql-results+xml"),
)

#: The HTML page a browser gets where an answer also has a page (https://html.spec.whatwg.org/).
HTML_FORMATS: tuple[Format, ...] = (
    Format("text/html", "html", "html", "html"),
    Format("application/xhtml+xml", "html", "html", "html", alias_of="text/html"),
)


def syntax(name: str) -> Syntax:
    """The syntax of this short name (``turtle``); ``KeyError`` for an unknown one."""
    for item in SYNTAXES:
        if item.name == name:
            return item
    raise KeyError(name)


def rdf_formats(*names: str) -> tuple[Format, ...]:
    """The answer formats (aliases included) of these syntaxes, in :data:`RDF_FORMATS` order."""
    return tuple(f for f in RDF_FORMATS if f.name in names)
