"""A polite SPARQL client for public endpoints (Wikidata, DBpedia): SPARQLWrapper plus manners.

Why more than SPARQLWrapper: public endpoints are shared and rate-limited. The Wikidata Query
Service asks clients to name themselves in the User-Agent, to back off when told to (HTTP 429
with ``Retry-After``), and not to repeat the same query needlessly. So this client

* sends a User-Agent naming the project and where to find it,
* puts a time limit on every request,
* retries transient failures (timeouts, 429, 5xx) with exponential back-off, honouring
  ``Retry-After``, and gives up with an error naming the endpoint and the last cause,
* keeps a small delay between requests to the same endpoint,
* caches answers on disk (key: endpoint + query text), so re-running discovery or a check
  costs the endpoint nothing until the cache entry is older than ``max_age``.

Long queries (big ``VALUES`` blocks) go by POST, short ones by GET (which the endpoints cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import urllib.error
from collections.abc import Callable, Iterator
from pathlib import Path

from SPARQLWrapper import GET, JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from service.config import VERSION as __version__

#: Wikidata's User-Agent policy asks for a name, a version and a way to reach the operator.
USER_AGENT = (f"dprk-japan-kg/{__version__} (https://w3id.org/dprk-japan-kg; link discovery and checks) "
              "SPARQLWrapper/2")

#: HTTP statuses worth retrying: rate limiting and temporary server trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Queries longer than this go by POST (URLs of public endpoints are limited to a few KB).
POST_ABOVE = 1500

Binding = dict[str, dict[str, str]]


class EndpointError(Exception):
    """The endpoint could not answer: the message names the endpoint and the cause."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dprk-kg/sparql`` (``~/.cache/dprk-kg/sparql``): outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dprk-kg" / "sparql"


class SparqlClient:
    """SELECT queries against one endpoint, with retries, back-off, a delay and a disk cache.

    ``cache_dir=None`` turns the cache off. ``sleep`` and ``clock`` are injectable so the
    back-off logic can be exercised without waiting.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str = USER_AGENT,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 2.0,
        delay: float = 1.0,
        cache_dir: Path | None = None,
        max_age: float = 24 * 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise EndpointError(f"endpoint {endpoint!r} is not an http(s) URL")
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.delay = delay
        self.cache_dir = cache_dir
        self.max_age = max_age
        self._sleep = sleep
        self._clock = clock
        self._last_request = 0.0
        #: Requests actually sent (cache hits excluded): reports show it.
        self.requests = 0
        self.cache_hits = 0

    # -- cache ------------------------------------------------------------------------------

    def _cache_path(self, query: str) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(f"{self.endpoint}\n{query}".encode()).hexdigest()
        return self.cache_dir / digest[:2] / f"{digest}.json"

    def _cached(self, query: str) -> list[Binding] | None:
        path = self._cache_path(query)
        if path is None or not path.exists():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is just a miss
        if entry.get("endpoint") != self.endpoint or entry.get("query") != query:
            return None
        if self._clock() - float(entry.get("fetched_at", 0)) > self.max_age:
            return None
        return entry["bindings"]

    def _store(self, query: str, bindings: list[Binding]) -> None:
        path = self._cache_path(query)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"endpoint": self.endpoint, "query": query, "fetched_at": self._clock(), "bindings": bindings}
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, ensure_ascii=False)
        os.replace(tmp, path)  # atomic: a reader never sees half an entry

    # -- requests ---------------------------------------------------------------------------

    def select(self, query: str) -> list[Binding]:
        """Run a SELECT query; return its bindings as SPARQL JSON results give them."""
        cached = self._cached(query)
        if cached is not None:
            self.cache_hits += 1
            return cached
        bindings = self._fetch(query)
        self._store(query, bindings)
        return bindings

    def _wrapper(self, query: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(self.endpoint, agent=self.user_agent)
        wrapper.setQuery(query)
        wrapper.setReturnFormat(JSON)
        wrapper.setMethod(POST if len(query) > POST_ABOVE else GET)
        wrapper.setTimeout(max(1, round(self.timeout)))
        return wrapper

    def _fetch(self, query: str) -> list[Binding]:
        last_cause = "no attempt made"
        for attempt in range(self.retries + 1):
            wait = self.delay - (self._clock() - self._last_request)
            if wait > 0 and self._last_request:
                self._sleep(wait)
            retry_after: float | None = None
            try:
                self.requests += 1
                self._last_request = self._clock()
                result = self._wrapper(query).queryAndConvert()
                if not isinstance(result, dict) or "results" not in result:
                    raise EndpointError(f"{self.endpoint} did not answer with SPARQL JSON results")
                return list(result["results"]["bindings"])
            except (QueryBadFormed, EndPointNotFound, Unauthorized, URITooLong) as exc:
                # The request itself is wrong: repeating it will not help.
                raise EndpointError(f"{self.endpoint} refused the query: {_describe(exc)}") from exc
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUSES:
                    raise EndpointError(f"{self.endpoint} answered HTTP {exc.code} {exc.reason}") from exc
                last_cause = f"HTTP {exc.code} {exc.reason}"
                retry_after = _retry_after(exc)
            except EndPointInternalError as exc:
                last_cause = f"HTTP 500 ({_describe(exc)})"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                last_cause = f"no answer within {self.timeout:g} s" if isinstance(
                    reason, TimeoutError) else f"cannot connect ({reason})"
            except (SPARQLWrapperException, ValueError) as exc:
                raise EndpointError(f"{self.endpoint}: unusable answer ({_describe(exc)})") from exc
            if attempt < self.retries:
                self._sleep(retry_after if retry_after is not None else min(60.0, self.backoff * 2 ** attempt))
        raise EndpointError(f"{self.endpoint}: gave up after {self.retries + 1} attempt(s): {last_cause}")


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    """The server's ``Retry-After`` in seconds, if it sent a number (capped at 5 minutes)."""
    value = exc.headers.get("Retry-After") if exc.headers else None
    with contextlib.suppress(TypeError, ValueError):
        return min(300.0, max(0.0, float(value)))  # type: ignore[arg-type]
    return None


def _describe(exc: Exception) -> str:
    """What went wrong, in one line: the server's own message when SPARQLWrapper kept it."""
    text = str(exc).strip()
    if "Response:" in text:
        response = text.split("Response:", 1)[1].strip()
        if response.startswith(("b'", 'b"')):
            response = response[2:-1].encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
        text = response or text
    first = " ".join(text.split())
    return first[:300] or type(exc).__name__


def term_value(binding: Binding, name: str) -> str | None:
    """The value of a variable in a binding (``None`` when unbound)."""
    term = binding.get(name)
    return term["value"] if term else None


def term_lang(binding: Binding, name: str) -> str | None:
    """The language tag of a literal binding (``None`` if none)."""
    term = binding.get(name)
    return term.get("xml:lang") if term else None


def batched(items: list, size: int) -> Iterator[list]:
    """``items`` in slices of at most ``size``: one ``VALUES`` block per query keeps requests small."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
