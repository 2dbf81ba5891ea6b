"""The store client of the running app: opened with the app, closed with it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from service.store.backend import StoreBackend, open_store
from service.store.client import EXTENSION_KEY


def get_store() -> StoreBackend:
    """The current app's store backend (embedded or remote: :mod:`service.store.backend`)."""
    return current_app.extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    """Open the store for this app: start the worker, which loads the bundled graph on first start."""
    settings = dict(app.config)
    if not settings.get("STORE_DIR"):
        settings["STORE_DIR"] = str(Path(app.instance_path) / "store")
    app.config["STORE_DIR"] = settings["STORE_DIR"]
    app.extensions[EXTENSION_KEY] = open_store(settings)
