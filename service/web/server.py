"""Run the app under a production WSGI server — never Flask's development server.

Two servers, chosen by the SERVER setting:

* **granian** (default): HTTP parsing, keep-alive and socket I/O in Rust (hyper), the WSGI
  app on a pool of Python threads. It serves more requests per second than waitress on
  the same app, the more so the more clients (figures in ``bench/README.md``), because
  the GIL is no longer spent on HTTP. Request bodies are streamed to the app (our own
  MAX_BODY_BYTES check answers 413 before reading), large responses are streamed with
  back-pressure. granian runs here in the ``dprk-kg serve`` process itself, its worker a
  thread (granian's ``MTServer``), not a second process under a supervisor: each Python
  process holds its own interpreter, granian and native libraries (about 29 MB for the
  supervisor alone), and the issue's memory target for the whole tree has no room for
  one more. What that gives up by default: nothing restarts the web tier if this process
  dies (killed, out of memory); run it under systemd, a container runtime or another process
  manager that restarts it, as for waitress, or turn on SUPERVISE, which puts a small
  supervisor process above it (:mod:`service.web.supervisor`). The store worker is still
  restarted by the store client whenever it dies.
* **waitress**: pure Python, for platforms without granian's wheels.

Memory: MEMORY_LIMIT bounds the address space of the process that runs the app and of the
store worker it starts (each inherits its own copy of the limit), so a runaway request ends
in ``MemoryError`` — or at worst in the death of one process — instead of the kernel's
out-of-memory killer choosing a victim on the machine. granian's own ``workers_max_rss``
samples memory every tens of seconds, far too late for a request that allocates gigabytes
per second.

Threads suit both, because the real work happens in the store worker, outside the GIL.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from service import logs
from service.config import data_root, resolve
from service.rdf import dataset
from service.store.lifetime import die_with_parent, release_free_memory
from service.web.supervisor import ready_notifier

if TYPE_CHECKING:
    from flask import Flask

#: Seconds between granian stopping (its worker thread ended unexpectedly) and its next start.
RESTART_PAUSE = 1.0

log = logging.getLogger("dprk_kg")


def _nothing() -> None:
    """No supervisor to tell."""


def _configure_logging(log_format: str) -> None:
    logs.configure(log_format)


def _announce(app_config: Mapping[str, Any], ready: Callable[[], None]) -> None:
    """Say where the service listens (the socket is bound), and tell the supervisor, if there is one (SUPERVISE)."""
    host, port = app_config["HOST"], int(app_config["PORT"])
    log.info("serving on http://%s:%s/ (store: %s)", host, port, app_config.get("STORE_DIR"))
    print(f"dprk-kg: serving on http://{host}:{port}/", flush=True)
    ready()


def serve(config: Mapping[str, Any] | None = None) -> None:
    """Serve the app with the configured server until interrupted."""
    ready = ready_notifier()  # first: nothing started from here on may hold the supervisor's pipe
    if ready is None:
        ready = _nothing
    else:  # under SUPERVISE: if the supervisor is killed, this process ends too (as under a process manager)
        die_with_parent()
    resolved = resolve(config)
    _configure_logging(resolved["LOG_FORMAT"])
    # Checked before anything starts, so that a missing bundle is named before the store worker is started.
    dataset.require_parts(data_root(resolved), data=bool(resolved["LOAD_DATA"]))
    if resolved["SERVER"] == "waitress":
        from service import create_app

        limit_memory(int(resolved["MEMORY_LIMIT"]))
        serve_waitress(create_app(config), ready)
    else:
        serve_granian(dict(config or {}), resolved, ready)


def serve_waitress(app: Flask, ready: Callable[[], None] = lambda: None) -> None:
    """waitress, in this process (``waitress.serve`` in steps, so that the socket is bound when it is announced)."""
    from waitress import create_server

    server = create_server(
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
    _announce(app.config, ready)
    server.run()


def limit_memory(limit: int) -> None:
    """Cap this process's address space at ``limit`` bytes (RLIMIT_AS; 0: leave it), inherited by its children.

    Only lowered, never raised: a tighter limit set from outside (e.g. by a test) stays.
    """
    if limit <= 0:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    new = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    if soft == resource.RLIM_INFINITY or new < soft:
        resource.setrlimit(resource.RLIMIT_AS, (new, hard))


def serve_granian(config: dict[str, Any], resolved: Mapping[str, Any],
                  ready: Callable[[], None] = lambda: None) -> None:
    """granian in this process: the app is built here, and granian serves it from one worker thread.

    One worker, not several: the store worker behind it is the one process that may open
    the store, and the web tier's threads already overlap their waits on it. If granian
    stops because its worker thread ended unexpectedly, it is started again here (after
    RESTART_PAUSE) on the same app; a signal (SIGTERM, SIGINT) stops it for good.
    """
    limit_memory(int(resolved["MEMORY_LIMIT"]))  # before the store worker starts: it inherits it
    from service import create_app

    app = create_app(config)
    release_free_memory()  # what building the app freed
    logging.getLogger("_granian").addFilter(_not_the_free_threading_warning)
    while True:
        server = _granian(resolved)
        server.on_startup(lambda: _announce(app.config, ready))  # the socket is bound by then
        try:
            server.serve(target_loader=lambda: app, wrap_loader=False)
            return  # stopped by a signal
        except SystemExit:
            if server.interrupt_signal:
                raise  # stopped on purpose
        log.error("granian stopped after its worker ended unexpectedly; starting it again in %g s", RESTART_PAUSE)
        time.sleep(RESTART_PAUSE)
        if server.interrupt_signal:  # its signal handlers are still the ones installed
            return


def _granian(resolved: Mapping[str, Any]) -> Any:
    """One granian server with the service's settings (a new one per start: granian's run once).

    granian's ``MTServer`` runs its workers as threads of this process; granian picks it only on
    free-threaded Python builds and refuses it elsewhere. Here the GIL is no obstacle: the worker
    thread runs the same Rust server a worker process would, and the app's threads spend their time
    waiting on the store worker, outside the GIL (``bench/bench_sparql.py`` compares the two).
    """
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server.mt import MTServer

    class OneProcessServer(MTServer):  # type: ignore[misc]
        def _check_gil(self) -> None:
            """Accept a Python with the GIL: see :func:`_granian`."""

    return OneProcessServer(
        "service.web.server:app",  # a label only: the app is handed to serve() already built
        address=resolved["HOST"],
        port=int(resolved["PORT"]),
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=int(resolved["THREADS"]),
        # Threads that idle are kept (the 600 s maximum): each holds a connection to the store worker.
        blocking_threads_idle_timeout=600,
        http1_settings=HTTP1Settings(header_read_timeout=30_000),
        websockets=False,
        log_access=False,  # the service logs each request itself (LOG_FORMAT=json), with its route and request id
        log_dictconfig=logs.granian_config(resolved["LOG_FORMAT"]),
        # A worker thread that ends unexpectedly is started again.
        respawn_failed_workers=True,
    )


def _not_the_free_threading_warning(record: logging.LogRecord) -> bool:
    """Drop granian's warning that free-threaded Python support is experimental: this Python has the GIL,
    and granian's thread worker runs here by choice (:func:`_granian`)."""
    return "free-threaded Python support is experimental" not in record.getMessage()
