"""The service in front of a store it does not own: any SPARQL 1.1 Protocol + Graph Store Protocol endpoint.

Why this shape: the layers above ``store/`` call the operations of
:class:`service.store.backend.StoreBackend`; this backend answers them over HTTP, so the
protocol's checks, canned queries, guarded writes, VoID, pages and dumps work in front of an
Oxigraph server (or another store) exactly as in front of the embedded one.

* Reads go to the store's query endpoint (``STORE_URL``) as SPARQL Protocol POSTs asking for
  SPARQL JSON results or N-Triples; the answers are parsed with pyoxigraph's parsers and
  serialized again by the same code as the embedded store's (:func:`service.sparql.answers.serialize_answer`),
  so formats, the result-row cap and its truncation mark are the same.
* Writes are validated *here*, before anything is sent: the store's dataset is read into an
  in-memory pyoxigraph store (a snapshot), the worker's own operation (guarded update, guarded
  apply, validation, dry run) runs on it unchanged (:data:`service.store.worker.OPERATIONS`), and
  when it commits, the difference between the snapshot and the result — the change and its
  derived consequences (union default graph, RDFS graph) — is sent to the store as ONE SPARQL
  Update (``DELETE DATA`` / ``INSERT DATA``, plus ``CREATE``/``DROP`` of named graphs). What was
  validated is what is written. The cost: every write reads the whole dataset, which suits
  graphs up to a few hundred thousand triples, not more.
* Blank nodes cannot be named in ``DELETE DATA``: a graph whose stored blank nodes the change
  touches is cleared and written again whole in the same update (:func:`change_update`).
* Several service instances may share one store (a stateless web tier). The store holds a version
  (a token in :data:`~service.rdf.vocabulary.STORE_STATE_GRAPH`, hidden like a derived graph) that
  every guarded write replaces: a write is validated against the version read before its snapshot
  and sent as an update conditional on it, under a short write lock kept in the same graph (the
  check and the update only; :meth:`RemoteStore._lock` says why). Where another instance wrote in
  between, nothing is changed and the operation runs again on a fresh snapshot, at most
  :data:`WRITE_ATTEMPTS` times, then fails with 409. Caches are keyed by
  :attr:`RemoteStore.generation`, which follows the store's version (read again every
  STORE_VERSION_TTL seconds), so every instance's caches follow every instance's writes. Writes
  made to the store by other clients do not replace the version: every guarded write records a
  :class:`Fingerprint` of the dataset it leaves, and the next write (or ``dprk-kg store-check``) that
  finds the store otherwise says so and replaces the version; until then caches may answer from before
  them (README).
* Bounded: every request has a timeout (QUERY_TIMEOUT, UPDATE_TIMEOUT) and every answer a size
  limit (STORE_RESPONSE_LIMIT), past which the request fails instead of filling memory.
* Credentials come from the environment only (:func:`service.config.store_credentials`), sent as
  HTTP Basic authentication, never from the command line (where ``ps`` would show them).

Where a store deviates from the standard, the adaptation belongs in :class:`Dialect`, one place.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import itertools
import json
import logging
import random
import re
import select
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from service.config import data_root, store_credentials
from service.rdf import derived
from service.rdf.bundle import load_into
from service.rdf.formats import STORE_FORMATS
from service.rdf.terms import decode, encode
from service.rdf.vocabulary import PREFIXES, STORE_STATE_GRAPH, XSD_DECIMAL
from service.sparql.answers import capped_answer, serialize_answer
from service.sparql.lexer import Prologue, lex, read_prologues
from service.store.client import QueryResult, StoreClient, StoreError, StoreTimeout
from service.store.worker import OPERATIONS, Worker

log = logging.getLogger(__name__)

#: Media types asked of the store: SPARQL JSON results for SELECT and ASK, N-Triples for graphs.
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
#: Statuses that say the store cannot answer now (a retry later may succeed): mapped to 503, not 500.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})

# -- the store's version and the instances' write lock, in the store (STORE_STATE_GRAPH) ----------------------------
#: ``<STORE_NODE> <VERSION> "token"``: a fresh token per guarded write; what caches are keyed by.
STATE = ox.NamedNode(STORE_STATE_GRAPH)
STORE_NODE = ox.NamedNode("urn:x-dprk-kg:store")
VERSION = ox.NamedNode(STORE_STATE_GRAPH + "#version")
#: ``<urn:x-dprk-kg:writer:…> <SINCE> ms``: a service instance's claim on the write lock, since when (epoch ms).
SINCE = ox.NamedNode(STORE_STATE_GRAPH + "#since")
WRITER_NS = "urn:x-dprk-kg:writer:"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
DECIMAL = ox.NamedNode(XSD_DECIMAL)
#: Times a guarded write is run again (fresh snapshot, validated again) when the store changed under it; then 409.
WRITE_ATTEMPTS = 5
#: ``<STORE_NODE> <FINGERPRINT> "count hash"``: the dataset as the last write through the service left it
#: (:class:`Fingerprint`); what detects writes made to the store behind the service's back.
FINGERPRINT = ox.NamedNode(STORE_STATE_GRAPH + "#fingerprint")


_STATE_IRIS = (STORE_STATE_GRAPH.encode(), STORE_NODE.value.encode(), WRITER_NS.encode())


def _state_term(term: dict[str, Any]) -> bool:
    value = term.get("value", "")
    return term.get("type") == "uri" and (value in (STORE_STATE_GRAPH, STORE_NODE.value) or value.startswith(WRITER_NS))


def _without_state(media: str, body: bytes) -> bytes:
    """A query's answer without the rows or triples of the service's own graph (:data:`STATE`).

    Why here: the Oxigraph server answers ``GRAPH ?g`` over every graph, and empties the default graph when a
    query is given only named graphs, so the graph cannot be left out of the dataset; its version and lock claims
    are then left out of the answers instead: every row binding one of its IRIs, every triple about them. An
    aggregate over ``GRAPH ?g`` still counts them (README). Answers naming none of them (a byte search) pass as
    they came.
    """
    if not any(iri in body for iri in _STATE_IRIS):
        return body
    if media in (RESULTS_JSON, "application/json"):
        data = json.loads(body)
        results = data.get("results")
        if isinstance(results, dict) and isinstance(results.get("bindings"), list):
            results["bindings"] = [row for row in results["bindings"]
                                   if not any(_state_term(t) for t in row.values() if isinstance(t, dict))]
            return json.dumps(data).encode()
        return body
    if media in (N_TRIPLES, "text/plain"):
        return b"".join(line for line in body.splitlines(keepends=True) if not any(
            line.startswith(b"<" + iri) for iri in _STATE_IRIS))
    return body


class _Conflict(Exception):
    """The store's version is not the one the write was validated against: the write changed nothing."""


@dataclass(frozen=True)
class Dialect:
    """How this store is spoken to, where stores differ: the one place for their deviations.

    ``empty_graphs``: the store keeps empty named graphs and ``GRAPH ?g {}`` lists them (Oxigraph
    does); otherwise named graphs are those that hold a triple.

    Virtuoso 7 (:meth:`of`) deviates from SPARQL 1.1 in these ways, each met here:

    * Its default graph is the union of ALL its graphs, its own system graphs included, and an
      update cannot write to it without ``GRAPH``: the service's default graph is a named graph
      of its own (:attr:`default_graph`), quads go to and come from it (:meth:`to_store`,
      :meth:`from_store`), and every query without a dataset of its own is given one
      (:meth:`dataset`): that graph as default, the service's named graphs as named graphs.
    * Its system graphs (:data:`VIRTUOSO_SYSTEM_GRAPHS`) are left out of snapshots, dumps and the
      named graphs (:attr:`system_graphs`, :meth:`ours`).
    * ``FROM`` in a query and ``default-graph-uri`` are merged instead of the protocol's winning:
      a query naming its dataset is sent without one; given only ``default-graph-uri``, ``GRAPH ?g``
      ranges over every graph: the named graphs are then always given (an empty list as a graph
      nobody has).
    * ASK is answered as a one-column table (:meth:`results`); blank nodes in SPARQL JSON results are
      ``nodeID://b…``, not labels (:meth:`results_json`).
    * ``IRI()``/``URI()`` of a relative IRI give it back unresolved (its ``BASE`` is not applied there), and an
      answer then holds a relative IRI, which SPARQL results cannot carry: it is resolved against the query's
      base, as the functions should have done (:meth:`results_json`).
    * Empty named graphs do not exist (``empty_graphs``).
    * One ``BASE`` only, before any ``PREFIX`` (:meth:`with_base`).
    * Asked for SPARQL JSON results or N-Triples, it answers a CONSTRUCT with a table of ``?s ?p ?o`` and a
      SELECT with a result set written as RDF: each query form is asked for its own format (:meth:`accept`).
    * A stored blank node can be named in an update as ``<nodeID://b…>`` (the label its results give):
      deletions and additions of its quads are then sent as such (:meth:`stored_node`), not by rewriting
      every graph that holds it (which, the union default graph holding every node, would be the whole
      dataset, past Virtuoso's size limit).
    * Fresh blank nodes are refused in ``INSERT DATA`` ("not allowed in a constant clause"), and an
      ``INSERT`` template fails (SR002, after writing!) where one graph's ``GRAPH`` block recurs with a
      blank node shared between them (templates have one block per graph: :func:`_quads_text`), or a
      blank node spans two graphs and the WHERE binds no variable: quads are
      added with ``INSERT { … } WHERE { BIND(1 AS ?one) }`` (:meth:`insert`), one solution, so each
      label is one fresh node throughout the template. A ``DELETE { … } INSERT { … } WHERE { … }``
      whose WHERE matches once works alike where the WHERE binds a variable (a WHERE of constants
      fails as an empty one does: the guarded writes' version pattern binds ``?now``).
    * An update whose SQL translation passes about 10,000 lines is refused: the first load is
      sent in batches (:attr:`update_quads`, :func:`batches`).
    * ``VALUES ?v { UNDEF }`` (a canned query's parameter left open) joined with a group holding ``GRAPH ?g { … ?v
      … }`` and an ``OPTIONAL`` loses ``?v``'s binding (it stays unbound in every row) when the query has a default
      graph (``FROM``, ``default-graph-uri``: every query the service sends has one). Such a ``VALUES`` is the
      identity of the join (one solution binding nothing): it is left out of the query sent (:attr:`open_values`,
      :meth:`without_open_values`).
    * An ``xsd:decimal`` written without a decimal point (``"1"^^xsd:decimal``, as pyoxigraph writes a whole
      decimal) is stored as an ``xsd:integer`` by an ``INSERT`` template (``INSERT DATA`` keeps it a decimal):
      such decimals are sent with one, ``"1.0"`` (:attr:`decimal_point`, :meth:`to_store`).
    """

    empty_graphs: bool = True
    #: ASK answered as a one-column table (``__ASK_RETVAL``: one row when true, none when false), as Virtuoso 7 does.
    ask_as_table: bool = False
    #: A POST of N-Quads to the Graph Store URL itself (no ``graph``/``default`` parameter) adds a whole
    #: dataset in one request (Oxigraph does); otherwise the first load is sent as SPARQL Update (:meth:`insert`).
    dataset_post: bool = True
    #: The named graph the service's default graph is kept in, where the store's own default graph is not a graph
    #: of its own (Virtuoso); ``None``: the store's default graph is the service's.
    default_graph: str | None = None
    #: The store's own graphs, never the service's (left out of snapshots, dumps and the named graphs); the graph
    #: of the store's version and write lock (:data:`STORE_STATE_GRAPH`) always among them.
    system_graphs: frozenset[str] = frozenset({STORE_STATE_GRAPH})
    #: Blank nodes may be written with ``INSERT DATA`` (otherwise :meth:`insert` uses ``INSERT … WHERE``).
    blank_data: bool = True
    #: Most quads one update should add (``0``: no limit); the first load is split in batches of about this many.
    update_quads: int = 0
    #: Ask each query form for its one format (results for SELECT and ASK, N-Triples for graphs) instead of
    #: offering both and reading the answer's media type.
    accept_by_form: bool = False
    #: What the store puts before its blank node labels in SPARQL JSON results (:meth:`results_json`).
    bnode_prefix: str = ""
    #: The store takes one BASE only, before any PREFIX (:meth:`with_base`).
    one_base: bool = False
    #: ``VALUES ?v { UNDEF }`` is left out of queries (:meth:`without_open_values`).
    open_values: bool = False
    #: Whole ``xsd:decimal`` literals are sent with a decimal point (``"1.0"``, the same value), where the store
    #: would store ``"1"^^xsd:decimal`` as an integer (:meth:`to_store`).
    decimal_point: bool = False
    #: ``IRI()``/``URI()`` leave a relative IRI unresolved: relative IRIs in SPARQL JSON results are resolved against
    #: the query's base (:meth:`results_json`).
    unresolved_iris: bool = False
    #: The store gives back the quads it was sent as they were sent, so the dataset's :class:`Fingerprint` computed
    #: before sending matches the store's (writes behind the service's back are then detected). Virtuoso does not:
    #: the fingerprint of what it holds differs after ordinary writes (it stores some literals otherwise).
    fingerprints: bool = True
    #: A query parameter that turns the dataset POST (:attr:`dataset_post`) into the store's own bulk load, not
    #: transactional (the Oxigraph server's ``POST /store?no_transaction``: its bulk loader, several times faster
    #: than the transactional POST). Used for the FIRST load only, into an empty store that nothing else reads yet
    #: (the service answers nothing before it is done); a first load broken off leaves part of the dataset in the
    #: store, which is then not empty: empty it and start again (README). ``""``: none.
    bulk_post: str = ""

    @classmethod
    def of(cls, server: str) -> Dialect:
        """The dialect of a store, from its HTTP ``Server`` header."""
        if server.lower().startswith("virtuoso"):
            return cls(empty_graphs=False, ask_as_table=True, dataset_post=False, default_graph=VIRTUOSO_DEFAULT_GRAPH,
                       system_graphs=VIRTUOSO_SYSTEM_GRAPHS | {STORE_STATE_GRAPH}, blank_data=False,
                       update_quads=VIRTUOSO_UPDATE_QUADS,
                       accept_by_form=True, bnode_prefix="nodeID://", one_base=True, unresolved_iris=True,
                       decimal_point=True, open_values=True, fingerprints=False)
        if server.lower().startswith("oxigraph"):
            return cls(bulk_post="no_transaction")
        return cls()

    def results_json(self, body: bytes, sparql: str = "") -> bytes:
        """SPARQL JSON results as the standard has them (``body`` itself where nothing needs changing).

        Virtuoso labels blank nodes ``nodeID://b10001``, which is no blank node label (``_:`` labels are names:
        letters, digits, ``_``, ``-``, ``.``): they are read as ``nodeID-b10001`` (:data:`STORED_BNODE`), which
        :meth:`stored_node` turns back into the store's name. Where ``IRI()`` left an IRI relative
        (:attr:`unresolved_iris`), it is resolved against the base of ``sparql``, the query as it was sent (its
        one ``BASE``, :meth:`with_base`); without a base it stays, and the answer is unreadable.
        """
        blanks = bool(self.bnode_prefix) and self.bnode_prefix.encode() in body
        relative = self.unresolved_iris and _RELATIVE_IRI.search(body) is not None
        if not (blanks or relative):
            return body
        data = json.loads(body)
        base = read_prologues(lex(sparql).tokens).base if relative else None
        for row in data.get("results", {}).get("bindings", ()):
            for term in row.values():
                if term.get("type") == "bnode" and term.get("value", "").startswith(self.bnode_prefix):
                    term["value"] = STORED_BNODE + term["value"][len(self.bnode_prefix):]
                elif base and term.get("type") == "uri" and not _SCHEME.match(term.get("value", "")):
                    term["value"] = urllib.parse.urljoin(base, term["value"])
        return json.dumps(data).encode()

    def results(self, solutions: Any) -> Any:
        """Parsed results as the standard has them (Virtuoso's ASK table becomes a boolean)."""
        if self.ask_as_table and isinstance(solutions, ox.QuerySolutions) and [
                v.value for v in solutions.variables] == ["__ASK_RETVAL"]:
            rows = list(solutions)
            value = bool(rows) and rows[0][0] is not None and rows[0][0].value not in ("0", "false")
            return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if value else b"false"),
                                          format=ox.QueryResultsFormat.JSON)
        return solutions

    def triples(self, body: bytes, sparql: str = "") -> list[ox.Triple]:
        """An N-Triples answer to ``sparql`` (the query as it was sent) as triples.

        Where ``IRI()`` left an IRI relative (:attr:`unresolved_iris`), the answer is no N-Triples: it is read again
        as Turtle (of which N-Triples is a part) with the query's base, which resolves it as the function should
        have; only then, as a valid answer costs nothing more.
        """
        try:
            return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        except SyntaxError:
            base = read_prologues(lex(sparql).tokens).base if self.unresolved_iris else None
            if not base:
                raise
            return [ox.Triple(q.subject, q.predicate, q.object)
                    for q in ox.parse(body, format=ox.RdfFormat.TURTLE, base_iri=base)]

    def without_open_values(self, sparql: str) -> str:
        """The query without its ``VALUES ?v { UNDEF }`` blocks where the store mistakes them (:attr:`open_values`).

        Why that is the same query: such a block is one solution that binds nothing, the identity of the join it
        takes part in, wherever it stands (in a group, after a sub-SELECT, after the query). Virtuoso instead lets
        its ``UNDEF`` win over a binding of ``?v`` from a group with ``GRAPH ?g`` and ``OPTIONAL`` once the query has
        a default graph, so the canned queries whose parameters are left open lost a column.
        """
        if not self.open_values or "UNDEF" not in sparql.upper():
            return sparql
        tokens = lex(sparql).tokens
        parts: list[str] = []
        last = 0
        for i, token in enumerate(tokens):
            shape = tokens[i:i + 5]
            if (token.is_word("VALUES") and len(shape) == 5 and shape[1].kind == "var" and shape[2].text == "{"
                    and shape[3].is_word("UNDEF") and shape[4].text == "}" and token.start >= last):
                parts.append(sparql[last:token.start])
                last = shape[4].end
        return "".join(parts) + sparql[last:] if parts else sparql

    def with_base(self, sparql: str, base_iri: str | None) -> str:
        """The query text with the base IRI it is resolved against (``BASE`` before it), as the store takes it.

        Where the store takes one ``BASE`` only, first (Virtuoso: a second one, or one after a ``PREFIX``, is a
        syntax error), the opening declarations are written again: one ``BASE`` (the last in effect, resolved
        against the earlier ones and ``base_iri``), then each ``PREFIX`` with its IRI made absolute as it was
        resolved where it stood. What follows the declarations is unchanged.
        """
        if not self.one_base:
            return f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        tokens = lex(sparql).tokens
        prologue = Prologue(base=base_iri)

        def absolute(token: Any) -> str:  # urljoin drops an empty fragment: <#> stays <base#>
            iri = prologue.resolve(token) or ""
            return iri + "#" if token.text.endswith("#>") and not iri.endswith("#") else iri

        prefixes: list[str] = []
        i = 0
        while i < len(tokens):
            if tokens[i].is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
                prologue.base = absolute(tokens[i + 1])
                i += 2
            elif (tokens[i].is_word("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
                  and tokens[i + 2].kind == "iri"):
                prefixes.append(f"PREFIX {tokens[i + 1].text} <{absolute(tokens[i + 2])}>")
                i += 3
            else:
                break
        if not i and not base_iri:
            return sparql
        rest = sparql[tokens[i].start:] if i < len(tokens) else ""
        head = ([f"BASE <{prologue.base}>"] if prologue.base else []) + prefixes
        return "\n".join([*head, rest])

    def accept(self, sparql: str) -> str:
        """The ``Accept`` header of a query."""
        if self.accept_by_form:
            return N_TRIPLES if lex(sparql).kind in ("construct", "describe") else RESULTS_JSON
        return f"{RESULTS_JSON}, {N_TRIPLES};q=0.9"

    # -- graphs: the service's as the store keeps them ------------------------------------------------------

    def to_store(self, quad: ox.Quad) -> ox.Quad:
        """A quad as the store keeps it: the service's default graph mapped onto :attr:`default_graph`, blank
        nodes read from the store named as the store names them (:meth:`stored_node`), a whole decimal written with
        its decimal point (:attr:`decimal_point`)."""
        if (self.decimal_point and isinstance(quad.object, ox.Literal) and quad.object.datatype == DECIMAL
                and _WHOLE.fullmatch(quad.object.value)):
            quad = ox.Quad(quad.subject, quad.predicate, ox.Literal(quad.object.value + ".0", datatype=DECIMAL),
                           quad.graph_name)
        if self.bnode_prefix:
            quad = ox.Quad(self.stored_node(quad.subject), quad.predicate, self.stored_node(quad.object),
                           self.stored_node(quad.graph_name))
        if self.default_graph and isinstance(quad.graph_name, ox.DefaultGraph):
            return ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(self.default_graph))
        return quad

    def stored_node(self, term: Any) -> Any:
        """A blank node read from the store (:meth:`results_json` labelled it ``nodeID-b…``) as the IRI the store
        names it by in updates (``<nodeID://b…>``: Virtuoso's own name for a stored blank node), so that a
        change deletes or adds quads of it without rewriting every graph holding it; others unchanged. (Blank
        nodes a write creates are labelled afresh by the engine, never so.)"""
        if self.bnode_prefix and isinstance(term, ox.BlankNode) and term.value.startswith(STORED_BNODE):
            return ox.NamedNode(self.bnode_prefix + term.value[len(STORED_BNODE):])
        return term

    def store_graph(self, graph: Any) -> Any:
        """A graph name of the service as the store knows it (its default graph may be a named graph there)."""
        if self.default_graph and isinstance(graph, ox.DefaultGraph):
            return ox.NamedNode(self.default_graph)
        return graph

    def from_store(self, graph: Any) -> Any:
        """A graph name read from the store as the service knows it: ``None`` (an unbound ``?g``) and
        :attr:`default_graph` are the default graph; the store's own graphs are ``None`` (not the service's)."""
        if graph is None:
            return ox.DefaultGraph()
        if self.default_graph and isinstance(graph, ox.NamedNode) and graph.value == self.default_graph:
            return ox.DefaultGraph()
        if isinstance(graph, ox.NamedNode) and graph.value in self.system_graphs:
            return None
        return graph

    def ours(self, variable: str = "?g") -> str:
        """A FILTER keeping ``variable`` to the service's graphs ('' where every graph is)."""
        hidden = sorted(self.system_graphs | ({self.default_graph} if self.default_graph else set()))
        if not hidden:
            return ""
        return f"FILTER({variable} NOT IN (" + ", ".join(f"<{g}>" for g in hidden) + "))"

    def named_graphs_query(self) -> str:
        """The service's named graphs (never the store's own, nor the graph holding the default graph)."""
        if self.empty_graphs:
            return f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ }} {self.ours()} }}"
        return f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self.ours()} }}"

    def all_quads_query(self) -> str:
        """Every quad of the service's dataset, ``?g`` naming its graph as the store does (see :meth:`from_store`)."""
        if self.default_graph:
            hidden = sorted(self.system_graphs)
            keep = ("FILTER(?g NOT IN (" + ", ".join(f"<{g}>" for g in hidden) + "))") if hidden else ""
            return f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {keep} }}"
        return "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"

    def dataset(self, sparql: str, default_graph: list[Any] | None, named_graphs: list[Any] | None,
                service_graphs: Callable[[], list[Any]]) -> tuple[list[Any] | None, list[Any] | None]:
        """The dataset to send with a query (``None``: none), as graph names of the store.

        Where the store's default graph is the service's (``default_graph`` unset), the query's
        dataset goes as it came. Otherwise a query naming its own dataset (``FROM``) is sent as it
        is (Virtuoso would merge protocol graphs into it); one given a dataset by the protocol gets
        both of its parts (a part left out is empty, as the protocol has it); one without gets
        the service's: its default graph, and its named graphs (``service_graphs``, asked only when
        the query says ``GRAPH``).
        """
        if not self.default_graph:
            return default_graph, named_graphs
        if default_graph is None and named_graphs is None:
            if "FROM" in lex(sparql).words:
                return None, None
            return [ox.NamedNode(self.default_graph)], (service_graphs() if "GRAPH" in lex(sparql).words else [])
        return ([self.store_graph(g) for g in default_graph or []],
                [self.store_graph(g) for g in named_graphs or []])

    # -- writes -----------------------------------------------------------------------------------------------

    def kept(self, dataset: ox.Store) -> tuple[set[ox.Quad], set[Any]]:
        """A state of the service's dataset as the store keeps it: its quads (:meth:`to_store`) and its named
        graphs, the graph holding the default graph among them (it always exists: never created or dropped)."""
        quads = {self.to_store(q) for q in dataset}
        graphs = set(dataset.named_graphs())
        if self.default_graph:
            graphs.add(ox.NamedNode(self.default_graph))
        return quads, graphs

    def insert(self, quads: Iterable[ox.Quad]) -> str:
        """The update operation adding these quads (mapped with :meth:`to_store`), blank nodes kept as one node
        each throughout: ``INSERT DATA``, or where the store refuses blank nodes there, an ``INSERT`` template
        over one solution."""
        body = _quads_text(self.to_store(q) for q in quads)
        if self.blank_data:
            return f"INSERT DATA {{\n{body}\n}}"
        return f"INSERT {{\n{body}\n}} WHERE {{ BIND(1 AS ?one) }}"


#: How a blank node read from a store that names its blank nodes (Virtuoso's ``nodeID://``) is labelled here.
STORED_BNODE = "nodeID-"
#: The lexical form of a whole number without a decimal point.
_WHOLE = re.compile(r"[+-]?[0-9]+")
#: An absolute IRI starts with its scheme.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: An IRI without a scheme in SPARQL JSON results as Virtuoso writes them (``"type": "uri", "value": "…"``).
_RELATIVE_IRI = re.compile(rb'"type"\s*:\s*"uri"\s*,\s*"value"\s*:\s*"(?![A-Za-z][A-Za-z0-9+.\-]*:)')
#: The named graph Virtuoso keeps the service's default graph in.
VIRTUOSO_DEFAULT_GRAPH = "urn:x-dprk-kg:default-graph"
#: Virtuoso's own graphs in a fresh database (its RDF views' metadata, the LDP vocabulary, its service description;
#: the OWL vocabulary where a VAD package loaded it).
VIRTUOSO_SYSTEM_GRAPHS = frozenset({"http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
                                    "http://localuriqaserver/sparql", "http://www.w3.org/2002/07/owl#"})
#: Quads per update Virtuoso accepts with room to spare (its limit is on the SQL an update translates to).
VIRTUOSO_UPDATE_QUADS = 1000


def batches(quads: list[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    """``quads`` in batches of about ``size`` (all at once when 0), the quads sharing a blank node always in one.

    Why: a blank node label holds within one update only, so a node split over two updates would become two.
    """
    if not size:
        yield quads
        return
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(b: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    for q in quads:
        blanks = list(_blanks(q))
        for other in blanks[1:]:
            parent[root(other)] = root(blanks[0])
    groups: dict[Any, list[ox.Quad]] = {}
    for i, q in enumerate(quads):
        first = next(_blanks(q), None)
        groups.setdefault(root(first) if first is not None else i, []).append(q)
    batch: list[ox.Quad] = []
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


class _Capture:
    """Stands in for the worker's connection: keeps what an operation answers."""

    def __init__(self) -> None:
        self.messages: list[tuple] = []

    def send(self, message: tuple) -> None:
        self.messages.append(message)


class _Mirror(Worker):
    """The store worker's operations over an in-memory snapshot of the remote dataset."""

    def __init__(self, settings: dict[str, Any], store: ox.Store) -> None:  # no super(): no store folder
        self.settings = settings
        self.union = bool(settings.get("UNION_DEFAULT_GRAPH", True))
        self.entailment = str(settings.get("ENTAILMENT") or "rdfs")
        self.store = store
        self.write_lock = threading.Lock()
        self._serving = threading.local()


def _error_from(exc: Exception) -> StoreError:
    """An exception raised by a worker operation, as the worker itself would have answered it."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, SyntaxError):
        return StoreError("syntax", str(exc))
    if isinstance(exc, PermissionError):
        return StoreError("forbidden", str(exc))
    if isinstance(exc, ValueError):
        return StoreError("value", str(exc))
    text = str(exc)
    if isinstance(exc, RuntimeError) and any(w in text for w in ("does not exist", "already exists", "not found")):
        return StoreError("conflict", text)
    log.error("store operation failed on the snapshot", exc_info=exc)
    return StoreError("internal", f"{type(exc).__name__}: {exc}")


def _unreadable(sparql: str, base_iri: str | None, exc: Exception) -> StoreError:
    """The error for a store's answer to ``sparql`` that cannot be read as SPARQL results or RDF.

    Why two: a store may accept a query that is not SPARQL 1.1 and answer it in a form SPARQL cannot carry
    (Virtuoso answers ``SELECT COUNT(*) {}`` with a column ``callret-0``, which is no variable name). The query is
    then parsed here, by pyoxigraph on an empty in-memory store (nothing read, nothing fetched: never a query
    with ``SERVICE``), and refused as the syntax error it is (400) — what the embedded store answers. A valid
    query answered unreadably is the store's fault: ``gateway`` (502), the parser's complaint named.
    """
    if not any(token.is_word("SERVICE") for token in lex(sparql).tokens):
        try:
            ox.Store().query(sparql, base_iri=base_iri)
        except SyntaxError as invalid:
            return StoreError("syntax", str(invalid))
        except Exception:  # noqa: S110 - only the syntax check matters here
            pass
    log.warning("the store's answer to a query could not be read: %s", exc)
    return StoreError("gateway", f"its answer could not be read ({type(exc).__name__}: {exc})"[:500])


def _quad_text(quad: ox.Quad) -> str:
    triple = f"{quad.subject} {quad.predicate} {quad.object} ."
    return triple if isinstance(quad.graph_name, ox.DefaultGraph) else f"GRAPH {quad.graph_name} {{ {triple} }}"


def _quads_text(quads: Iterable[ox.Quad]) -> str:
    """Quads as the body of ``INSERT DATA``/``DELETE DATA`` or of a template: ONE ``GRAPH`` block per graph.

    Why grouped: Virtuoso fails (after writing) a template in which one graph's block recurs with a blank node
    shared between the blocks (see :class:`Dialect`); one block per graph is the same update for every store.
    """
    by_graph: dict[Any, list[str]] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
    return "\n".join("\n".join(triples) if isinstance(g, ox.DefaultGraph) else
                     f"GRAPH {g} {{\n" + "\n".join(triples) + "\n}" for g, triples in by_graph.items())


def _blanks(quad: ox.Quad) -> Iterator[ox.BlankNode]:
    return (t for t in (quad.subject, quad.object, quad.graph_name) if isinstance(t, ox.BlankNode))


def _graph_ref(graph: Any) -> str:
    return "DEFAULT" if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph}"


def change_update(old: set[ox.Quad], new: set[ox.Quad], old_graphs: set[Any], new_graphs: set[Any],
                  insert: Callable[[list[ox.Quad]], str] | None = None,
                  guard: tuple[tuple[str, ...], str] | None = None) -> str:
    """One SPARQL Update that turns the dataset ``old`` (its named graphs ``old_graphs``) into ``new``.

    Quads are removed with ``DELETE DATA`` and added with ``INSERT DATA`` — except in graphs that
    must be *rewritten*: cleared and filled again within the same update. A graph is rewritten when
    the change removes all of its quads (a ``CLEAR`` is shorter than listing them), or when it
    holds a blank node the change removes a quad of or adds a quad to: SPARQL cannot name a stored
    blank node, so such a graph is sent whole, together with every graph sharing a blank node with
    it (blank node labels hold within one ``INSERT DATA``, so the nodes stay shared). The quads
    written are exactly ``new``'s. ``insert``: the operation adding quads (:meth:`Dialect.insert`; default
    ``INSERT DATA``).

    ``guard`` = (the store's version the change was validated against, a fresh one): the update is
    then conditional (optimistic concurrency in the update itself). Its first operation swaps the
    read version for the fresh one only where the read one is there; every other operation is a
    ``DELETE``/``INSERT … WHERE`` matching once only where the fresh version is there — so where the
    store changed since it was read, the update changes nothing. ``CLEAR`` and ``DROP`` become
    conditional deletions of the graph's quads; what SPARQL cannot make conditional is left out
    (removing a dropped graph that is then empty, :meth:`RemoteStore._send_change`) or harmless
    (``CREATE SILENT`` of a new graph left empty). An ``INSERT`` template over one solution keeps
    each blank node label one node throughout, as ``INSERT DATA`` does.
    """
    added, removed = new - old, old - new
    old_by_graph: dict[Any, set[ox.Quad]] = {}
    new_by_graph: dict[Any, set[ox.Quad]] = {}
    for quads, by_graph in ((old, old_by_graph), (new, new_by_graph)):
        for q in quads:
            by_graph.setdefault(q.graph_name, set()).add(q)
    stored = {b for q in old for b in _blanks(q)}
    holders: dict[ox.BlankNode, set[Any]] = {}  # the graphs holding each stored blank node after the change
    for q in new:
        for b in _blanks(q):
            if b in stored:
                holders.setdefault(b, set()).add(q.graph_name)
    rewrite = {g for g, quads in old_by_graph.items() if quads <= removed}
    pending = set(rewrite) | {q.graph_name for q in removed if any(_blanks(q))}
    pending |= {q.graph_name for q in added if any(b in stored for b in _blanks(q))}
    done: set[Any] = set()
    while pending:  # a rewritten graph's stored blank nodes are written again: so is every graph holding them
        graph = pending.pop()
        done.add(graph)
        rewrite.add(graph)
        for q in new_by_graph.get(graph, ()):
            for b in _blanks(q):
                pending |= holders.get(b, set()) - done
    if guard is not None:
        return _guarded_update(guard, old_graphs, new_graphs, rewrite, removed, added, new_by_graph)
    parts = [f"DROP SILENT GRAPH {g}" for g in old_graphs - new_graphs]
    parts += [f"CLEAR SILENT {_graph_ref(g)}" for g in rewrite
              if isinstance(g, ox.DefaultGraph) or (g in old_graphs and g in new_graphs)]
    deleted = [q for q in removed if q.graph_name not in rewrite]
    inserted = [q for q in added if q.graph_name not in rewrite]
    inserted += [q for g in rewrite for q in new_by_graph.get(g, ())]
    if deleted:
        parts.append("DELETE DATA {\n" + "\n".join(_quad_text(q) for q in deleted) + "\n}")
    parts += [f"CREATE SILENT GRAPH {g}" for g in new_graphs - old_graphs]
    if inserted:
        parts.append(insert(inserted) if insert else "INSERT DATA {\n" + "\n".join(_quad_text(q) for q in inserted)
                     + "\n}")
    return " ;\n".join(parts)


def _version_is(token: str) -> str:
    return f"GRAPH {STATE} {{ {STORE_NODE} {VERSION} {ox.Literal(token)} }}"


def _version_where(token: str) -> str:
    """The pattern matching once where the store's version is ``token``. It binds a variable: Virtuoso fails an
    ``INSERT`` template with a blank node twice over a WHERE without one (see :class:`Dialect`)."""
    return f"GRAPH {STATE} {{ {STORE_NODE} {VERSION} ?now FILTER(?now = {ox.Literal(token)}) }}"


@dataclass(frozen=True)
class Fingerprint:
    """A dataset's quad count and an order-independent hash of its quads: what a write through the service left.

    Why this shape: it is computed from the snapshot every guarded write reads anyway, and compared with the one
    the last write recorded (in the same conditional update as the version), so a write made to the store by
    another client shows at the next write or ``dprk-kg store-check``. The hash is the sum (mod 2**128) of each
    quad's BLAKE2b hash, so it needs no sort; a sum, not a xor, so two quads hashing alike do not cancel out.
    Blank nodes are hashed without their labels (each as ``_:``): stores relabel them (Virtuoso names stored
    nodes ``nodeID://…``), and canonical labelling costs far more than the rest; a change that only swaps
    blank nodes around is therefore not seen. Empty named graphs are not counted.
    """

    count: int
    digest: int

    def __str__(self) -> str:
        return f"{self.count} {self.digest:032x}"

    @classmethod
    def parse(cls, text: str) -> Fingerprint | None:
        """A fingerprint as recorded in the store (``None`` when it is not one)."""
        count, _, digest = text.partition(" ")
        try:
            return cls(int(count), int(digest, 16))
        except ValueError:
            return None

    @classmethod
    def of(cls, quads: Iterable[ox.Quad]) -> Fingerprint:
        """The fingerprint of these quads (the service's view of the dataset: its default graph as such)."""
        count = total = 0
        blank = ox.BlankNode
        for q in quads:
            if isinstance(q.subject, blank) or isinstance(q.object, blank) or isinstance(q.graph_name, blank):
                text = " ".join("_:" if isinstance(t, blank) else str(t)
                                for t in (q.subject, q.predicate, q.object, q.graph_name))
            else:
                text = str(q)
            total += int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
            count += 1
        return cls(count, total % 2**128)


def _quads(count: int) -> str:
    return f"{count} quad" + ("" if count == 1 else "s")


def _fingerprint_update(token: str, fingerprint: Fingerprint) -> str:
    """Operations replacing the recorded fingerprint, applied only where the store's version is ``token``."""
    where = _version_where(token)
    recorded = f"GRAPH {STATE} {{ {STORE_NODE} {FINGERPRINT} ?f }}"
    return (f"DELETE {{ {recorded} }} WHERE {{ {where} {recorded} }} ;\n"
            f"INSERT {{ GRAPH {STATE} {{ {STORE_NODE} {FINGERPRINT} {ox.Literal(str(fingerprint))} }} }} "
            f"WHERE {{ {where} }}")


def _guarded_update(guard: tuple[tuple[str, ...], str], old_graphs: set[Any], new_graphs: set[Any], rewrite: set[Any],
                    removed: set[ox.Quad], added: set[ox.Quad], new_by_graph: dict[Any, set[ox.Quad]]) -> str:
    """The conditional form of :func:`change_update`'s update (its docstring)."""
    read, fresh = guard
    now = _version_is(fresh)
    now_where = _version_where(fresh)
    if read:
        values = ", ".join(str(ox.Literal(v)) for v in read)
        parts = [f"DELETE {{ GRAPH {STATE} {{ {STORE_NODE} {VERSION} ?v }} }} INSERT {{ {now} }} "
                 f"WHERE {{ GRAPH {STATE} {{ {STORE_NODE} {VERSION} ?v }} FILTER(?v IN ({values})) }}"]
    else:  # no write has been made through the service yet: the version is set only where there still is none
        none = f"FILTER NOT EXISTS {{ GRAPH {STATE} {{ {STORE_NODE} {VERSION} ?v }} }}"
        parts = [f"INSERT {{ {now} }} WHERE {{ {none} }}"]
    emptied = (old_graphs - new_graphs) | {g for g in rewrite
                                           if isinstance(g, ox.DefaultGraph) or (g in old_graphs and g in new_graphs)}
    for g in sorted(emptied, key=str):
        pattern = "?s ?p ?o" if isinstance(g, ox.DefaultGraph) else f"GRAPH {g} {{ ?s ?p ?o }}"
        parts.append(f"DELETE {{ {pattern} }} WHERE {{ {now_where} {pattern} }}")
    deleted = [q for q in removed if q.graph_name not in rewrite]
    inserted = [q for q in added if q.graph_name not in rewrite]
    inserted += [q for g in rewrite for q in new_by_graph.get(g, ())]
    if deleted:
        parts.append("DELETE {\n" + _quads_text(deleted) + f"\n}} WHERE {{ {now_where} }}")
    filled = {q.graph_name for q in inserted}
    parts += [f"CREATE SILENT GRAPH {g}" for g in new_graphs - old_graphs - filled]
    if inserted:
        parts.append("INSERT {\n" + _quads_text(inserted) + f"\n}} WHERE {{ {now_where} }}")
    return " ;\n".join(parts)


#: Quads serialized per chunk of a streamed Graph Store POST (:func:`_nquads_stream`).
STREAM_QUADS = 50_000


def _nquads_stream(quads: Iterable[ox.Quad]) -> Iterator[bytes]:
    """The quads as N-Quads, chunk by chunk as they come: part of the body of ONE streamed (chunked) request.

    Why streamed: the whole body at once is about 170 bytes a quad — at a million triples (some 3.5 million quads
    with the derived graphs) it no longer fits the web worker's MEMORY_LIMIT and the first start failed. N-Quads is
    line-based and blank node labels are the nodes' own ids, so the chunks concatenate to one valid document in
    which a blank node shared by two graphs stays one node.
    """
    source = iter(quads)
    while chunk := list(itertools.islice(source, STREAM_QUADS)):
        yield ox.serialize(chunk, format=ox.RdfFormat.N_QUADS) or b""


def _progress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """N-Quads chunks passed on unchanged, logging how many quads went to the store as they go (one per line)."""
    started = time.perf_counter()
    sent = logged = 0
    for chunk in chunks:
        yield chunk
        sent += chunk.count(b"\n")
        if sent - logged >= 10 * STREAM_QUADS:
            logged = sent
            log.info("first load: %d quads sent to the store (%.0f s)", sent, time.perf_counter() - started)
    log.info("first load: %d quads sent to the store in all (%.1f s)", sent, time.perf_counter() - started)


def _dropped(sock: Any) -> bool:
    """Whether an idle keep-alive connection was closed by the store (or is out of step): readable while idle."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class _Connections:
    """Keep-alive HTTP connections to the store: one per thread and host, reused request after request.

    Why: a new TCP connection per request (as ``urllib`` makes) costs the store and us a connect, a thread hand-off
    at the store and Python-side set-up each time — a visible share of a query that takes the store 2 ms. One
    connection per thread needs no locking (a thread runs one request at a time). A connection the store closed
    while idle is found before it is used (:func:`_dropped`) and replaced.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: set[http.client.HTTPConnection] = set()  # every thread's, for :meth:`close`
        self._lock = threading.Lock()

    def get(self, scheme: str, netloc: str, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection to ``netloc`` (not yet connected when new), and whether it was used before."""
        mine: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        conn = mine.get((scheme, netloc))
        if conn is not None and conn.sock is not None and _dropped(conn.sock):
            self.discard(conn)
            conn = None
        if conn is None:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = kind(netloc, timeout=timeout)
            mine[(scheme, netloc)] = conn
            with self._lock:
                self._all.add(conn)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn, conn.sock is not None

    def discard(self, conn: http.client.HTTPConnection) -> None:
        """Close a connection and forget it (an error, an answer not read to its end, a dropped connection)."""
        conn.close()
        mine = self._local.__dict__.get("conns", {})
        for key in [k for k, c in mine.items() if c is conn]:
            del mine[key]
        with self._lock:
            self._all.discard(conn)

    def close(self) -> None:
        with self._lock:
            conns, self._all = list(self._all), set()
        for conn in conns:
            conn.close()


class _Answer:
    """A store's answer to a query: its media type and body as they came; calling it parses the body (again, where
    the row cap needs a second pass)."""

    __slots__ = ("_parse", "body", "media")

    def __init__(self, media: str, body: bytes, parse: Callable[[], Any]) -> None:
        self.media, self.body, self._parse = media, body, parse

    def __call__(self) -> Any:
        return self._parse()


#: Errors of a request on a kept-alive connection that say the store had closed it (sent again once, see ``_http``).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class RemoteStore:
    """A :class:`~service.store.backend.StoreBackend` over a SPARQL 1.1 store's HTTP endpoints; thread-safe."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.query_url: str = settings["STORE_URL"]
        self.update_url: str = settings.get("UPDATE_URL") or self.query_url
        self.graph_store_url: str | None = settings.get("GRAPH_STORE_URL") or None
        for url in (self.query_url, self.update_url, self.graph_store_url):
            if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"the store's URL must be http or https, not {url!r}")
        self.query_timeout: float = float(settings.get("QUERY_TIMEOUT") or 30.0)
        self.update_timeout: float = float(settings.get("UPDATE_TIMEOUT") or 60.0)
        self.response_limit: int = int(settings.get("STORE_RESPONSE_LIMIT") or 256 * 2**20)
        self.union = bool(settings.get("UNION_DEFAULT_GRAPH", True))
        self.dialect = Dialect()
        self.server = ""  # the store's Server header, once it has answered
        self.worker_generation = 1  # no worker to restart (metrics count restarts from this)
        self.on_round_trip: Callable[[str, float], None] | None = None
        #: Writes made behind the service's back that this process's writes found (a metric).
        self.outside_writes = 0
        self._write_lock = threading.Lock()  # one write at a time from this process: snapshot, validate, send
        # The store's version as last read (:attr:`generation`): a count of the versions seen, and when to read again.
        self.version_ttl = max(0.0, float(settings.get("STORE_VERSION_TTL", 1.0) or 0.0))
        self._token: str | None = None
        self._seen = 0
        self._version_due = 0.0
        self._version_lock = threading.Lock()
        self._refreshing = threading.Lock()
        #: Called after a write was validated, before it is sent (tests force conflicts here); ``None`` in service.
        self.before_send: Callable[[], None] | None = None
        user, password = store_credentials()
        self._auth = ("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()) if user else None
        self._connections = _Connections()
        self._query_http("ASK {}", timeout=self.query_timeout)  # the store answers, and says what it is
        self.dialect = Dialect.of(self.server)
        self._graphs: tuple[int, list[Any]] | None = None  # (generation, the service's named graphs)
        if settings.get("LOAD_DATA", True):
            self._first_load()

    # -- HTTP ---------------------------------------------------------------------------

    def _http(self, op: str, url: str, *, data: bytes | Iterable[bytes] | None = None,
              content_type: str | None = None, accept: str | None = None, method: str = "POST",
              timeout: float) -> tuple[str, bytes]:
        """One request; its answer's media type and body (at most :attr:`response_limit` bytes)."""
        headers = {"User-Agent": "dprk-kg remote store"}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        if self._auth:
            headers["Authorization"] = self._auth
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        replayable = data is None or isinstance(data, bytes)  # a streamed body cannot be sent twice
        for attempt in (1, 2):
            conn, reused = self._connections.get(parts.scheme, parts.netloc, timeout)
            again = reused and replayable and attempt == 1
            started = time.perf_counter()
            keep = False
            try:
                try:
                    if conn.sock is None:
                        conn.connect()
                except TimeoutError as exc:
                    raise StoreTimeout(timeout) from exc
                except OSError as exc:
                    raise StoreError("unavailable", f"the store at {url} could not be reached: {exc}") from exc
                try:
                    conn.request(method, target, body=data, headers=headers)
                except _STALE:
                    if again:  # the store had closed the kept connection: the request did not reach it
                        continue
                    raise
                try:
                    response = conn.getresponse()
                except _STALE:
                    if again and op == "query":  # a query is safe to send again; an update may have been applied
                        continue
                    raise
                if not 200 <= response.status < 300:
                    text = response.read(4096).decode("utf-8", "replace").strip()
                    if response.status == 400:
                        raise StoreError("syntax" if op == "query" else "value", text or "refused by the store")
                    if response.status in (401, 403):
                        raise StoreError("internal", f"the store refused the service's credentials "
                                                     f"({response.status}): check DPRK_KG_STORE_USER and "
                                                     f"DPRK_KG_STORE_PASSWORD")
                    if response.status in UNAVAILABLE_STATUSES:  # the store (or a proxy before it): not now
                        raise StoreError("unavailable", f"the store at {url} answered {response.status}: "
                                                        f"{text[:200]}")
                    # the store failed (its 500) or refused what it should take (404: a wrong URL): a gateway's 502
                    raise StoreError("gateway", f"it answered {response.status}: {text[:500]}")
                if self.on_round_trip is not None:
                    self.on_round_trip(op, time.perf_counter() - started)
                body = response.read(self.response_limit + 1)
                if len(body) > self.response_limit:
                    raise StoreError("value", f"the store's answer is larger than {self.response_limit} bytes "
                                              f"(STORE_RESPONSE_LIMIT)")
                self.server = response.headers.get("Server", "")
                keep = response.isclosed()  # read to its end: the connection serves the next request
                return response.headers.get_content_type(), body
            except TimeoutError as exc:
                raise StoreTimeout(timeout) from exc
            except (ConnectionError, http.client.HTTPException) as exc:  # the store went away during the exchange
                raise StoreError("unavailable", f"the store at {url} broke off the exchange: "
                                                f"{type(exc).__name__}: {exc}") from exc
            finally:
                if not keep:
                    self._connections.discard(conn)
        raise AssertionError("unreachable")  # the second attempt returns or raises

    def _query_http(self, sparql: str, *, default_graph: Iterable[Any] | None = None,
                    named_graphs: Iterable[Any] | None = None, base_iri: str | None = None,
                    timeout: float | None = None, raw: bool = False) -> Callable[[], Any]:
        """Run a query at the store; a function that parses its answer (called again if the cap needs it).

        The dataset is the one :meth:`Dialect.dataset` gives; ``raw``: the query reads the store's graphs as they
        are, with no dataset added (the snapshot, the named graphs: their graphs are mapped by the caller).
        """
        if not raw:
            default_graph, named_graphs = self.dialect.dataset(
                sparql, None if default_graph is None else list(default_graph),
                None if named_graphs is None else list(named_graphs), self.named_graphs)
        text = self.dialect.with_base(self.dialect.without_open_values(sparql), base_iri)
        form: list[tuple[str, str]] = [("query", text)]
        # An empty list is an explicit dataset (no graph of that kind): the protocol cannot say so, hence
        # a graph nobody has.
        nothing = "urn:x-dprk-kg:no-such-graph"
        if default_graph is not None:
            form += [("default-graph-uri", g.value) for g in default_graph] or [("default-graph-uri", nothing)]
        if named_graphs is not None:
            form += [("named-graph-uri", g.value) for g in named_graphs] or [("named-graph-uri", nothing)]
        media, body = self._http("query", self.query_url, data=urllib.parse.urlencode(form).encode(),
                                 content_type="application/x-www-form-urlencoded",
                                 accept=self.dialect.accept(sparql), timeout=timeout or self.query_timeout)
        if not raw:
            body = _without_state(media, body)
        if media in (RESULTS_JSON, "application/json"):
            return _Answer(media, body, lambda: self.dialect.results(ox.parse_query_results(
                self.dialect.results_json(body, text), format=ox.QueryResultsFormat.JSON)))
        if media in (N_TRIPLES, "text/plain"):
            return _Answer(media, body, lambda: self.dialect.triples(body, text))
        fmt = ox.RdfFormat.from_media_type(media)
        if fmt is None:
            raise StoreError("internal", f"the store answered a query with {media!r}")
        return _Answer(media, body, lambda: [ox.Triple(q.subject, q.predicate, q.object)
                                             for q in ox.parse(body, format=fmt)])

    def _update_http(self, sparql: str, timeout: float | None = None) -> None:
        self._http("update", self.update_url, data=urllib.parse.urlencode({"update": sparql}).encode(),
                   content_type="application/x-www-form-urlencoded", timeout=timeout or self.update_timeout)

    # -- queries --------------------------------------------------------------------------

    def query(self, sparql: str, *, format: str = "json", default_graph: Iterable[Any] | None = None,
              named_graphs: Iterable[Any] | None = None, substitutions: dict[str, Any] | None = None,
              base_iri: str | None = None, row_cap: int | None = None, timeout: float | None = None) -> QueryResult:
        """Evaluate a query at the store; the answer in ``format`` as the embedded store gives it."""
        if substitutions:
            raise StoreError("value", "variable substitutions are not supported by the remote store backend")
        cap = self.settings.get("RESULT_ROW_CAP", 0) if row_cap is None else row_cap
        run = self._query_http(sparql, default_graph=default_graph, named_graphs=named_graphs, base_iri=base_iri,
                               timeout=timeout)
        try:
            return self._answer(run, format, cap)
        except (SyntaxError, json.JSONDecodeError, UnicodeDecodeError) as exc:  # pyoxigraph's parse errors, JSON's
            raise _unreadable(sparql, base_iri, exc) from exc

    def _answer(self, run: Any, format: str, cap: int) -> QueryResult:
        """The store's answer (``run``) in ``format`` as the embedded store gives it (parsed, capped, written)."""
        if format == "terms":
            head, items = capped_answer(run(), cap)
            if head["kind"] == "boolean":
                batches: list[Any] = []
            elif head["kind"] == "solutions":
                batches = [[tuple(encode(t) for t in row) for row in items]]
            else:
                batches = [[(encode(t.subject), encode(t.predicate), encode(t.object)) for t in items]]
            return QueryResult(kind=head["kind"], head=head, chunks=iter([b for b in batches if b]))
        passed = self._as_it_came(run, format, cap)
        if passed is not None:
            return passed
        sink = io.BytesIO()
        head = serialize_answer(run, format, cap, lambda _head: sink)
        body = sink.getvalue()
        return QueryResult(kind=head["kind"], head=head, chunks=iter([body]), body=body)

    def _as_it_came(self, run: Any, format: str, cap: int) -> QueryResult | None:
        """The store's SPARQL JSON answer passed on as it came, where that is provably what :func:`serialize_answer`
        would give (``None`` otherwise: parse and serialize).

        Why: parsing the store's answer and writing it again cost about as much as the store's own evaluation of a
        quick query. Passed on only where nothing would change it: JSON asked for and answered, no dialect
        rewriting (Virtuoso's ASK tables and blank node labels), and the row cap unable to cut it — every row is a
        JSON object, so a body with at most ``cap`` ``{`` holds fewer than ``cap`` rows whatever its layout (the
        answer is then never truncated, and no truncation mark is due).
        """
        if (format != "json" or not isinstance(run, _Answer) or run.media != RESULTS_JSON
                or self.dialect.ask_as_table or self.dialect.results_json(run.body) is not run.body
                or (cap and run.body.count(b"{") > cap)):
            return None
        result = run()
        if isinstance(result, ox.QueryBoolean):
            head: dict[str, Any] = {"kind": "boolean", "value": bool(result), "truncated": False}
        else:
            head = {"kind": "solutions", "vars": [v.value for v in result.variables], "truncated": False}
        return QueryResult(kind=head["kind"], head=head, chunks=iter([run.body]), body=run.body)

    # The internal look-ups decode ``terms`` answers exactly as the embedded client does.
    select = StoreClient.select
    construct = StoreClient.construct
    ask = StoreClient.ask
    update = StoreClient.update
    apply = StoreClient.apply

    def _solutions(self, sparql: str, timeout: float | None = None, raw: bool = False) -> Iterator[Any]:
        return iter(self._query_http(sparql, timeout=timeout, raw=raw)())

    # -- the dataset as a snapshot ---------------------------------------------------------

    def _snapshot(self) -> ox.Store:
        """The store's whole dataset (empty named graphs included) in an in-memory pyoxigraph store."""
        store = ox.Store()
        rows = self._solutions(self.dialect.all_quads_query(), timeout=self.update_timeout, raw=True)
        from_store = self.dialect.from_store
        store.extend(ox.Quad(r["s"], r["p"], r["o"], g) for r in rows if (g := from_store(r["g"])) is not None)
        for graph in self.named_graphs():
            store.add_graph(graph)
        return store

    # -- the store's version and the instances' write lock (STORE_STATE_GRAPH) --------------------------------

    def _state(self) -> tuple[tuple[str, ...], list[tuple[ox.NamedNode, int]]]:
        """The store's version (its values, sorted; none before the first write through the service) and the
        write lock's claims (writer, since when in epoch ms), in one small query."""
        rows = self._solutions(f"SELECT ?s ?p ?o WHERE {{ GRAPH {STATE} {{ ?s ?p ?o }} }}", raw=True)
        version, claims = [], []
        for r in rows:
            if r["s"] == STORE_NODE and r["p"] == VERSION:
                version.append(r["o"].value)
            elif r["p"] == SINCE and isinstance(r["s"], ox.NamedNode) and r["s"].value.startswith(WRITER_NS):
                try:
                    claims.append((r["s"], int(r["o"].value)))
                except ValueError:
                    continue
        return tuple(sorted(version)), claims

    def _saw(self, version: tuple[str, ...]) -> None:
        """Note the store's version: a version not seen last time is a new :attr:`generation`."""
        token = "|".join(version)
        with self._version_lock:
            if token != self._token:
                self._token = token
                self._seen += 1

    @property
    def generation(self) -> int:
        """What caches are keyed by: bumped whenever the store's version (a token every guarded write through any
        service instance replaces) differs from the one seen before.

        The version is read again once :attr:`version_ttl` seconds (STORE_VERSION_TTL) have passed since the last
        reading, by the first look-up after that (one small query; the others meanwhile use the value they have);
        a write through this process is seen at once. Writes made to the store by other clients do not change the
        version until a guarded write or ``dprk-kg store-check --refresh`` finds them (:class:`Fingerprint`).
        """
        if time.monotonic() >= self._version_due and self._refreshing.acquire(blocking=False):
            try:
                self._version_due = time.monotonic() + self.version_ttl
                self._saw(self._state()[0])
            except StoreError as exc:  # the store is unreachable: requests will say so; keep the last version
                log.warning("could not read the store's version: %s", exc)
            finally:
                self._refreshing.release()
        return self._seen

    @property
    def version_token(self) -> str | None:
        """The store's version as last read (``None`` before it was read): the same at every instance on this
        store, where :attr:`generation` is a count of this process's — what shared ETags are made of."""
        return self._token

    def _lease_ms(self) -> int:
        """How long a claim on the write lock holds: past it, the claimant is taken for dead and its claim ignored."""
        return int((3 * self.update_timeout + 2 * self.query_timeout) * 1000)

    def _lock(self) -> tuple[ox.Quad, tuple[str, ...], float]:
        """Take the store's write lock: this instance's claim, the store's version read under it, and when.

        Why a lock: a store need not run concurrent updates in isolation — the Oxigraph server does not (two
        conditional updates arriving together both see the old version and both apply) — so the version check
        in the update alone cannot keep two instances from both writing. Each instance writes its claim, THEN
        reads every claim: of two that do so at once, the later reader sees the earlier's claim, so at most one
        sees none but its own and goes on; the others take theirs back and try again after a random pause.
        Only the check and the update are under the lock; snapshots and validation are not.
        """
        deadline = time.monotonic() + self.update_timeout
        pause = 0.005
        while True:
            since = int(time.time() * 1000)
            claim = ox.Quad(ox.NamedNode(WRITER_NS + uuid.uuid4().hex), SINCE, ox.Literal(str(since),
                            datatype=XSD_INTEGER), STATE)
            self._update_http(f"INSERT DATA {{ {_quad_text(claim)} }}")
            taken = time.monotonic()
            try:
                version, claims = self._state()
                now, lease = int(time.time() * 1000), self._lease_ms()
                stale = [ox.Quad(w, SINCE, ox.Literal(str(t), datatype=XSD_INTEGER), STATE)
                         for w, t in claims if now - t > lease]
                if stale:
                    log.warning("removing %d stale claims on the store's write lock (older than %d ms)", len(stale),
                                lease)
                    self._update_http("DELETE DATA {\n" + "\n".join(_quad_text(q) for q in stale) + "\n}")
            except BaseException:
                self._unlock(claim)  # never left behind to block the others until it expires
                raise
            if not [w for w, t in claims if w != claim.subject and now - t <= lease]:
                return claim, version, taken
            self._unlock(claim)
            if time.monotonic() > deadline:
                raise StoreError("conflict", f"other service instances kept the store's write lock for "
                                             f"{self.update_timeout:g} s (setting UPDATE_TIMEOUT); try again")
            time.sleep(random.uniform(0, pause))
            pause = min(pause * 2, 0.25)

    def _unlock(self, claim: ox.Quad) -> None:
        self._update_http(f"DELETE DATA {{ {_quad_text(claim)} }}")

    def _send_change(self, before: ox.Store, after: ox.Store, read: tuple[str, ...] = (),
                     held: tuple[ox.Quad, tuple[str, ...], float] | None = None) -> None:
        """Write the difference between two states of the dataset as one conditional SPARQL Update.

        ``read``: the store's version read before ``before`` was. Under the store's write lock
        (:meth:`_lock`): the version is checked (another → :class:`_Conflict`, nothing sent), the update
        sent (:func:`change_update` with a fresh version), the version read back (ours → committed);
        graphs the change drops are then removed, empty, with ``DROP`` (not conditional in SPARQL: the
        lock and the read-back make it safe). Raises :class:`_Conflict` when the store had changed.
        ``held``: the lock, taken by the caller before its snapshot (:meth:`call`'s last attempt).
        """
        (old, old_graphs), (new, new_graphs) = self.dialect.kept(before), self.dialect.kept(after)
        if old == new and old_graphs == new_graphs:
            return
        fresh = uuid.uuid4().hex
        text = change_update(old, new, old_graphs, new_graphs, insert=self.dialect.insert, guard=(read, fresh))
        if self.dialect.fingerprints:
            text += " ;\n" + _fingerprint_update(fresh, Fingerprint.of(after))
        dropped = sorted(old_graphs - new_graphs, key=str) if self.dialect.empty_graphs else []
        self._commit(text, read, fresh, held, dropped)

    def _commit(self, text: str, read: tuple[str, ...], fresh: str,
                held: tuple[ox.Quad, tuple[str, ...], float] | None = None, dropped: Iterable[Any] = ()) -> None:
        """Send an update made conditional on the version ``read`` (it sets ``fresh``) under the write lock,
        as :meth:`_send_change` says; :class:`_Conflict` when the store's version was no longer ``read``."""
        if held is None:
            claim, version, taken = self._lock()
        else:
            (claim, _, taken), version = held, self._state()[0]  # writes behind the lock still show here
        try:
            if version != read:
                raise _Conflict
            if time.monotonic() - taken > self.update_timeout:  # the claim must outlive the update: take it again
                raise _Conflict
            self._update_http(text)
            committed = self._state()[0]
            if committed != (fresh,):
                raise _Conflict
            if dropped:
                self._update_http(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in dropped))
        finally:
            if held is None:
                self._unlock(claim)
        self._saw((fresh,))

    # -- writes behind the service's back (the recorded fingerprint) --------------------------------------------

    def _recorded(self) -> tuple[tuple[str, ...], Fingerprint | None]:
        """The store's version and the fingerprint the last write through the service recorded, in one query."""
        rows = self._solutions(f"SELECT ?p ?o WHERE {{ GRAPH {STATE} {{ {STORE_NODE} ?p ?o }} }}", raw=True)
        version, recorded = [], None
        for r in rows:
            if r["p"] == VERSION:
                version.append(r["o"].value)
            elif r["p"] == FINGERPRINT:
                recorded = Fingerprint.parse(r["o"].value)
        return tuple(sorted(version)), recorded

    def _record(self, read: tuple[str, ...], seen: Fingerprint,
                held: tuple[ox.Quad, tuple[str, ...], float] | None = None) -> tuple[str, ...]:
        """Record ``seen`` as the dataset's fingerprint and replace the version (so every instance's caches are
        emptied), conditional on the version being ``read``; the new version (:class:`_Conflict` if it was not)."""
        fresh = uuid.uuid4().hex
        text = _guarded_update((read, fresh), set(), set(), set(), set(), set(), {})
        self._commit(text + " ;\n" + _fingerprint_update(fresh, seen), read, fresh, held)
        return (fresh,)

    def _outside_write(self, read: tuple[str, ...], recorded: Fingerprint, seen: Fingerprint,
                       held: tuple[ox.Quad, tuple[str, ...], float] | None) -> tuple[str, ...]:
        """A snapshot is not what the last write through the service left: if the version still is ``read``
        (not another instance's write since), another client wrote behind the service's back — warn, count it
        (:attr:`outside_writes`, a metric) and record the new state with a new version; the version to go on with."""
        if self._state()[0] != read:
            raise _Conflict  # another instance wrote between our reading and our snapshot: not an outside write
        self.outside_writes += 1
        log.warning("the store was written to behind the service's back: the last write through the service left "
                    "%s; it now holds %s (%+d quads); caches of every instance are emptied", _quads(recorded.count),
                    _quads(seen.count), seen.count - recorded.count)
        return self._record(read, seen, held)

    def check(self, refresh: bool = False) -> tuple[Fingerprint | None, Fingerprint, bool]:
        """Compare the store with the fingerprint the last write through the service recorded (``dprk-kg
        store-check``): (recorded, as it is now, whether ``refresh`` recorded the new one and replaced the version).

        Read again where another instance wrote between the version and the snapshot (the comparison would be
        with a fingerprint older than the snapshot).
        """
        if not self.dialect.fingerprints:
            raise StoreError("value", "writes behind the service's back cannot be detected on this store: it does "
                                      "not give back the quads it was sent as they were sent (Dialect.fingerprints)")
        for _ in range(WRITE_ATTEMPTS):
            read, recorded = self._recorded()
            seen = Fingerprint.of(self._snapshot())
            if recorded == seen:
                return recorded, seen, False
            if self._state()[0] != read:
                continue
            if not refresh:
                return recorded, seen, False
            try:
                self._record(read, seen)
            except _Conflict:
                continue
            return recorded, seen, True
        raise StoreError("conflict", f"the store kept changing while it was checked: tried {WRITE_ATTEMPTS} times")

    # -- operations -------------------------------------------------------------------------

    def call(self, op: str, *, timeout: float | None = None, **payload: Any) -> Any:
        """Run an operation of the worker's table: reads at the store, the others on a snapshot (module docstring).

        A write is validated on a snapshot and sent conditional on the store's version read before it
        (:meth:`_send_change`); where the store changed meanwhile — another service instance wrote — the
        whole operation runs again on a fresh snapshot, up to :data:`WRITE_ATTEMPTS` times, then fails with
        a ``conflict`` (409) and nothing changed. The last attempt takes the store's write lock before its
        snapshot, so that instances writing all the time cannot starve a write whose validation is slow;
        only a write made behind the lock (by another client) can then still refuse it.
        """
        local = {"ping": lambda: self.ping(), "graphs": lambda: [encode(g) for g in self.named_graphs()],
                 "graph_exists": lambda: self.graph_exists(decode(payload["graph"])),
                 "quads": lambda: [tuple(encode(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
                                   for q in self.quads(*(decode(t) if t is not None else None
                                                         for t in payload["pattern"]),
                                                       limit=payload.get("limit") or 0)]}
        if op in local:
            return local[op]()
        operation = OPERATIONS.get(op)
        if operation is None or op == "query" or op == "dump":
            raise StoreError("value", f"unknown store operation {op!r}")
        request = {"op": op, **payload}
        too_deep = Worker._too_deep(request, operation)
        if too_deep:
            raise StoreError("value", too_deep)
        if not operation.writes:
            return self._run(op, operation, request, self._snapshot())
        with self._write_lock:
            for attempt in range(WRITE_ATTEMPTS):
                held = self._lock() if attempt == WRITE_ATTEMPTS - 1 else None
                try:
                    # read before the snapshot: any write after this reading is a conflict
                    read, recorded = self._recorded()
                    store = self._snapshot()
                    seen = Fingerprint.of(store) if self.dialect.fingerprints else None
                    if seen is not None and recorded is not None and recorded != seen:
                        read = self._outside_write(read, recorded, seen, held)
                    before = ox.Store()
                    before.extend(store)
                    for graph in store.named_graphs():
                        before.add_graph(graph)
                    answer = self._run(op, operation, request, store)
                    if isinstance(answer, dict) and answer.get("applied") is False:
                        return answer
                    if self.before_send is not None:
                        self.before_send()
                    self._send_change(before, store, read, held)
                except _Conflict:
                    log.info("the store changed while a %s was validated (attempt %d of %d)", op, attempt + 1,
                             WRITE_ATTEMPTS)
                    time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
                    continue
                finally:
                    if held is not None:
                        self._unlock(held[0])
                return answer
        raise StoreError("conflict", f"the store kept changing while the {op.replace('_', ' ')} was validated "
                                     f"(other service instances writing): tried {WRITE_ATTEMPTS} times; nothing "
                                     "was changed, send it again")

    def _run(self, op: str, operation: Any, request: dict[str, Any], store: ox.Store) -> Any:
        """One worker operation on a snapshot; its answer (a refusal raised as the worker's error)."""
        conn = _Capture()
        try:
            operation.handler(_Mirror(self.settings, store), conn, request)  # type: ignore[arg-type]
        except Exception as exc:
            raise _error_from(exc) from exc
        kind, *rest = conn.messages[-1]
        if kind != "ok":
            raise StoreError("internal", f"no answer to {op}")
        return rest[0]

    # -- inspection ---------------------------------------------------------------------------

    def dump(self, media_type: str, graph: Any | None = None) -> Iterator[bytes]:
        """One graph, or the dataset without the derived graphs, serialized as the embedded store does."""
        fmt = STORE_FORMATS[media_type]
        sink = io.BytesIO()
        if graph is not None:
            kept = self.dialect.store_graph(graph)
            pattern = "{ ?s ?p ?o }" if isinstance(kept, ox.DefaultGraph) else f"{{ GRAPH {kept} {{ ?s ?p ?o }} }}"
            rows = self._solutions(f"SELECT ?s ?p ?o WHERE {pattern}", timeout=self.update_timeout, raw=True)
            triples = [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]
            ox.serialize(triples, sink, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TURTLE else None)
        else:
            quads = [q for q in self._snapshot() if derived.is_asserted(q.graph_name, union=self.union)]
            ox.serialize(quads, sink, fmt, prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        return iter([sink.getvalue()])

    def named_graphs(self) -> list[Any]:
        """The service's named graphs (as the store keeps them: :meth:`Dialect.named_graphs_query`).

        Asked once per :attr:`generation` where the dialect gives queries a dataset (it names them in each).
        """
        cached = self._graphs
        if cached is not None and cached[0] == self.generation:
            return list(cached[1])
        graphs = [g for g in (self.dialect.from_store(r["g"]) for r in
                              self._solutions(self.dialect.named_graphs_query(), raw=True))
                  if isinstance(g, ox.NamedNode)]
        if self.dialect.default_graph:
            self._graphs = (self.generation, graphs)
        return list(graphs)

    def graph_exists(self, graph: Any) -> bool:
        if isinstance(graph, ox.DefaultGraph):
            return True
        return graph in set(self.named_graphs())

    def quads(self, subject: Any = None, predicate: Any = None, object: Any = None, graph: Any = None,
              *, limit: int = 0) -> list[ox.Quad]:
        """Quads matching a pattern (``None`` = any), asked of the store as one SELECT."""
        s, p, o = (str(t) if t is not None else v for t, v in ((subject, "?s"), (predicate, "?p"), (object, "?o")))
        triple = f"{s} {p} {o}"
        kept = self.dialect.store_graph(graph)
        if graph is None:  # the dataset the dialect gives (the service's graphs)
            where = f"{{ {triple} }} UNION {{ GRAPH ?g {{ {triple} }} }}"
        elif isinstance(kept, ox.DefaultGraph):
            where = triple
        else:
            where = f"GRAPH {kept} {{ {triple} }}"
        text = f"SELECT * WHERE {{ {where} }}" + (f" LIMIT {int(limit)}" if limit else "")
        found = []
        for row in self._solutions(text, raw=graph is not None):
            g = graph if graph is not None else self.dialect.from_store(row["g"])
            if g is None:  # one of the store's own graphs
                continue
            found.append(ox.Quad(subject or row["s"], predicate or row["p"], object or row["o"], g))
        return found

    def ping(self) -> dict[str, Any]:
        """A round trip to the store (``ASK {}``)."""
        self._query_http("ASK {}", timeout=5.0)()
        return {"pid": None, "store": self.query_url}

    def close(self) -> None:
        """Close the kept-alive connections to the store."""
        self._connections.close()

    # -- first start -----------------------------------------------------------------------

    def _empty(self) -> bool:
        """Whether the store holds no quad of the service's (its own graph's version and claims not counted)."""
        return not bool(self._query_http(f"ASK {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} "
                                         f"FILTER(?g != {STATE}) }} }}", timeout=self.query_timeout)())

    def _first_load(self) -> None:
        """Load the bundled graph into an empty store, under the store's write lock (:meth:`_lock`).

        Why the lock: instances started together on an empty store would each find it empty and each load the
        bundled graph (blank nodes twice over, every count doubled). The first to hold the lock checks again that
        the store is empty and loads; the others wait for the lock (at most a claim's lease, :meth:`_lease_ms`,
        the time after which a claim is taken for a crashed instance's), then find it loaded.
        """
        if not self._empty():
            return
        deadline = time.monotonic() + self._lease_ms() / 1000
        while True:
            try:
                claim = self._lock()[0]
                break
            except StoreError as exc:  # another instance holds the lock the whole UPDATE_TIMEOUT: most likely loading
                if exc.kind != "conflict" or time.monotonic() > deadline:
                    raise
                log.info("another service instance holds the store's write lock (loading the bundled graph?); "
                         "waiting for it")
        try:
            self._load_if_empty()
        finally:
            self._unlock(claim)

    def _load_if_empty(self) -> None:
        """Load the bundled graph (with its derived graphs, as the embedded store keeps them) into an empty store."""
        if not self._empty():
            return
        started = time.perf_counter()
        store = ox.Store()
        load_into(store, data_root(self.settings), bulk=True)
        with tempfile.TemporaryDirectory(prefix="dprk-kg-load-") as scratch:  # the worker's derivation may spill here
            mirror = _Mirror({**self.settings, "STORE_DIR": scratch}, store)
            # Streamed to one dataset POST: each graph of the bundle written by pyoxigraph itself (with its copy in
            # the union default graph), then the entailed graph, computed and written by the engine one query at a
            # time (the store takes the first chunks meanwhile); never all in a list. Otherwise (batched updates, a
            # store holding derived graphs already) computed into the in-memory store first, as the embedded store
            # does.
            streamed = (derived.dataset_with_derived(store, union=mirror.union, entailment=mirror.entailment)
                        if self.graph_store_url and self.dialect.dataset_post else None)
            if streamed is None:
                if not mirror.bulk_derive():
                    mirror.rebuild_derived()
                self._post_dataset(store)
            else:
                self._post_dataset((), dumped=streamed)
        self._graphs = None
        log.info("loaded the bundled graph into the remote store (%d quads%s) in %.1f s", len(store),
                 " and the derived ones" if streamed is not None else "", time.perf_counter() - started)

    def _post_dataset(self, quads: Iterable[ox.Quad], dumped: Iterable[bytes] = ()) -> None:
        """Add quads to the store so that a blank node shared by two graphs stays one node.

        (Blank node labels are scoped to one document or one update.) Through the Graph Store as N-Quads in one
        request where the store accepts a dataset there (:class:`Dialect`), else as SPARQL Update
        (:meth:`Dialect.insert`): one, or batches of about :attr:`Dialect.update_quads` quads where the store
        limits an update's size, the quads of each blank node in one batch (:func:`batches`). The dataset POST
        is the store's bulk load where it has one (:attr:`Dialect.bulk_post`: this is the first load only).
        ``dumped``: N-Quads sent first (the dataset POST only: :func:`derived.dataset_with_derived`).
        """
        if self.graph_store_url and self.dialect.dataset_post:
            url = self.graph_store_url
            if self.dialect.bulk_post:
                url += ("&" if urllib.parse.urlsplit(url).query else "?") + self.dialect.bulk_post
            self._http("load", url, data=_progress(itertools.chain(dumped, _nquads_stream(quads))),
                       content_type="application/n-quads",
                       timeout=self.update_timeout)
            return
        if dumped:
            raise ValueError("dumped N-Quads can only be sent in a dataset POST")
        for batch in batches(list(quads), self.dialect.update_quads):
            self._update_http(self.dialect.insert(batch))

