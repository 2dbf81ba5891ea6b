"""Who may write, and what a query may make the server fetch (no server-side request forgery).

Why here, before the store sees anything: pyoxigraph evaluates ``SERVICE`` itself over
HTTP — with no time limit, no row cap and no notion of which hosts are fine to call —
and would follow ``LOAD <iri>``. So every operation is read with the protocol lexer
(keywords only: never text inside strings, IRIs or comments) and:

* ``LOAD`` is refused, always (400 naming the IRI): the service never fetches data.
  ``LOAD SILENT`` is dropped instead (:func:`drop_silent_loads`): a failing SILENT load
  succeeds and changes nothing, as SPARQL 1.1 Update requires.
* ``FROM``/``FROM NAMED``/``USING``/``USING NAMED``/``WITH`` only *name graphs of the store*;
  pyoxigraph never dereferences them (a graph that is not in the store is empty, the
  standard dataset semantics of a store). ``file:`` IRIs there are refused all the same,
  so no reader can mistake them for file access.
* ``SERVICE ?var`` is refused (the endpoint would be chosen by data); ``SERVICE <iri>``
  must be on SERVICE_ALLOWLIST. Allowed blocks are evaluated *here*, by
  :func:`fetch_solutions` — a bounded HTTP client (the endpoint's timeout, row cap,
  byte cap, no redirects) — and the block is replaced by a ``VALUES`` block holding its
  solutions, which is the same solution sequence joined at the same place (SPARQL 1.1
  Federated Query, section 3). The store therefore never opens a connection. A failed
  call is a 502 naming the endpoint; ``SERVICE SILENT`` turns a failure into one empty
  solution, as the specification says.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from service import problems
from service.sparql.federation import ServiceFailure, fetch_solutions, remote_query, values_block
from service.sparql.lexer import (
    Lexed,
    Prologue,
    Token,
    _after_prologue,
    check_nesting,
    group_end,
    lex,
    read_prologues,
)

log = logging.getLogger(__name__)


#: The ``cause`` of the guard's refusals (:class:`~service.problems.ApiError`): the web tier counts them apart.
CAUSE = "guard"


def _refused(message: str) -> problems.ApiError:
    """A 400 refusal by the guard (its message names the IRI or the limit)."""
    return problems.bad_request(message, cause=CAUSE)


#: At most this many SERVICE blocks per operation (each may take its endpoint's timeout).
MAX_SERVICE_CALLS = 8


@dataclass
class ServiceBlock:
    """One ``SERVICE [SILENT] <endpoint> { … }`` of an operation, located by character offsets."""

    endpoint: str
    silent: bool
    start: int
    end: int
    group: str  # the "{ … }" text
    nested: bool = False


@dataclass
class Prepared:
    """An operation made safe to give to the store: its text, and whether SERVICE results were cut."""

    text: str
    truncated: bool = False
    services: list[str] = field(default_factory=list)


def _iri_after(tokens: list[Token], i: int, prologue: Prologue) -> tuple[str | None, Token | None]:
    token = tokens[i] if i < len(tokens) else None
    if token is None:
        return None, None
    return prologue.resolve(token), token


def _refuse_file(keyword: str, iri: str | None) -> None:
    if iri and iri.lower().startswith("file:"):
        raise _refused(f"{keyword} <{iri}> is refused: file: IRIs are never read; {keyword} names a graph "
                       "of the store.")


def find_services(text: str | Lexed, base_iri: str | None,
                  allowlist: dict[str, Any]) -> tuple[list[ServiceBlock], Prologue]:
    """Check an operation and locate its SERVICE blocks (400 for anything refused).

    Raises 400 for ``LOAD``, ``SERVICE ?var``, a SERVICE endpoint not on the allow-list,
    and ``file:`` IRIs in dataset clauses — each message names the IRI.
    """
    lexed = lex(text)
    text, tokens = lexed.text, lexed.tokens
    prologue = read_prologues(tokens, base_iri)
    blocks: list[ServiceBlock] = []
    for i, token in enumerate(tokens):
        if token.is_word("LOAD"):
            j = i + 1 + (1 if i + 1 < len(tokens) and tokens[i + 1].is_word("SILENT") else 0)
            iri, source = _iri_after(tokens, j, prologue)
            shown = f"<{iri}>" if iri else (source.text if source else "")
            raise _refused(f"LOAD {shown} is refused: this service never fetches data from other sites or "
                           "files. Send the data in the request (Graph Store Protocol PUT/POST) instead.")
        if token.is_word("FROM", "USING", "WITH"):
            j = i + 1 + (1 if token.is_word("FROM", "USING") and i + 1 < len(tokens)
                         and tokens[i + 1].is_word("NAMED") else 0)
            _refuse_file(token.text.upper(), _iri_after(tokens, j, prologue)[0])
        if token.is_word("SERVICE"):
            silent = i + 1 < len(tokens) and tokens[i + 1].is_word("SILENT")
            j = i + 1 + (1 if silent else 0)
            iri, source = _iri_after(tokens, j, prologue)
            if source is not None and source.kind == "var":
                raise _refused(f"SERVICE {source.text} is refused: the endpoint must be an IRI on the "
                               "allow-list (setting SERVICE_ALLOWLIST), not chosen by a variable.")
            if iri is None:
                continue  # not a SERVICE clause the store could run: it reports the syntax error
            if iri not in allowlist:
                allowed = ", ".join(f"<{e}>" for e in allowlist) or "none"
                raise _refused(f"SERVICE <{iri}> is refused: it is not on the allow-list "
                               f"(setting SERVICE_ALLOWLIST; allowed: {allowed}).")
            end = group_end(tokens, j + 1)
            if end is None:
                continue  # malformed: the store reports it
            blocks.append(ServiceBlock(iri, silent, token.start, tokens[end].end,
                                       text[tokens[j + 1].start:tokens[end].end]))
    for block in blocks:
        block.nested = any(o.start < block.start and block.end <= o.end for o in blocks)
    if sum(not b.nested for b in blocks) > MAX_SERVICE_CALLS:
        raise _refused(f"The operation has more than {MAX_SERVICE_CALLS} SERVICE blocks.")
    return blocks, prologue


def _is_silent_load(tokens: list[Token]) -> bool:
    """True if ``tokens`` are exactly ``LOAD SILENT <iri> [INTO GRAPH <g>]``."""
    if len(tokens) not in (3, 6) or not (tokens[0].is_word("LOAD") and tokens[1].is_word("SILENT")):
        return False
    iris = [tokens[2]] if len(tokens) == 3 else [tokens[2], tokens[5]]
    return all(t.kind in ("iri", "pname") for t in iris) and (
        len(tokens) == 3 or (tokens[3].is_word("INTO") and tokens[4].is_word("GRAPH")))


def drop_silent_loads(text: str | Lexed) -> str:
    """Remove every ``LOAD SILENT <iri> [INTO GRAPH <g>]`` operation from an update.

    Why: this service never fetches (a plain ``LOAD`` is refused by :func:`find_services`), so
    for it every LOAD fails — and SPARQL 1.1 Update (section 3.1.1) says a failing ``LOAD
    SILENT`` succeeds and changes nothing. Dropping the operation gives exactly that, for every
    later step (delta, validation, store), and nothing is fetched. The operations are split at
    the ``;`` outside brackets; the BASE/PREFIX declarations before a dropped operation are
    kept for the operations after it. A malformed ``LOAD SILENT`` is left for the refusal.
    """
    lexed = lex(text)
    text, tokens = lexed.text, lexed.tokens
    segments: list[list[Token]] = [[]]
    bounds = [0]  # where each segment's text starts: after the ";" that ends the one before
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text in "{([":
            depth += 1
        elif token.kind == "punct" and token.text in "})]":
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ";":
            segments.append([])
            bounds.append(token.end)
        else:
            segments[-1].append(token)
    bounds.append(len(text) + 1)
    kept: list[str] = []
    pending = ""  # declarations of dropped operations, for the next kept one
    for index, segment in enumerate(segments):
        body = _after_prologue(segment)
        if _is_silent_load(segment[body:]):
            if body:
                pending += text[segment[0].start:segment[body - 1].end] + "\n"
            continue
        kept.append(pending + text[bounds[index]:bounds[index + 1] - 1])
        pending = ""
    return text if len(kept) == len(segments) else ";".join(kept)


#: The keywords :func:`find_services` acts on; an operation without any of them passes unchanged.
_GUARDED_WORDS = frozenset({"LOAD", "FROM", "USING", "WITH", "SERVICE"})


def guard(text: str | Lexed, base_iri: str | None = None, allowlist: dict[str, Any] | None = None) -> Prepared:
    """Check an operation (query or update) and evaluate its SERVICE blocks; see the module docstring.

    ``allowlist``: the SERVICE endpoints and their limits (none when not given: SERVICE is refused)
    (the offline CLI, which has no app, passes its own).
    Raises 400 for what is refused (a text nested deeper than the lexer's MAX_NESTING_DEPTH
    included: the engines' parsers are recursive) and 502 when a (non-SILENT) SERVICE call fails.
    A caller that has lexed the text passes the :class:`~service.sparql.lexer.Lexed` (read once, not again).
    """
    lexed = lex(text)
    check_nesting(lexed)
    if not (lexed.words & _GUARDED_WORDS):  # nothing to check or to evaluate: the common case
        return Prepared(lexed.text)
    if "LOAD" in lexed.words:
        dropped = drop_silent_loads(lexed)
        if dropped is not lexed.text:
            lexed = lex(dropped)
    if allowlist is None:
        allowlist = {}
    if isinstance(allowlist, str):
        allowlist = json.loads(allowlist)
    blocks, prologue = find_services(lexed, base_iri, allowlist)
    prepared = Prepared(lexed.text)
    for block in reversed([b for b in blocks if not b.nested]):
        limits = allowlist[block.endpoint] or {}
        row_cap = int(limits.get("row_cap", 0) or 0)
        timeout = float(limits.get("timeout", 10.0) or 10.0)
        try:
            variables, rows, truncated = fetch_solutions(block.endpoint, remote_query(prologue, block.group, row_cap),
                                                         timeout, row_cap)
            replacement = values_block(variables, rows, block.endpoint)
        except ServiceFailure as exc:
            if not block.silent:
                raise problems.ApiError(502, f"{exc}.", title="Bad Gateway") from exc
            log.info("SERVICE SILENT failure ignored: %s", exc)
            replacement, truncated = "VALUES () { () }", False
        prepared.truncated = prepared.truncated or truncated
        prepared.services.append(block.endpoint)
        prepared.text = prepared.text[:block.start] + replacement + prepared.text[block.end:]
    return prepared


def federate(sparql: str, allowlist: dict[str, Any] | None = None) -> tuple[str, bool]:
    """Evaluate a federated canned query's SERVICE blocks exactly as ``/sparql`` does (:func:`guard`).

    Why: left to the store, pyoxigraph would call the endpoint itself — no per-endpoint
    time limit or row cap, no redirect refusal — and a hanging endpoint would cost the
    store worker (killed at the query timeout). The service and the offline CLI
    (``dprk-kg query``) both pass it to their :class:`~service.canned.run.CannedRunner`.
    Returns the query with each block replaced by ``VALUES`` of its solutions, and whether
    an endpoint's row cap cut them; a failing endpoint raises a 502 :class:`~service.problems.ApiError`.
    """
    prepared = guard(sparql, None, allowlist)
    return prepared.text, prepared.truncated
