"""The servers under test and a plain HTTP client for them.

Why ``http.client`` and not a SPARQL library: the protocol tests prescribe the exact
method, path, headers and body of each request (including wrong ones), so the runner
must send bytes as written and see the raw status, headers and body.

Both targets run on 127.0.0.1 on a free port, on an empty store of their own in a
temporary folder: ``ours`` is ``python -m service serve`` with entailment and the union
default graph off (the W3C suites assume a plain SPARQL dataset), ``oxigraph`` is the
standalone Oxigraph server.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
WRITE_TOKEN = "conformance-write-token"


@dataclass
class Response:
    """What came back: status, headers (names lower-cased), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def brief(self) -> str:
        """Status and the start of the body, for failure messages."""
        text = self.body[:160].decode("utf-8", "replace").replace("\n", " ").strip()
        return f"HTTP {self.status}" + (f" ({text})" if text else "")


@dataclass
class Target:
    """A server under test: where its endpoints are and how to authorize writes."""

    name: str
    url: str
    query_path: str
    update_path: str
    store_path: str
    headers: dict[str, str] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)
    process: subprocess.Popen | None = None
    folder: str | None = None
    log: Path | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            self._local.conn = conn
        return conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, *, authorize: bool = True) -> Response:
        """Send one request on this thread's keep-alive connection (reconnecting once if it dropped)."""
        all_headers = dict(self.headers) if authorize else {}
        all_headers.update(headers or {})
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                response = conn.getresponse()
                data = response.read()
                result = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
                if response.will_close:
                    conn.close()
                    self._local.conn = None
                return result
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def query(self, sparql: str, accept: str) -> Response:
        """A query by direct POST (application/sparql-query)."""
        return self.request("POST", self.query_path, sparql.encode("utf-8"),
                            {"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept})

    def update(self, sparql: str) -> Response:
        """An update by direct POST (application/sparql-update)."""
        return self.request("POST", self.update_path, sparql.encode("utf-8"),
                            {"Content-Type": "application/sparql-update; charset=utf-8"})

    def stop(self) -> None:
        """Stop the server this runner started (never one it was given with --url)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def endpoints(name: str, url: str, write_token: str | None = None) -> Target:
    """The endpoint layout of a target kind at ``url``."""
    url = url.rstrip("/")
    if name == "ours":
        return Target(name, url, "/sparql", "/sparql", "/store",
                      headers={"Authorization": f"Bearer {write_token or WRITE_TOKEN}"})
    if name == "oxigraph":
        return Target(name, url, "/query", "/update", "/store")
    raise ValueError(f"--target must be 'ours' or 'oxigraph', got {name!r}")


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable installed beside this Python (PyPI package ``oxigraph``)."""
    candidate = Path(sys.executable).with_name("oxigraph")
    found = str(candidate) if candidate.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the 'oxigraph' server is not installed (pip install oxigraph)")
    return found


def start(name: str, *, extra_args: list[str] | None = None, timeout: float = 120.0) -> Target:
    """Start a target on a free port with an empty store and wait until it answers."""
    folder = tempfile.mkdtemp(prefix=f"conformance-{name}-")
    port = free_port()
    log = Path(folder) / "server.log"
    if name == "ours":
        command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--store", str(Path(folder) / "store"), "--no-data", "--entailment", "none",
                   "--no-union-default-graph", "--no-validate-writes", "--write-token", WRITE_TOKEN,
                   *(extra_args or [])]
        ready_path = "/health"
    else:
        command = [oxigraph_binary(), "serve", "--location", str(Path(folder) / "store"), "--bind",
                   f"127.0.0.1:{port}", *(extra_args or [])]
        ready_path = "/query?query=ASK%7B%7D"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT)
    target = endpoints(name, f"http://127.0.0.1:{port}")
    target.process, target.folder, target.log, target.pids = process, folder, log, [process.pid]
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            target.stop()
            raise RuntimeError(f"{name} server exited with code {process.returncode} during start-up:\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if target.request("GET", ready_path, authorize=False).status == 200:
                return target
        if time.monotonic() > deadline:
            target.stop()
            raise RuntimeError(f"{name} server did not answer {ready_path} within {timeout:g} s")
        time.sleep(0.05)
