"""Run the app under a production WSGI server — never Flask's development server.

Two servers, chosen by the SERVER setting:

* **granian** (default): HTTP parsing, keep-alive and socket I/O in Rust (hyper), the WSGI
  app on a pool of Python threads. Measured against waitress on the same app (``bench/``):
  +20 % requests/s on small queries with one client and +60–70 % with eight, because
  the GIL is no longer spent on HTTP. Request bodies are streamed to the app (our own
  MAX_BODY_BYTES check answers 413 before reading), large responses are streamed with
  back-pressure. It runs the app in a worker process under a small supervisor; that
  worker dies with the supervisor (``PR_SET_PDEATHSIG``) and the store worker with it.
* **waitress**: pure Python, for platforms without granian's wheels.

Threads suit both, because the real work happens in the store worker, outside the GIL.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import config as settings
from . import create_app
from .lifetime import die_with_parent

#: The granian worker reads the serve command's settings from this variable (JSON).
CONFIG_VARIABLE = "DPRK_KG_SERVE_CONFIG"
#: ... and the supervisor's pid, to die with it.
PARENT_VARIABLE = "DPRK_KG_SERVE_PARENT"

log = logging.getLogger("dprk_kg")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _announce(app_config: Mapping[str, Any]) -> None:
    host, port = app_config["HOST"], int(app_config["PORT"])
    log.info("serving on http://%s:%s/ (store: %s)", host, port, app_config.get("STORE_DIR"))
    print(f"dprk-kg: serving on http://{host}:{port}/", flush=True)


def serve(config: Mapping[str, Any] | None = None) -> None:
    """Serve the app with the configured server until interrupted."""
    _configure_logging()
    resolved = settings.resolve(config)
    if resolved["SERVER"] == "waitress":
        serve_waitress(create_app(config))
    else:
        serve_granian(dict(config or {}), resolved)


def serve_waitress(app: Flask) -> None:
    """waitress, in this process."""
    from waitress import serve as waitress_serve

    _announce(app.config)
    waitress_serve(
        app,
        host=app.config["HOST"],
        port=int(app.config["PORT"]),
        threads=int(app.config["THREADS"]),
        # Larger than our own limit, so that the service (not waitress) answers 413 with a message
        # naming MAX_BODY_BYTES; waitress spools bodies above 512 KiB to disk, not to memory.
        max_request_body_size=max(4 * int(app.config["MAX_BODY_BYTES"]), int(app.config["MAX_BODY_BYTES"]) + 2**26),
        ident="dprk-kg",
        channel_timeout=int(max(app.config["QUERY_TIMEOUT"], app.config["UPDATE_TIMEOUT"]) + 30),
    )


def serve_granian(config: dict[str, Any], resolved: Mapping[str, Any]) -> None:
    """granian: this process supervises one worker process that builds the app with :func:`granian_app`.

    One worker, not several: the store worker behind it is the one process that may open
    the store, and the web tier's threads already overlap their waits on it.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    os.environ[CONFIG_VARIABLE] = json.dumps(config)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    server = Granian(
        "service.server:granian_app",
        factory=True,
        address=resolved["HOST"],
        port=int(resolved["PORT"]),
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=int(resolved["THREADS"]),
        # Threads that idle are kept (the 600 s maximum): each holds a connection to the store worker.
        blocking_threads_idle_timeout=600,
        http1_settings=HTTP1Settings(header_read_timeout=30_000),
        websockets=False,
        log_access=False,
    )
    logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
    server.serve()


def _not_the_thread_count_warning(record: logging.LogRecord) -> bool:
    """Drop granian's warning that THREADS exceeds twice the cores.

    It assumes the threads compute; ours wait on the store worker (which computes outside
    the GIL), so more threads than cores is the intended set-up, not a mistake to flag at
    every start.
    """
    return "Python threads, which seems quite high" not in record.getMessage()


def granian_app() -> Flask:
    """The factory granian's worker calls: the app with the serve command's settings."""
    die_with_parent(int(os.environ.get(PARENT_VARIABLE) or 0) or None)
    _configure_logging()
    app = create_app(json.loads(os.environ.get(CONFIG_VARIABLE) or "{}"))
    _announce(app.config)
    return app
