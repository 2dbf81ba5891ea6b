"""Schemathesis hooks for ``tests/web/test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

Why: schemathesis ships serializers for JSON, XML, forms, multipart and ``text/plain``, but
none for the SPARQL 1.1 Protocol's own body types; a query or update body is UTF-8 text, so
the generated string is sent as such (bytes as they are).
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/sparql-query", "application/sparql-update")
def sparql_text(ctx: Any, value: Any) -> bytes:
    """A SPARQL text body: the generated value as UTF-8 (non-strings as their JSON text, still text)."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        import json

        value = json.dumps(value)
    return value.encode("utf-8", "surrogatepass")
