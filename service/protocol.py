"""The SPARQL 1.1 Protocol, request side: from an HTTP request to a checked :class:`SparqlRequest`.

Why one module: every way the protocol allows to send an operation (GET, POST form,
POST direct) must end in the same typed request, and every way to get it wrong must
end in the same precise 400/405/413/415 naming the parameter — so the checks live
here once. It also holds the SPARQL lexer (:func:`tokenize`) that the rest of the
protocol layer reads queries with: the query kind decides the result format before
the store is asked, and the security checks must find ``SERVICE``, ``LOAD`` and
``FROM`` as *keywords* — never inside a string, an IRI or a comment, which regexes
over raw text cannot tell apart.

Specification: https://www.w3.org/TR/sparql11-protocol/ (sections 2.1 query, 2.2 update).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import pyoxigraph as ox
from flask import Request, current_app

from . import errors
from .store import StoreError, StoreInterrupted, StoreTimeout

log = logging.getLogger(__name__)

# -- the lexer --------------------------------------------------------------------------------
# Terminals of https://www.w3.org/TR/sparql11-query/#grammar (section 19.8), with the \u/\U
# escapes pyoxigraph accepts inside IRIs and strings.

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

_TOKEN = re.compile(
    "|".join(
        (
            r"(?P<ws>\s+)",
            r"(?P<comment>#[^\r\n]*)",
            r'(?P<string>"""(?:"{0,2}(?:[^"\\]|\\.))*"""'
            r"|'''(?:'{0,2}(?:[^'\\]|\\.))*'''"
            r'|"(?:[^"\\\r\n]|\\.)*"'
            r"|'(?:[^'\\\r\n]|\\.)*')",
            rf"(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)",
            rf"(?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)",
            rf"(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)",
            rf"(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)",
            r"(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",
            r"(?P<number>[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.?[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+)",
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<punct>\^\^|<<|>>|<=|>=|!=|&&|\|\||[{}()\[\];,.*+\-/!=<>^|?$@])",
            r"(?P<error>.)",
        )
    ),
    re.DOTALL,
)


class Token(NamedTuple):
    """One lexical token: its kind, its text, and where it is in the source (``start``/``end`` offsets).

    A named tuple rather than a dataclass: a query makes hundreds of tokens, and tuples
    are much cheaper to build.
    """

    kind: str  # iri | string | var | bnode | pname | langtag | number | word | punct | error
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True if this is one of the keywords ``words`` (SPARQL keywords are case-insensitive)."""
        return self.kind == "word" and self.text.upper() in words


#: Texts up to this length have their derived forms cached (every request lexes its text two or
#: three times: query kind, security checks; clients also repeat queries). Longer ones are not cached.
_CACHED_TEXT_LIMIT = 64 * 1024

_T = TypeVar("_T")


def short_text_cache(function: Callable[..., _T]) -> Callable[..., _T]:
    """Cache a pure function of a text (``str`` or ``bytes``, then hashable arguments) for texts up to 64 KiB.

    The one caching policy for per-text work on the request path (lexing, form parsing, the
    SERVICE guard's keywords): 256 entries, long texts computed each time. Results may be
    shared between callers: do not change them.
    """
    cached = functools.lru_cache(maxsize=256)(function)

    @functools.wraps(function)
    def wrapper(text: Any, *args: Any) -> _T:
        return cached(text, *args) if len(text) <= _CACHED_TEXT_LIMIT else function(text, *args)

    return wrapper


@short_text_cache
def tokenize(text: str) -> list[Token]:
    """Split SPARQL text into tokens; whitespace and comments are dropped.

    Never raises: a character that starts no token becomes an ``error`` token and the
    store reports the syntax error with its line and column. The list may be shared
    between callers (a cache): do not change it.
    """
    return [Token(match.lastgroup or "error", match.group(), match.start(), match.end())
            for match in _TOKEN.finditer(text) if match.lastgroup not in ("ws", "comment")]


#: Deepest nesting of ``{``, ``(``, ``[`` and ``<<`` (any mix) a SPARQL text may have.
#: Why a limit: both engines parse recursively. pyoxigraph's parser overflows its stack
#: and kills the store worker at a few thousand levels; its time grows with about the
#: fourth power of the depth of nested ``[ … ]``, ``( … )`` and ``<< … >>`` terms; rdflib's
#: parser (write validation) raises RecursionError beyond a few dozen levels. The W3C test
#: suites and the canned queries nest at most 9 levels.
MAX_NESTING_DEPTH = 64

_OPENERS = frozenset({"{", "(", "[", "<<"})
_CLOSERS = frozenset({"}", ")", "]", ">>"})


@short_text_cache
def nesting_depth(text: str) -> int:
    """The deepest nesting of brackets in a SPARQL text (never inside strings, IRIs or comments)."""
    depth = deepest = 0
    for token in tokenize(text):
        if token.kind == "punct":
            if token.text in _OPENERS:
                depth += 1
                deepest = max(deepest, depth)
            elif token.text in _CLOSERS and depth:
                depth -= 1
    return deepest


def nesting_problem(text: str) -> str | None:
    """Why ``text`` may not reach an engine because it nests too deeply (naming the limit), or ``None``."""
    depth = nesting_depth(text)
    if depth <= MAX_NESTING_DEPTH:
        return None
    return (f"The SPARQL text nests brackets ({{ }}, ( ), [ ] or << >>) {depth} levels deep; at most "
            f"{MAX_NESTING_DEPTH} levels are accepted (limit MAX_NESTING_DEPTH), so that no request can overflow "
            "the parsers' stacks.")


def check_nesting(text: str) -> None:
    """Refuse (400, naming the limit) a SPARQL text nested deeper than :data:`MAX_NESTING_DEPTH`."""
    problem = nesting_problem(text)
    if problem:
        raise errors.bad_request(problem)


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})|\\(.)", re.DOTALL)


def _unescape_iri(body: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None else m.group(0), body)


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local)


@dataclass
class Prologue:
    """The BASE and PREFIX declarations of a query or update, to resolve IRIs as the store will."""

    base: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    def resolve(self, token: Token) -> str | None:
        """The absolute IRI an ``iri`` or ``pname`` token stands for (``None`` if it is not one or unknown)."""
        if token.kind == "iri":
            iri = _unescape_iri(token.text[1:-1])
        elif token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes:
                return None
            iri = self.prefixes[prefix] + _unescape_local(local)
        else:
            return None
        if self.base and not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri):
            iri = urllib.parse.urljoin(self.base, iri)
        return iri


def read_prologues(tokens: list[Token], base: str | None = None) -> Prologue:
    """Collect every BASE/PREFIX declaration (updates may declare more between operations)."""
    prologue = Prologue(base=base)
    for i, token in enumerate(tokens):
        if token.is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            prologue.base = prologue.resolve(tokens[i + 1])
        elif (token.is_word("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
              and tokens[i + 2].kind == "iri"):
            prologue.prefixes[tokens[i + 1].text[:-1]] = prologue.resolve(tokens[i + 2]) or ""
    return prologue


QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


def _after_prologue(tokens: list[Token]) -> int:
    """Index of the first token after the BASE/PREFIX declarations that open ``tokens``."""
    i = 0
    while i < len(tokens):
        if tokens[i].is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            i += 2
        elif (tokens[i].is_word("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
              and tokens[i + 2].kind == "iri"):
            i += 3
        else:
            break
    return i


def is_empty_update(text: str) -> bool:
    """True for an update with no operation (only comments and declarations): valid SPARQL that does nothing."""
    tokens = tokenize(text)
    return _after_prologue(tokens) == len(tokens)


def query_kind(text: str) -> str | None:
    """``select``/``ask``/``construct``/``describe`` for a query, ``update`` for an update, else ``None``.

    Reads the first keyword after the prologue. ``None`` means "not recognisable":
    the caller lets the store parse it, so the client gets the store's syntax error
    with its line and column.
    """
    tokens = tokenize(text)
    i = _after_prologue(tokens)
    if i < len(tokens) and tokens[i].is_word(*QUERY_FORMS):
        return tokens[i].text.lower()
    if i < len(tokens) and tokens[i].is_word(*UPDATE_WORDS):
        return "update"
    return None


# -- USING clauses for updates (protocol section 2.2.3) ---------------------------------------


def add_using_clauses(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply ``using-graph-uri``/``using-named-graph-uri`` by writing USING clauses into the update.

    pyoxigraph's ``update()`` takes no dataset arguments, and the protocol defines these
    parameters as equivalent to USING/USING NAMED on every DELETE/INSERT operation. So a
    clause is inserted before the WHERE of each such operation; ``DELETE WHERE { P }``
    (which takes no USING) becomes its long form ``DELETE { P } USING … WHERE { P }``.
    An update that already says USING or WITH is refused (400), as the protocol requires.
    """
    if not using and not using_named:
        return update
    tokens = tokenize(update)
    depth = 0
    clause = "".join(f" USING <{iri}>" for iri in using) + "".join(f" USING NAMED <{iri}>" for iri in using_named)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text == "{":
            depth += 1
        elif token.kind == "punct" and token.text == "}":
            depth -= 1
        elif depth == 0 and token.is_word("USING", "WITH"):
            raise errors.bad_request(
                f"The update contains {token.text.upper()}; it may not be combined with the using-graph-uri or "
                "using-named-graph-uri parameters (SPARQL 1.1 Protocol, section 2.2.3)."
            )
        elif depth == 0 and token.is_word("WHERE"):
            if i > 0 and tokens[i - 1].is_word("DELETE"):
                end = group_end(tokens, i + 1)
                if end is None:
                    continue  # malformed: the store reports it
                pattern = update[tokens[i + 1].start:tokens[end].end]
                edits.append((token.start, tokens[end].end, f"{pattern}{clause} WHERE {pattern}"))
            else:
                edits.append((token.start, token.start, clause.lstrip() + " "))
    for start, end, text in reversed(edits):
        update = update[:start] + text + update[end:]
    return update


def group_end(tokens: list[Token], start: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``tokens[start]``."""
    if start >= len(tokens) or tokens[start].text != "{":
        return None
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j].kind == "punct" and tokens[j].text == "{":
            depth += 1
        elif tokens[j].kind == "punct" and tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    return None


# -- the request ------------------------------------------------------------------------------

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"

#: Parameters of https://www.w3.org/TR/sparql11-protocol/. Others are ignored (SPARQLWrapper, for one, sends
#: ``format``/``output``/``results``: the Accept header decides), except our non-standard ``download``.
QUERY_PARAMETERS = ("query", "default-graph-uri", "named-graph-uri")
UPDATE_PARAMETERS = ("update", "using-graph-uri", "using-named-graph-uri")
_COUNTERPART = {"default-graph-uri": "using-graph-uri", "named-graph-uri": "using-named-graph-uri",
                "using-graph-uri": "default-graph-uri", "using-named-graph-uri": "named-graph-uri"}


@dataclass
class SparqlRequest:
    """A checked protocol request: one query or one update, with its dataset parameters.

    ``download`` is the non-standard ``download`` parameter: a format name (see
    :func:`service.negotiation.by_name`) that overrides Accept and makes the response an
    attachment — the query page's download links use it.
    """

    operation: str  # "query" | "update"
    text: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    download: str | None = None

    @property
    def has_dataset(self) -> bool:
        """True if the protocol's dataset parameters were given (they replace the default dataset)."""
        return bool(self.default_graphs or self.named_graphs)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.bad_request(f"The {what} is not valid UTF-8 (byte {exc.start}).") from exc


@short_text_cache
def parse_pairs(data: bytes, what: str) -> list[tuple[str, str]]:
    """Parse ``application/x-www-form-urlencoded`` strictly: bytes that are not UTF-8 are a 400.

    Cached (clients repeat their queries, and a query string takes longer to decode than a
    small query takes to run). Callers must not change the list.
    """
    text = _decode(data, what)
    try:
        return urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise errors.bad_request(f"The {what} has a percent-encoded value that is not valid UTF-8.") from exc


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    return (request.mimetype or "").lower(), {k.lower(): v for k, v in request.mimetype_params.items()}


def read_body(request: Request) -> bytes:
    """The request body, refused with 413 (naming MAX_BODY_BYTES) when larger than the limit.

    The body was already read once, to ``limit + 1`` bytes whatever its framing, by the one
    reader in front of the app (:mod:`service.bodies`); this is a cheap second check.
    """
    limit = int(current_app.config["MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise errors.payload_too_large(limit, request.content_length)
    return request.get_data(cache=True)


def _body_text(request: Request, media_type: str, params: dict[str, str]) -> str:
    """The body of a direct POST as text: the protocol carries queries and updates in UTF-8 only."""
    charset = params.get("charset", "utf-8").strip().lower()
    if charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise errors.unsupported_media_type(
            f"{media_type}; charset={charset}", [f"{QUERY_TYPE}; charset=utf-8", f"{UPDATE_TYPE}; charset=utf-8"])
    return _decode(read_body(request), "request body")


def _single(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name, [])
    if len(found) > 1:
        raise errors.bad_request(f"The '{name}' parameter was given {len(found)} times; give it exactly once.")
    return found[0] if found else None


def _graph_iris(values: dict[str, list[str]], name: str) -> list[str]:
    iris = []
    for value in values.get(name, []):
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            raise errors.bad_request(f"The '{name}' parameter {value!r} is not an absolute IRI: {exc}") from exc
        if value.lower().startswith("file:"):
            raise errors.bad_request(f"The '{name}' parameter <{value}> is a file: IRI; graphs are named by IRIs "
                                     "of graphs in the store, and files are never read.")
        iris.append(value)
    return iris


_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def expand_codepoint_escapes(text: str, name: str) -> str:
    """Replace ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes everywhere, once, before anything parses the text.

    Why: SPARQL 1.1 §19.2 processes these escapes before parsing, and rdflib (which
    computes the delta that write validation checks) does, while pyoxigraph expands them
    only inside strings and IRIs. Two parsers reading one text differently would let an
    update hide operations from validation; expanding here gives every parser — our
    lexer, the SERVICE guard, rdflib and pyoxigraph — the same text.
    """
    if "\\u" not in text and "\\U" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise errors.bad_request(f"The '{name}' parameter has an invalid codepoint escape {match.group(0)!r}.")
        return chr(code)

    return _CODEPOINT_ESCAPE.sub(replace, text)


def parse_request(request: Request) -> SparqlRequest | None:
    """Read one SPARQL protocol request; ``None`` for a GET that carries no operation.

    Raises :class:`~service.errors.ApiError`: 400 for missing, repeated or conflicting
    parameters and for bodies that are not UTF-8; 405 for an update sent with GET; 413
    above MAX_BODY_BYTES; 415 for other content types.
    """
    values: dict[str, list[str]] = {}

    def add(pairs: list[tuple[str, str]]) -> None:
        for key, value in pairs:
            values.setdefault(key, []).append(value)

    add(parse_pairs(request.query_string, "query string"))
    if request.method == "POST":
        media_type, params = _media_type(request)
        if media_type == FORM_TYPE:
            add(parse_pairs(read_body(request), "form body"))
        elif media_type in (QUERY_TYPE, UPDATE_TYPE):
            name = "query" if media_type == QUERY_TYPE else "update"
            if "query" in values or "update" in values:
                raise errors.bad_request(f"A POST with Content-Type {media_type} carries the {name} in its body; "
                                         "the URL may not also have a 'query' or 'update' parameter.")
            text = _body_text(request, media_type, params)
            if name == "query" and not text.strip():
                raise errors.bad_request("The request body is empty: it should be the SPARQL query.")
            values[name] = [text]
        else:
            raise errors.unsupported_media_type(request.content_type, [QUERY_TYPE, UPDATE_TYPE, FORM_TYPE])

    query, update = _single(values, "query"), _single(values, "update")
    if query is not None and update is not None:
        raise errors.bad_request("Both 'query' and 'update' were given; a request carries one or the other.")
    download = _single(values, "download")
    if update is not None:
        if request.method == "GET":
            raise errors.method_not_allowed(
                "SPARQL updates must be sent with POST: the 'update' parameter is not allowed in a GET request.",
                ["POST"])
        for name in QUERY_PARAMETERS[1:]:
            if name in values:
                raise errors.bad_request(f"The '{name}' parameter belongs to queries; for updates use "
                                         f"'{_COUNTERPART[name]}'.")
        update = expand_codepoint_escapes(update, "update")
        return SparqlRequest("update", update, _graph_iris(values, "using-graph-uri"),
                             _graph_iris(values, "using-named-graph-uri"))
    for name in UPDATE_PARAMETERS[1:]:
        if name in values:
            raise errors.bad_request(f"The '{name}' parameter belongs to updates; for queries use "
                                     f"'{_COUNTERPART[name]}'.")
    if query is None:
        if request.method == "GET" and not any(name in values for name in (*QUERY_PARAMETERS, "download")):
            return None  # a description (a 'download' asks for a query's answer: without one it is a 400)
        raise errors.bad_request("The 'query' parameter is missing (or 'update', sent with POST).")
    if not query.strip():
        raise errors.bad_request("The 'query' parameter is empty.")
    query = expand_codepoint_escapes(query, "query")
    return SparqlRequest("query", query, _graph_iris(values, "default-graph-uri"),
                         _graph_iris(values, "named-graph-uri"), download)


def graph_terms(iris: list[str]) -> list[ox.NamedNode]:
    """IRIs (already checked) as pyoxigraph terms, for the store's dataset arguments."""
    return [ox.NamedNode(iri) for iri in iris]


# -- store errors -----------------------------------------------------------------------------

_POSITION = re.compile(r"^error at (\d+):(\d+): ?")


def syntax_message(message: str, what: str = "query") -> str:
    """pyoxigraph's 'error at L:C: …' as a sentence that names the line and the column."""
    match = _POSITION.match(message)
    if match:
        return (f"Syntax error in the {what} at line {match.group(1)}, column {match.group(2)}: "
                f"{message[match.end():]}")
    return f"Syntax error in the {what}: {message}"


@contextlib.contextmanager
def store_errors(what: str = "query", timeout_setting: str = "QUERY_TIMEOUT") -> Iterator[None]:
    """Turn the store's errors into protocol errors (the one place that maps them).

    Syntax and value errors are the client's (400, with the store's position); a
    timeout is 503 naming the setting; a refused write is 403; anything else is a 500
    whose details stay in the server log.
    """
    try:
        yield
    except StoreTimeout as exc:
        raise errors.timeout(exc.limit, timeout_setting) from exc
    except StoreInterrupted as exc:
        message = exc.message[:1].upper() + exc.message[1:] + "."
        raise errors.ApiError(503, message, title="Service Unavailable", headers={"Retry-After": "1"}) from exc
    except StoreError as exc:
        if exc.kind == "syntax":
            raise errors.bad_request(syntax_message(exc.message, what)) from exc
        if exc.kind == "value":
            raise errors.bad_request(f"The {what} was refused: {exc.message}") from exc
        if exc.kind == "conflict":  # the request is valid but the store's state refuses it
            raise errors.ApiError(409, f"The {what} was refused: {exc.message}", title="Conflict") from exc
        if exc.kind == "forbidden":
            raise errors.forbidden(exc.message) from exc
        if exc.kind == "os" and "restarted" in exc.message:
            message = exc.message[:1].upper() + exc.message[1:] + "."
            raise errors.ApiError(503, message, title="Service Unavailable", headers={"Retry-After": "1"}) from exc
        log.error("store error (%s) during a %s: %s", exc.kind, what, exc.message)
        raise errors.ApiError(500, f"The store failed to run the {what}; the details are in the server log.",
                              title="Internal Server Error") from exc
