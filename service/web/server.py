"""Run the app under a production WSGI server — never Flask's development server.

Two servers, chosen by the SERVER setting:

* **granian** (default): HTTP parsing, keep-alive and socket I/O in Rust (hyper), the WSGI
  app on a pool of Python threads. It serves more requests per second than waitress on
  the same app, the more so the more clients (figures in ``bench/README.md``), because
  the GIL is no longer spent on HTTP. Request bodies are streamed to the app (our own
  MAX_BODY_BYTES check answers 413 before reading), large responses are streamed with
  back-pressure. It runs the app in a worker process under a small supervisor; that
  worker dies with the supervisor (``PR_SET_PDEATHSIG``) and the store worker with it.
  The supervisor never gives up on a worker: a worker that dies (killed, or out of memory)
  is started again at once, and when granian itself stops after a crash loop (a worker
  dying twice within a few seconds), :func:`serve_granian` starts it again — unless the
  worker never came up at all (a broken configuration still ends the command).
* **waitress**: pure Python, for platforms without granian's wheels. It has no supervisor:
  if its process dies, the service stays down until something outside restarts it.

Memory: MEMORY_LIMIT bounds the address space of the process that runs the app (granian's
worker, or waitress's process) and of the store worker it starts (each inherits its own
copy of the limit), so a runaway request ends in ``MemoryError`` — or at worst in the death
of that one worker, which is restarted — instead of the kernel's out-of-memory killer
choosing a victim on the machine. granian's own ``workers_max_rss`` samples memory every
tens of seconds, far too late for a request that allocates gigabytes per second.

The supervisor loads neither Flask nor the app (granian's worker builds it), so the memory of the modules
only the app uses is held once, by the worker.

Threads suit both, because the real work happens in the store worker, outside the GIL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from service import logs
from service.config import data_root, resolve
from service.rdf import dataset
from service.store.lifetime import die_with_parent, release_free_memory

if TYPE_CHECKING:  # the app is built where it runs (granian's worker): the supervisor never loads Flask and the app
    from flask import Flask

#: The granian worker reads the serve command's settings from this variable (JSON).
CONFIG_VARIABLE = "DPRK_KG_SERVE_CONFIG"
#: ... and the supervisor's pid, to die with it.
PARENT_VARIABLE = "DPRK_KG_SERVE_PARENT"
#: ... and a file it creates once the app is built: proof that the configuration works.
READY_VARIABLE = "DPRK_KG_SERVE_READY"
#: Seconds between granian stopping after a crash loop and its next start.
RESTART_PAUSE = 1.0

log = logging.getLogger("dprk_kg")


def _configure_logging(log_format: str) -> None:
    logs.configure(log_format)


def _announce(app_config: Mapping[str, Any]) -> None:
    host, port = app_config["HOST"], int(app_config["PORT"])
    log.info("serving on http://%s:%s/ (store: %s)", host, port, app_config.get("STORE_DIR"))
    print(f"dprk-kg: serving on http://{host}:{port}/", flush=True)


def serve(config: Mapping[str, Any] | None = None) -> None:
    """Serve the app with the configured server until interrupted."""
    resolved = resolve(config)
    _configure_logging(resolved["LOG_FORMAT"])
    # Checked here too, before a server starts: with granian the app is built in its worker process.
    dataset.require_parts(data_root(resolved), data=bool(resolved["LOAD_DATA"]))
    if resolved["SERVER"] == "waitress":
        from service import create_app

        limit_memory(int(resolved["MEMORY_LIMIT"]))
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


def serve_granian(config: dict[str, Any], resolved: Mapping[str, Any]) -> None:
    """granian: this process supervises one worker process that builds the app with :func:`granian_app`.

    One worker, not several: the store worker behind it is the one process that may open
    the store, and the web tier's threads already overlap their waits on it. A worker that
    dies is respawned by granian; if granian stops on a crash loop, it is started again here
    (after RESTART_PAUSE), as long as a worker has come up once — see the module docstring.
    """
    os.environ[CONFIG_VARIABLE] = json.dumps(config)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    ready_dir = tempfile.mkdtemp(prefix="dprk-kg-serve-")
    ready = os.path.join(ready_dir, "ready")
    os.environ[READY_VARIABLE] = ready
    logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
    try:
        while True:
            server = _granian(resolved)
            try:
                server.serve()
                return  # stopped by a signal
            except SystemExit:
                if server.interrupt_signal or not os.path.exists(ready):
                    raise  # stopped on purpose, or the app never started: a restart would not help
            log.error("granian stopped after its worker crashed repeatedly; starting it again in %g s",
                      RESTART_PAUSE)
            time.sleep(RESTART_PAUSE)
            if server.interrupt_signal:  # its signal handlers are still the ones installed
                return
    finally:
        with contextlib.suppress(OSError):
            os.remove(ready)
        with contextlib.suppress(OSError):
            os.rmdir(ready_dir)


def _granian(resolved: Mapping[str, Any]) -> Any:
    """One granian server with the service's settings (a new one per start: granian's run once)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    return Granian(
        "service.web.server:granian_app",
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
        log_access=False,  # the service logs each request itself (LOG_FORMAT=json), with its route and request id
        log_dictconfig=logs.granian_config(resolved["LOG_FORMAT"]),
        # A worker that dies (kill -9, the kernel's OOM killer, a crash in native code) is started again.
        respawn_failed_workers=True,
    )


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
    config = json.loads(os.environ.get(CONFIG_VARIABLE) or "{}")
    resolved = resolve(config)
    _configure_logging(resolved["LOG_FORMAT"])
    limit_memory(int(resolved["MEMORY_LIMIT"]))  # before the store worker starts: it inherits it
    from service import create_app

    app = create_app(config)
    release_free_memory()  # what building the app freed
    _announce(app.config)
    ready = os.environ.get(READY_VARIABLE)
    if ready:
        with contextlib.suppress(OSError), open(ready, "w"):
            pass
    return app
