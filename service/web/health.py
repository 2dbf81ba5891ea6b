"""``GET /health``: is the service up and its store answering? For load balancers and test fixtures."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.web import errors
from service.web.context import get_store

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Answer 200 with the worker's pid once the store answers a round trip; 503 with ``Retry-After`` while a remote
    store cannot be reached (so a load balancer takes this instance out until its store is back)."""
    with errors.store_errors("health check"):
        info = get_store().ping()
    return jsonify({"status": "ok", "store_worker_pid": info["pid"]})
