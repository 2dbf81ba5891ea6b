"""The application factory: settings, the store, the error map and every blueprint, imported by name; the query
fast path, admission, compression, the /sparql result cache and observation (request ids, metrics, the request log)
wrap the finished app.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from service.config import SETTINGS_BY_KEY, data_root, resolve
from service.rdf import dataset
from service.store import client
from service.web import (
    admission,
    browse,
    canned,
    compression,
    context,
    errors,
    graph_store,
    health,
    metrics,
    observe,
    ontology_page,
    proxy,
    query_page,
    query_path,
    resources,
    result_cache,
    search,
    site,
    sparql,
    stats,
    ui,
    validate,
    void,
)

#: The blueprints of the service, in registration order.
BLUEPRINTS = (health, site, sparql, graph_store, ui, canned, validate, void, stats, resources, search, browse,
              ontology_page, query_page, metrics)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    ``config`` overrides the defaults and the ``DPRK_KG_*`` environment variables; tests
    pass a plain dict (e.g. ``{"STORE_DIR": tmp, "WRITE_TOKEN": "t"}``).
    """
    app = Flask(__name__, instance_relative_config=True)
    if config:
        unknown = sorted(set(config) - set(SETTINGS_BY_KEY) - {"TESTING", "STARTUP_TIMEOUT"})
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    app.config.from_mapping(resolve(config))
    app.config["DATA_ROOT"] = str(data_root(app.config))
    # An installed package without its bundle, or a mistyped --data-root, is refused here (naming what is
    # missing) instead of serving an empty graph and no canned queries.
    dataset.require_parts(Path(app.config["DATA_ROOT"]), data=bool(app.config["LOAD_DATA"]))
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    errors.init_app(app)
    context.init_app(app)
    try:
        for module in BLUEPRINTS:
            init = getattr(module, "init_app", None)
            if init is not None:
                init(app)
            app.register_blueprint(module.bp)
        query_path.init_app(app)  # it wraps the finished app's WSGI entry point
        admission.init_app(app)  # bodies are read, and work admitted, before either path runs
        compression.init_app(app)  # every answer, from whichever layer, is compressed once
        result_cache.init_app(app)  # repeated /sparql GETs answered as compression last sent them
        observe.init_app(app)  # outermost: request ids, metrics and the request log see every answer as sent
        proxy.init_app(app)  # around everything: every layer sees the address clients used (TRUSTED_PROXIES)
    except BaseException:
        app.extensions[client.EXTENSION_KEY].close()  # a refused start leaves no store worker behind
        raise
    return app
