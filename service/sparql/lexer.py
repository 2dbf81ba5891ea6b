"""The one SPARQL lexer and what is read with it: tokens (read once per text: :class:`Lexed`), prologues, the
query kind, nesting depth, the USING rewrite.

Why one lexer: the guard, the protocol, canned headers and the update delta must all see ``SERVICE``, ``LOAD``
or a bracket as the grammar does - never inside a string, an IRI or a comment, which regexes over raw text
cannot tell apart.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from service import problems

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


#: Texts up to this length have their derived forms cached (clients repeat queries). Longer ones are
#: not cached: a request reads its text once and passes the :class:`Lexed` along instead.
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


class Lexed:
    """A SPARQL text with its tokens, and the facts read from them (kind, nesting depth, keywords) once each.

    Why: a request's text is read by the protocol (its kind), the guard (its keywords, its
    depth) and the store worker (its depth, the data-update parse). A large update (an
    ``INSERT DATA`` of megabytes) is over the per-text caches' limit, so each of them
    would lex it afresh; lexing it once and handing this object along is the same reading
    at a fraction of the cost. Get one with :func:`lex`. Do not change ``tokens``.
    """

    __slots__ = ("_depth", "_words", "text", "tokens")

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self._depth: int | None = None
        self._words: frozenset[str] | None = None

    @property
    def depth(self) -> int:
        """The deepest nesting of brackets (never inside strings, IRIs or comments)."""
        if self._depth is None:
            depth = deepest = 0
            for token in self.tokens:
                if token.kind == "punct":
                    if token.text in _OPENERS:
                        depth += 1
                        deepest = max(deepest, depth)
                    elif token.text in _CLOSERS and depth:
                        depth -= 1
            self._depth = deepest
        return self._depth

    @property
    def words(self) -> frozenset[str]:
        """The keywords (and other bare words), upper-cased."""
        if self._words is None:
            self._words = frozenset(t.text.upper() for t in self.tokens if t.kind == "word")
        return self._words

    @property
    def kind(self) -> str | None:
        """What :func:`query_kind` says of the text."""
        tokens = self.tokens
        i = _after_prologue(tokens)
        if i < len(tokens) and tokens[i].is_word(*QUERY_FORMS):
            return tokens[i].text.lower()
        if i < len(tokens) and tokens[i].is_word(*UPDATE_WORDS):
            return "update"
        return None

    @property
    def empty(self) -> bool:
        """What :func:`is_empty_update` says of the text."""
        return _after_prologue(self.tokens) == len(self.tokens)


@short_text_cache
def _lex_text(text: str) -> Lexed:
    return Lexed(text, tokenize(text))


def lex(text: str | Lexed) -> Lexed:
    """``text`` with its tokens (itself if it is lexed already): the one way to read a text once for many checks.

    Texts up to the cache's limit share one :class:`Lexed` per text (and its facts, once read).
    """
    return text if isinstance(text, Lexed) else _lex_text(text)


def nesting_depth(text: str | Lexed) -> int:
    """The deepest nesting of brackets in a SPARQL text (never inside strings, IRIs or comments)."""
    return lex(text).depth


def nesting_problem(text: str | Lexed) -> str | None:
    """Why ``text`` may not reach an engine because it nests too deeply (naming the limit), or ``None``."""
    depth = lex(text).depth
    if depth <= MAX_NESTING_DEPTH:
        return None
    return (f"The SPARQL text nests brackets ({{ }}, ( ), [ ] or << >>) {depth} levels deep; at most "
            f"{MAX_NESTING_DEPTH} levels are accepted (limit MAX_NESTING_DEPTH), so that no request can overflow "
            "the parsers' stacks.")


def check_nesting(text: str | Lexed) -> None:
    """Refuse (400, naming the limit) a SPARQL text nested deeper than :data:`MAX_NESTING_DEPTH`."""
    problem = nesting_problem(text)
    if problem:
        raise problems.bad_request(problem)


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


def is_empty_update(text: str | Lexed) -> bool:
    """True for an update with no operation (only comments and declarations): valid SPARQL that does nothing."""
    return lex(text).empty


def query_kind(text: str | Lexed) -> str | None:
    """``select``/``ask``/``construct``/``describe`` for a query, ``update`` for an update, else ``None``.

    Reads the first keyword after the prologue. ``None`` means "not recognisable":
    the caller lets the store parse it, so the client gets the store's syntax error
    with its line and column.
    """
    return lex(text).kind


def add_using_clauses(update: str | Lexed, using: list[str], using_named: list[str]) -> str:
    """Apply ``using-graph-uri``/``using-named-graph-uri`` by writing USING clauses into the update.

    pyoxigraph's ``update()`` takes no dataset arguments, and the protocol defines these
    parameters as equivalent to USING/USING NAMED on every DELETE/INSERT operation. So a
    clause is inserted before the WHERE of each such operation; ``DELETE WHERE { P }``
    (which takes no USING) becomes its long form ``DELETE { P } USING … WHERE { P }``.
    An update that already says USING or WITH is refused (400), as the protocol requires.
    """
    text = update.text if isinstance(update, Lexed) else update
    if not using and not using_named:
        return text
    tokens = lex(update).tokens
    update = text
    depth = 0
    clause = "".join(f" USING <{iri}>" for iri in using) + "".join(f" USING NAMED <{iri}>" for iri in using_named)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text == "{":
            depth += 1
        elif token.kind == "punct" and token.text == "}":
            depth -= 1
        elif depth == 0 and token.is_word("USING", "WITH"):
            raise problems.bad_request(
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
