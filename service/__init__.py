"""dprk-japan-kg: a sourced knowledge graph of North Korea–Japan relations and its SPARQL service.

Packages, lowest first (each imports only those below it; ``lint-imports`` checks it):
``rdf`` → ``sparql`` → ``validation`` → ``store`` → ``canned`` → ``web`` / ``cli``; ``linking`` beside ``canned``.
``create_app`` is imported lazily, so that using a lower package never loads the web framework.
"""

from __future__ import annotations

from typing import Any

from service.config import VERSION as __version__

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from service.web.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
