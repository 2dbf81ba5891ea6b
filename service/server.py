"""Run the app under a production WSGI server (waitress), not Flask's development server.

Why waitress: pure Python (installs anywhere pip does), multi-threaded — and threads
suit us because the real work happens in the store worker, outside the GIL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import create_app


def serve(config: Mapping[str, Any] | None = None) -> None:
    """Create the app and serve it until interrupted."""
    from waitress import serve as waitress_serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(config)
    host, port = app.config["HOST"], int(app.config["PORT"])
    logging.getLogger("dprk_kg").info("serving on http://%s:%s/ (store: %s)", host, port, app.config["STORE_DIR"])
    print(f"dprk-kg: serving on http://{host}:{port}/", flush=True)
    waitress_serve(
        app,
        host=host,
        port=port,
        threads=int(app.config["THREADS"]),
        # Larger than our own limit, so that the service (not waitress) answers 413 with a message
        # naming MAX_BODY_BYTES; waitress spools bodies above 512 KiB to disk, not to memory.
        max_request_body_size=max(4 * int(app.config["MAX_BODY_BYTES"]), int(app.config["MAX_BODY_BYTES"]) + 2**26),
        ident="dprk-kg",
        channel_timeout=int(max(app.config["QUERY_TIMEOUT"], app.config["UPDATE_TIMEOUT"]) + 30),
    )
