"""The reference point issue 3 quotes: a minimal Flask app over an embedded pyoxigraph store.

Why it is in the bench (``bench_sparql.py --minimal``): it shows what the thinnest
possible Python web tier over pyoxigraph costs, served by the same granian set-up as
ours (one worker process, 8 threads). It has none of the service's protections — no
store worker process (a runaway query cannot be stopped), no row cap, no SERVICE/LOAD
guard, no limits, JSON only, no error handling — so it must not be used for anything
but measuring. The gap between it and the Oxigraph server is the price of Python and
WSGI; the gap between ours and it is the price of those protections.

    BENCH_MINIMAL_STORE=/path/to/store granian --interface wsgi --factory --working-dir bench \
        minimal_app:create_app
"""

from __future__ import annotations

import os

import pyoxigraph as ox
from flask import Flask, Response, request


def create_app() -> Flask:
    """The app, on the store folder named by ``BENCH_MINIMAL_STORE``."""
    store = ox.Store(os.environ["BENCH_MINIMAL_STORE"])
    app = Flask(__name__)

    @app.get("/sparql")
    def sparql() -> Response:
        result = store.query(request.args["query"])
        if isinstance(result, ox.QueryTriples):
            return Response(result.serialize(format=ox.RdfFormat.N_TRIPLES), content_type="application/n-triples")
        return Response(result.serialize(format=ox.QueryResultsFormat.JSON),
                        content_type="application/sparql-results+json")

    return app
