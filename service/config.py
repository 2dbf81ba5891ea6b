"""Every setting of the service and its default, in one place.

Why one table: the CLI options, the environment-variable twins, the README and the
test that checks the README all read this table, so a setting cannot exist in one of
them and be missing from the others.

Precedence (lowest first): the defaults below → ``DPRK_KG_<KEY>`` environment
variables → the ``config`` mapping given to :func:`service.create_app` (the CLI
passes its options that way).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The version of the package (the service, its User-Agent, the OpenAPI document).
VERSION = "0.1.0"

#: The folder that holds the ``service`` package (the store worker's import path).
SOURCE_ROOT = Path(__file__).resolve().parents[1]

#: Where an installed wheel keeps its copy of ``ontology/``, ``data/`` and ``queries/`` (made by ``setup.py``).
PACKAGED_BUNDLE = Path(__file__).resolve().parent / "_bundle"

#: The folder holding the bundled ontology, data and canned queries — the default data root:
#: the package's own copy in an installed wheel, else the repository of this checkout.
BUNDLE_ROOT = PACKAGED_BUNDLE if PACKAGED_BUNDLE.is_dir() else SOURCE_ROOT

#: The SPARQL endpoints a query may call with ``SERVICE``: everything else is refused
#: before execution (no server-side request forgery). Each has its own limits.
DEFAULT_SERVICE_ALLOWLIST: dict[str, dict[str, float | int]] = {
    "https://query.wikidata.org/sparql": {"timeout": 10.0, "row_cap": 10000},
    "https://dbpedia.org/sparql": {"timeout": 10.0, "row_cap": 10000},
}


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default, how to read it from text, and what it is for."""

    key: str
    default: Any
    parse: Any
    help: str
    choices: tuple[str, ...] = ()  # the only values allowed, when the setting is an enumeration

    @property
    def env(self) -> str:
        """The environment variable that sets this key."""
        return f"DPRK_KG_{self.key}"


def _bool(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def _optional_str(text: str | None) -> str | None:
    return text if text else None


def _json_or_mapping(text: str | Mapping) -> dict:
    if isinstance(text, Mapping):
        return dict(text)
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _one_of(*values: str) -> Any:
    """A parser that accepts exactly ``values`` (the same tuple feeds the CLI's choices)."""

    def parse(text: str) -> str:
        if text not in values:
            raise ValueError(f"expected one of {', '.join(repr(v) for v in values)}, got {text!r}")
        return text

    return parse


SERVERS = ("granian", "waitress")
NAMESPACE_LINKS = ("local", "public")

#: Where entity pages ask what the linked Wikidata and DBpedia items say (shown beside our facts, never merged).
DEFAULT_EXTERNAL_FACTS: dict[str, str] = {
    "wikidata": "https://query.wikidata.org/sparql",
    "dbpedia": "https://dbpedia.org/sparql",
}
ENTAILMENTS = ("none", "rdfs")
LOG_FORMATS = ("text", "json")


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", str, "Interface to listen on."),
    Setting("PORT", 8000, int, "TCP port to listen on."),
    Setting("THREADS", 8, int, "Worker threads of the WSGI server (concurrent requests)."),
    Setting("SERVER", "granian", _one_of(*SERVERS),
            "Production WSGI server: 'granian' (HTTP handled in Rust; the fastest) or 'waitress' (pure Python).",
            SERVERS),
    Setting("SUPERVISE", False, _bool,
            "Run a small supervisor process that starts the server again whenever it dies (killed, out of memory, "
            "crashed) and gives up when it dies before serving a few times in a row; off: one process (with its "
            "store worker), restarted by systemd, a container runtime or another process manager if it dies."),
    Setting("FAST_QUERY_PATH", True, _bool,
            "Answer SPARQL queries on /sparql without Flask's per-request dispatch (same answers, less overhead)."),
    Setting("STORE_DIR", None, _optional_str,
            "Directory of the persistent store; default: <instance folder>/store."),
    Setting("STORE_URL", None, _optional_str,
            "SPARQL query endpoint of an existing store to serve in front of (remote mode) instead of the embedded "
            "store; credentials come from DPRK_KG_STORE_USER and DPRK_KG_STORE_PASSWORD in the environment only."),
    Setting("UPDATE_URL", None, _optional_str,
            "SPARQL Update endpoint of the remote store, where it differs from STORE_URL."),
    Setting("GRAPH_STORE_URL", None, _optional_str,
            "Graph Store Protocol endpoint of the remote store (its first load goes there when set)."),
    Setting("STORE_RESPONSE_LIMIT", 256 * 2**20, int,
            "Largest answer (bytes) read from the remote store; a larger one fails the request."),
    Setting("STORE_VERSION_TTL", 1.0, float,
            "Seconds the remote store's version is trusted before it is read again (one small query): caches follow "
            "writes made through other service instances within this time. 0: read it at every cache look-up."),
    Setting("DATA_ROOT", None, _optional_str,
            "Folder holding ontology/, data/ and queries/ (the bundled graph and canned queries); "
            "default: the repository in a checkout, the package's own copy when installed from a wheel."),
    Setting("LOAD_DATA", True, _bool,
            "Load the ontology and data/ into an empty store on first start (--no-data turns it off)."),
    Setting("WRITE_TOKEN", None, _optional_str,
            "Bearer token that allows writes. Unset: the service is read-only."),
    Setting("WRITE_TOKEN_NAME", "default", str,
            "Name recorded in the provenance of batches written with the write token."),
    Setting("ENTAILMENT", "rdfs", _one_of(*ENTAILMENTS),
            "'rdfs': subclass and subproperty inferences are materialized in their own graph; 'none': off.",
            ENTAILMENTS),
    Setting("UNION_DEFAULT_GRAPH", True, _bool,
            "Queries without default-graph-uri see the union of all graphs as their default graph."),
    Setting("VALIDATE_WRITES", True, _bool,
            "Check every write against the SHACL shapes and refuse it (422) if it breaks one."),
    Setting("QUERY_TIMEOUT", 30.0, float,
            "Seconds a query may run before it is stopped and answered with 503."),
    Setting("UPDATE_TIMEOUT", 60.0, float,
            "Seconds an update or load may run before it is stopped (nothing is applied)."),
    Setting("RESULT_ROW_CAP", 100000, int,
            "Most rows (or triples) one query returns; more are cut and the response says so. 0: no cap."),
    Setting("MAX_BODY_BYTES", 16 * 1024 * 1024, int,
            "Largest request body accepted (413 above), whether sent with Content-Length or chunked."),
    Setting("BODY_READ_TIMEOUT", 10.0, float,
            "Seconds a request body may take to arrive (408 above), so slow senders cannot hold web threads."),
    Setting("RESERVED_THREADS", 2, int,
            "Web threads never given to SPARQL queries, writes, validation or body reads: pages, canned "
            "queries and /health always have them."),
    Setting("MAX_QUERIES", 0, int,
            "SPARQL queries and Graph Store reads running at once (503 with Retry-After beyond); "
            "0: as many as THREADS - RESERVED_THREADS."),
    Setting("MAX_WRITES", 2, int, "Updates, Graph Store writes and /ingest requests running at once (503 beyond)."),
    Setting("MAX_VALIDATIONS", 2, int, "POST /validate requests running at once (503 beyond)."),
    Setting("ADMISSION_WAIT", 2.0, float,
            "Seconds a query, write or validation waits for a free slot of its kind before it is answered 503."),
    Setting("MEMORY_LIMIT", 4 * 2**30, int,
            "Bytes of address space (RLIMIT_AS) the serving process and the store worker may each use; a runaway "
            "request then fails instead of exhausting the machine, or at worst one process dies: the store worker "
            "is started again by the serving process, the serving process by SUPERVISE or a process manager. "
            "0: none."),
    Setting("CORS_ORIGINS", "*", str, "Value of Access-Control-Allow-Origin on read responses ('' = no CORS)."),
    Setting("TRUSTED_PROXIES", 0, int,
            "Reverse proxies in front of the service whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix headers are "
            "believed (each proxy appends one value). 0: the headers are ignored, since any client can send them; "
            "set 1 behind one proxy, so that links, VoID and the OpenAPI server name the address clients use."),
    Setting("SERVICE_ALLOWLIST", DEFAULT_SERVICE_ALLOWLIST, _json_or_mapping,
            "JSON object: SPARQL endpoints allowed in SERVICE, each with its timeout (s) and row_cap."),
    Setting("CANNED_CACHE_SIZE", 512, int, "Entries in the canned-query result cache (0 disables it)."),
    Setting("RESULT_CACHE_BYTES", 32 * 1024 * 1024, int,
            "Bytes of finished answers the /sparql result cache keeps for repeated GET queries (keyed on the query, "
            "the negotiated format and the store's write generation; the least recently used go first). "
            "0 turns it off."),
    Setting("RESULT_CACHE_ENTRY_BYTES", 1024 * 1024, int,
            "Largest answer the /sparql result cache keeps (as sent, compressed or not); larger answers are "
            "answered, and streamed, as before."),
    Setting("NAMESPACE_LINKS", "local", _one_of(*NAMESPACE_LINKS),
            "Where pages link the IRIs of the public namespace (https://w3id.org/dprk-japan-kg/): 'local' to this "
            "host (/id/<slug>, /ontology#<Term>), so browsing stays on this deployment; 'public' to the w3id IRIs "
            "themselves (for the deployment the w3id redirect points at).", NAMESPACE_LINKS),
    Setting("EXTERNAL_FACTS_ENDPOINTS", DEFAULT_EXTERNAL_FACTS, _json_or_mapping,
            "JSON object: the SPARQL endpoint asked for what Wikidata ('wikidata') and DBpedia ('dbpedia') say "
            "about the items an entity page links to ({} turns the panel off)."),
    Setting("EXTERNAL_FACTS_TIMEOUT", 3.0, float,
            "Seconds one request for an entity page's external facts may take (a page waits at most 0.5 s and "
            "shows what has arrived; answers are cached). 0: external facts off."),
    Setting("METRICS", True, _bool,
            "Serve Prometheus metrics at /metrics (requests by route and status, latencies, store round trips, "
            "cache hits, guard refusals, store-worker restarts); --no-metrics removes the route and the counting."),
    Setting("METRICS_TOKEN", None, _optional_str,
            "Bearer token /metrics asks for ('Authorization: Bearer <token>'). Unset: /metrics is open to anyone "
            "who can reach the service, like /health (it shows counts and timings, never data or queries)."),
    Setting("LOG_FORMAT", "text", _one_of(*LOG_FORMATS),
            "'text': log lines for people, no line per request; 'json': every log line a JSON object, and one "
            "per request (time, request_id, method, route, status, duration_ms, bytes).", LOG_FORMATS),
)

SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """The default value of every setting."""
    return {s.key: s.default for s in SETTINGS}


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting's value: the defaults, then the environment, then ``overrides`` (the precedence above)."""
    return {**defaults(), **from_environment(), **(overrides or {})}


#: The environment variables holding the remote store's user and password (HTTP Basic). Never settings: a
#: setting is also a command-line option, and a password on the command line is visible to every local user.
STORE_CREDENTIAL_ENV = ("DPRK_KG_STORE_USER", "DPRK_KG_STORE_PASSWORD")


def store_credentials(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The remote store's user (``None``: no authentication) and password, from the environment."""
    env = os.environ if environ is None else environ
    user_key, password_key = STORE_CREDENTIAL_ENV
    return env.get(user_key) or None, env.get(password_key, "")


def data_root(values: Mapping[str, Any]) -> Path:
    """The data root the settings ``values`` name: DATA_ROOT when set, else :data:`BUNDLE_ROOT`."""
    return Path(values.get("DATA_ROOT") or BUNDLE_ROOT)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the ``DPRK_KG_*`` variables that are set, parsed to their types.

    A malformed value raises ``ValueError`` naming the variable, so a typo in the
    environment stops the service at start instead of being silently ignored.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env in environ:
            try:
                values[setting.key] = setting.parse(environ[setting.env])
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{setting.env}: {exc}") from exc
    return values
