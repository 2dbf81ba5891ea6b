"""The fast path for a SPARQL Update made only of ``INSERT DATA`` / ``DELETE DATA``: parsed in linear time.

Why: rdflib's update parser (pyparsing) costs milliseconds per triple, and its
translation of a data block reorders the triples in quadratic time, so a large
``INSERT DATA`` took minutes while the same triples as Turtle took seconds. A request
that is only data needs no query engine: the one lexer (:func:`service.sparql.lexer.tokenize`)
recognises its shape, and pyoxigraph's own update parser reads each data block on an
empty in-memory store, which yields the quads exactly as the store will keep them
(fresh blank nodes, canonical literals). Anything else — or anything the recogniser is
unsure of — goes the general way (:func:`service.store.update_delta.compute_delta`).

No Flask here: this runs in the store worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from service.sparql.lexer import Lexed, Token, group_end, lex


@dataclass(frozen=True)
class DataOperation:
    """One ``INSERT DATA`` (``insert`` True) or ``DELETE DATA`` operation and its quads."""

    insert: bool
    quads: list[ox.Quad]


def _operations(sparql: str, tokens: list[Token]) -> list[tuple[bool, str]] | None:
    """(insert?, text pyoxigraph can run alone) per operation, or None when the request is not only data.

    Each operation's text repeats every BASE/PREFIX declared before it, in order, so it
    resolves names exactly as it would inside the whole request.
    """
    operations: list[tuple[bool, str]] = []
    prologue: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if token.is_word("BASE") and i + 1 < n and tokens[i + 1].kind == "iri":
            prologue.append(sparql[token.start:tokens[i + 1].end])
            i += 2
            continue
        if token.is_word("PREFIX") and i + 2 < n and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri":
            prologue.append(sparql[token.start:tokens[i + 2].end])
            i += 3
            continue
        if not (token.is_word("INSERT", "DELETE") and i + 1 < n and tokens[i + 1].is_word("DATA")):
            return None
        end = group_end(tokens, i + 2)
        if end is None:
            return None
        insert = token.is_word("INSERT")
        block = sparql[tokens[i + 2].start:tokens[end].end]
        operations.append((insert, "\n".join([*prologue, f"INSERT DATA {block}"])))
        i = end + 1
        if i < n:
            if not (tokens[i].kind == "punct" and tokens[i].text == ";"):
                return None
            i += 1
    return operations


def parse_data_update(sparql: str | Lexed, *, base_iri: str | None = None) -> list[DataOperation] | None:
    """The operations of an update made only of ``INSERT DATA``/``DELETE DATA``, or None for any other update.

    :raise SyntaxError: the request is not valid SPARQL (pyoxigraph's message, with the
        line and column in the request), or ``DELETE DATA`` contains blank nodes
        (SPARQL 1.1 Update §3.1.2).
    """
    lexed = lex(sparql)
    sparql, tokens = lexed.text, lexed.tokens
    if any(t.kind in ("var", "error") for t in tokens):
        return None
    operations = _operations(sparql, tokens)
    if not operations:
        return None
    kwargs = {"base_iri": base_iri} if base_iri else {}
    parsed: list[DataOperation] = []
    for insert, text in operations:
        scratch = ox.Store()
        try:
            scratch.update(text, **kwargs)
        except SyntaxError as exc:
            raise _where(sparql, kwargs) or exc from None
        quads = list(scratch)
        if not insert and any(isinstance(t, ox.BlankNode) for q in quads
                              for t in (q.subject, q.object, q.graph_name)):
            raise SyntaxError("blank nodes are not allowed in DELETE DATA (SPARQL 1.1 Update §3.1.2)")
        parsed.append(DataOperation(insert, quads))
    return parsed


def _where(sparql: str, kwargs: dict[str, str]) -> SyntaxError | None:
    """pyoxigraph's error for the whole request, so its line and column are those of the request."""
    try:
        ox.Store().update(sparql, **kwargs)
    except SyntaxError as exc:
        return exc
    except Exception:  # noqa: S110 - only the syntax error's position matters here
        pass
    return None
