"""How RDF terms are shown to people: labels first, dates at their precision, no ``@en`` or ``^^xsd:`` clutter.

Filled in step by step; :func:`init_app` registers the filters templates use.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the display filters with the app's templates."""
