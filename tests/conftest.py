"""Shared fixtures: the app, a test client, and real servers on 127.0.0.1.

``app``/``client`` serve the bundled graph read-only (session-wide: starting a store
worker and loading the data once is enough). Tests that write use ``make_app`` or
``make_live_server`` for a fresh store of their own. ``live_server`` is the real
``dprk-kg serve`` process over a real socket; ``oxigraph_server`` is the standalone
Oxigraph server from PyPI. Servers are polled for readiness, never slept for.

Tests that start processes of their own (a live server, the Oxigraph server, a CLI run as a
subprocess) are marked ``slow``: fixtures that start one request :func:`starts_processes`, which
marks every test using them; a test that runs a subprocess itself carries ``@pytest.mark.slow``.
``pytest -m "not slow"`` is then the fast subset; plain ``pytest`` runs everything.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from service import create_app

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# No test depends on the internet: entity pages of every app and live server the tests start (they inherit
# the environment) ask no remote Wikidata/DBpedia endpoint; tests of that panel pass local endpoints.
os.environ["DPRK_KG_EXTERNAL_FACTS_ENDPOINTS"] = "{}"
WRITE_TOKEN = "test-write-token"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 2xx, failing early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout} s: {last}")


@pytest.fixture(scope="session")
def starts_processes() -> None:
    """Requested by every fixture that starts a server process: the tests using it are marked ``slow``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` each test whose fixtures start processes (see :func:`starts_processes`)."""
    for item in items:
        if "starts_processes" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, loaded_store: Callable[[Path], None]) -> Iterator[Any]:
    """The service over the bundled graph, read-only (no write token)."""
    store_dir = tmp_path_factory.mktemp("app") / "store"
    loaded_store(store_dir)
    application = create_app({"TESTING": True, "STORE_DIR": str(store_dir)})
    yield application
    application.extensions["dprk_kg_store"].close()


@pytest.fixture(scope="session")
def client(app: Any) -> Any:
    """A Flask test client of :func:`app`."""
    return app.test_client()


#: Settings that decide what a new store holds: an app given any of them loads its own store.
STORE_SHAPING = {"STORE_DIR", "DATA_ROOT", "LOAD_DATA", "ENTAILMENT", "UNION_DEFAULT_GRAPH"}


@pytest.fixture(scope="session")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], None]:
    """``copy(to)``: a store holding the bundled graph as a first start leaves it, loaded once per session.

    Why: loading, deriving and compacting the bundled graph is most of what starting an app
    costs; a copy of the finished store folder is what a restarted service finds, at a
    fraction of the time. The first start itself is tested in ``tests/store/test_store.py``.
    """
    template: list[Path] = []

    def copy(to: Path) -> None:
        if not template:
            folder = tmp_path_factory.mktemp("loaded-store") / "store"
            create_app({"TESTING": True, "STORE_DIR": str(folder)}).extensions["dprk_kg_store"].close()
            template.append(folder)
        shutil.copytree(template[0], to)

    return copy


@pytest.fixture
def make_app(tmp_path: Path, loaded_store: Callable[[Path], None]) -> Iterator[Callable[..., Any]]:
    """Factory: ``make_app(**settings)`` builds an app on a fresh store, closed after the test.

    With the default data settings the store starts as a copy of :func:`loaded_store`.
    """
    made: list[Any] = []

    def factory(**settings: Any) -> Any:
        config = {"TESTING": True, "STORE_DIR": str(tmp_path / f"store{len(made)}")}
        if not STORE_SHAPING & set(settings):
            loaded_store(Path(config["STORE_DIR"]))
        config.update(settings)
        application = create_app(config)
        made.append(application)
        return application

    yield factory
    for application in made:
        application.extensions["dprk_kg_store"].close()


@dataclass
class LiveServer:
    """A real ``dprk-kg serve`` process listening on 127.0.0.1."""

    url: str
    port: int
    store_dir: Path
    process: subprocess.Popen
    args: list[str] = field(default_factory=list)

    @property
    def sparql(self) -> str:
        """The SPARQL endpoint URL."""
        return self.url + "/sparql"

    def stop(self) -> None:
        """Stop the server politely (SIGTERM), then firmly."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """``kill -9`` the server (its store worker dies with it)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


#: Address-space limit of a server that receives hostile payloads: each of its processes (the
#: serve process, its store worker, and the supervisor with --supervise) inherits it, so an attack that gets past a
#: defence fails inside the server instead of taking the machine's memory.
CONTAINED_MEMORY = 3 * 2**30


def limit_memory(limit: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's address space at ``limit`` bytes (inherited by its children)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def start_live_server(store_dir: Path, *args: str, env: dict[str, str] | None = None,
                      memory_limit: int | None = None, log_file: Path | None = None) -> LiveServer:
    """Start ``python -m service serve`` on a free port and wait until ``/health`` answers.

    ``memory_limit`` (bytes) runs the server under ``RLIMIT_AS``: every test that sends a
    hostile payload passes one (``CONTAINED_MEMORY``), so no test can endanger the machine.
    ``log_file``: the server's standard error (its log) goes there instead of the test's.
    """
    port = free_port()
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--store", str(store_dir), *args]
    process_env = dict(os.environ)
    process_env.update(env or {})
    log = open(log_file, "ab") if log_file else None  # the child keeps its own copy; ours is closed below
    try:
        process = subprocess.Popen(command, cwd=REPO, env=process_env, stdin=subprocess.DEVNULL, stderr=log,
                                   preexec_fn=limit_memory(memory_limit) if memory_limit else None)
    finally:
        if log is not None:
            log.close()
    server = LiveServer(f"http://127.0.0.1:{port}", port, store_dir, process, list(args))
    try:
        wait_for(server.url + "/health", process, timeout=120)
    except Exception:
        server.kill()
        raise
    return server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, starts_processes: None) -> Iterator[LiveServer]:
    """The real service over the bundled graph, read-only, shared by the session."""
    server = start_live_server(tmp_path_factory.mktemp("live-store"))
    yield server
    server.stop()


@pytest.fixture
def make_live_server(tmp_path: Path, starts_processes: None) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``make_live_server(*args, store_dir=None, env=None, memory_limit=None, log_file=None)``: a server
    of its own."""
    started: list[LiveServer] = []

    def factory(*args: str, store_dir: Path | None = None, env: dict[str, str] | None = None,
                memory_limit: int | None = None, log_file: Path | None = None) -> LiveServer:
        server = start_live_server(store_dir or tmp_path / f"live{len(started)}", *args, env=env,
                                   memory_limit=memory_limit, log_file=log_file)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@dataclass
class OxigraphServer:
    """The standalone Oxigraph server (PyPI package ``oxigraph``) on 127.0.0.1."""

    url: str
    process: subprocess.Popen
    location: Path

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def update_url(self) -> str:
        return self.url + "/update"

    @property
    def store_url(self) -> str:
        return self.url + "/store"

    def load(self, data: bytes, content_type: str, graph: str | None = None) -> None:
        """POST data through the Graph Store Protocol (default graph unless ``graph``)."""
        target = self.store_url + (f"?graph={urllib.request.quote(graph, safe='')}" if graph else "?default")
        request = urllib.request.Request(target, data=data, method="POST", headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable installed beside this Python."""
    candidate = Path(sys.executable).with_name("oxigraph")
    found = str(candidate) if candidate.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the 'oxigraph' server is not installed: pip install -e '.[test]'")
    return found


def start_oxigraph(location: Path) -> OxigraphServer:
    """Start ``oxigraph serve`` on a free port and wait until it answers."""
    port = free_port()
    process = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    server = OxigraphServer(f"http://127.0.0.1:{port}", process, location)
    try:
        wait_for(server.query_url + "?query=ASK%7B%7D", process)
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture
def oxigraph_server(tmp_path: Path, starts_processes: None) -> Iterator[OxigraphServer]:
    """A fresh standalone Oxigraph server for this test."""
    server = start_oxigraph(tmp_path / "oxigraph")
    yield server
    server.stop()


@pytest.fixture
def write_headers() -> dict[str, str]:
    """The Authorization header of :data:`WRITE_TOKEN`."""
    return {"Authorization": f"Bearer {WRITE_TOKEN}"}
