"""The bounded client for SERVICE blocks: each allow-listed endpoint is called with its own time limit and row cap,
no redirects, and its answer checked before it is parsed.
"""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pyoxigraph as ox

from service.config import VERSION as __version__
from service.rdf.limits import check_results
from service.sparql.lexer import (
    Prologue,
)

#: Largest SERVICE response read, whatever the row cap.
MAX_SERVICE_BYTES = 64 * 1024 * 1024


#: Prefix of the IRIs standing for blank nodes returned by a SERVICE call (VALUES cannot hold blank nodes).
SKOLEM_PREFIX = "urn:dprk-kg:service-bnode:"


class ServiceFailure(Exception):
    """A SERVICE endpoint could not be used; the message says why, naming the endpoint."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: the allow-list names the endpoint, not wherever it points to."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise ServiceFailure(f"SERVICE <{req.full_url}> answered with a redirect ({code}) to <{newurl}>, "
                             "which is not followed")


_RESULT_PARSERS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


def fetch_solutions(endpoint: str, query: str, timeout: float, row_cap: int
                    ) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    """Run a SELECT at an allowed endpoint, within ``timeout`` seconds in all and ``row_cap`` rows.

    Returns the variables, the rows (pyoxigraph terms, ``None`` when unbound) and
    whether the cap cut them. Raises :class:`ServiceFailure` naming the endpoint.
    """
    if urllib.parse.urlsplit(endpoint).scheme.lower() not in ("http", "https"):
        raise ServiceFailure(f"SERVICE <{endpoint}> is not an http(s) endpoint")
    data = urllib.parse.urlencode({"query": query}).encode("utf-8")
    req = urllib.request.Request(endpoint, data=data, method="POST", headers={  # noqa: S310 (http(s) only, above)
        "Accept": "application/sparql-results+json, application/sparql-results+xml;q=0.8",
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": f"dprk-kg/{__version__} (SPARQL federated query)",
    })
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + timeout
    try:
        with opener.open(req, timeout=timeout) as response:
            body = bytearray()
            while chunk := response.read(64 * 1024):
                body += chunk
                if time.monotonic() > deadline:
                    raise TimeoutError
                if len(body) > MAX_SERVICE_BYTES:
                    raise ServiceFailure(f"SERVICE <{endpoint}> sent more than {MAX_SERVICE_BYTES} bytes")
            media_type = (response.headers.get_content_type() or "").lower()
    except ServiceFailure:
        raise
    except urllib.error.HTTPError as exc:
        raise ServiceFailure(f"SERVICE <{endpoint}> answered HTTP {exc.code} {exc.reason}") from exc
    except TimeoutError as exc:
        raise ServiceFailure(f"SERVICE <{endpoint}> did not answer within its time limit of {timeout:g} s "
                             "(setting SERVICE_ALLOWLIST)") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceFailure(f"SERVICE <{endpoint}> could not be reached: {reason}") from exc
    parser = _RESULT_PARSERS.get(media_type)
    if parser is None:
        raise ServiceFailure(f"SERVICE <{endpoint}> answered with {media_type or 'no media type'}, "
                             "not SPARQL results")
    try:
        check_results(bytes(body), parser)  # no DTD entities, bounded nesting: parsing stays linear
        results = ox.parse_query_results(bytes(body), parser)
        if not isinstance(results, ox.QuerySolutions):
            raise ServiceFailure(f"SERVICE <{endpoint}> answered with a boolean, not solutions")
        variables = [v.value for v in results.variables]
        rows = [tuple(solution[v] for v in variables) for solution in results]
    except (SyntaxError, ValueError) as exc:
        raise ServiceFailure(f"SERVICE <{endpoint}> sent results that cannot be read: {exc}") from exc
    truncated = bool(row_cap) and len(rows) > row_cap
    return variables, rows[:row_cap] if row_cap else rows, truncated


def _values_term(term: Any, endpoint: str, skolem: str) -> str:
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.BlankNode):
        return f"<{skolem}{urllib.parse.quote(term.value, safe='')}>"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term)
    raise ServiceFailure(f"SERVICE <{endpoint}> returned a triple term, which this service cannot join")


def values_block(variables: list[str], rows: list[tuple[Any, ...]], endpoint: str) -> str:
    """The solutions as a SPARQL ``VALUES`` block (blank nodes become skolem IRIs, one namespace per call)."""
    skolem = f"{SKOLEM_PREFIX}{secrets.token_hex(8)}:"
    head = " ".join(f"?{v}" for v in variables)
    body = " ".join("(" + " ".join(_values_term(t, endpoint, skolem) for t in row) + ")" for row in rows)
    return f"VALUES ({head}) {{ {body} }}"


def remote_query(prologue: Prologue, group: str, row_cap: int) -> str:
    lines = [f"BASE <{prologue.base}>"] if prologue.base else []
    lines += [f"PREFIX {p}: <{iri}>" for p, iri in prologue.prefixes.items()]
    limit = f" LIMIT {row_cap + 1}" if row_cap else ""
    return "\n".join([*lines, f"SELECT * WHERE {group}{limit}"])
