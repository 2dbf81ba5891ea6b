"""dprk-japan-kg: a sourced knowledge graph of North Korea–Japan relations, served over SPARQL 1.1.

``create_app(config=None)`` assembles the service: settings (defaults → environment →
``config``), the error handler, the store, then one blueprint per concern. Each
concern's module owns its blueprint; optional ones are registered when present so the
factory stays the single place that says what the service is made of.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config as settings
from . import errors, store

__version__ = "0.1.0"

#: The blueprints of the service, in registration order: (module, attribute).
BLUEPRINTS: tuple[tuple[str, str], ...] = (
    ("service.health", "bp"),
    ("service.sparql", "bp"),
    ("service.graph_store", "bp"),
    ("service.ui", "bp"),
    ("service.canned", "bp"),
    ("service.validation_api", "bp"),
    ("service.void", "bp"),
)

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    ``config`` overrides the defaults and the ``DPRK_KG_*`` environment variables; tests
    pass a plain dict (e.g. ``{"STORE_DIR": tmp, "WRITE_TOKEN": "t"}``).
    """
    app = Flask(__name__, instance_relative_config=True)
    if config:
        unknown = sorted(set(config) - set(settings.SETTINGS_BY_KEY) - {"TESTING", "STARTUP_TIMEOUT"})
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    app.config.from_mapping(settings.resolve(config))
    if not app.config["DATA_ROOT"]:
        app.config["DATA_ROOT"] = str(settings.REPO_ROOT)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    errors.init_app(app)
    store.init_app(app)
    try:
        for module_name, attribute in BLUEPRINTS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            init = getattr(module, "init_app", None)
            if init is not None:
                init(app)
            app.register_blueprint(getattr(module, attribute))
        from . import query_path

        query_path.init_app(app)  # it wraps the finished app's WSGI entry point
        from . import admission

        admission.init_app(app)  # outermost: bodies are read, and work admitted, before either path runs
    except BaseException:
        app.extensions[store.EXTENSION_KEY].close()  # a refused start leaves no store worker behind
        raise
    return app
