"""``GET /health``: is the service up and its store answering? For load balancers and test fixtures."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.web.context import get_store

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Answer 200 with the worker's pid once the store answers a round trip."""
    info = get_store().ping()
    return jsonify({"status": "ok", "store_worker_pid": info["pid"]})
