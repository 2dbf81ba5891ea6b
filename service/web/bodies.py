"""The one reader of request bodies: bounded in size (MAX_BODY_BYTES) and time (BODY_READ_TIMEOUT), any framing.

Why one reader, run before the app: werkzeug's limited stream stops silently at the limit
on a chunked body (a cut body was acknowledged as if whole), and granian hands a request to
a web thread as soon as its headers arrive, so a thread blocks in ``wsgi.input.read`` for
as long as a client takes to send the body. :class:`BodyReader` reads every body once, to
``limit + 1`` bytes (Content-Length or chunked alike), in a reader thread the web thread
waits for at most BODY_READ_TIMEOUT; the body is then handed on as an in-memory stream with
its exact Content-Length, so whatever reads it later (``request.get_data``, ``request.form``,
``get_json``, the WSGI fast path) reads a whole, bounded body.

A reader blocked by a client that trickles bytes stays blocked until the client gives up
(no WSGI server lets a thread abandon a read); the web thread does not wait for it, and the
number of such readers is bounded (503 beyond).
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from service import problems

#: Bytes asked of the server per read: large enough for few calls, small enough to bound the overshoot.
_CHUNK = 64 * 1024


def has_body(environ: dict[str, Any]) -> bool:
    """True when the request announces a body (a positive Content-Length, or any Transfer-Encoding)."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return True
    length = environ.get("CONTENT_LENGTH") or ""
    return length.strip() not in ("", "0")


def _declared_length(environ: dict[str, Any]) -> int | None:
    """The Content-Length, or None for a chunked body; 400 when it is not a number."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    text = (environ.get("CONTENT_LENGTH") or "").strip()
    if not text.isdigit():
        raise problems.bad_request(f"The Content-Length header {text!r} is not a number of bytes.")
    return int(text)


def _read(stream: Any, declared: int | None, limit: int) -> bytes:
    """Read the body: exactly ``declared`` bytes, or (chunked) up to ``limit + 1`` bytes, never more."""
    want = declared if declared is not None else limit + 1
    parts: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(min(_CHUNK, want - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _buffered(environ: dict[str, Any]) -> bool:
    """True when the server already holds the whole body (waitress, the test client): read it inline."""
    return isinstance(environ.get("wsgi.input"), io.BytesIO) or "waitress" in str(environ.get("SERVER_SOFTWARE", ""))


class BodyReader:
    """Reads request bodies for one app: at most ``limit`` bytes, arriving within ``timeout`` seconds.

    ``max_pending`` bounds the reader threads (each may be held by a slow client until it
    gives up); when all are busy a new body is refused with 503 instead of queued.
    """

    def __init__(self, limit: int, timeout: float, max_pending: int) -> None:
        self.limit = limit
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pool = ThreadPoolExecutor(max_workers=max_pending, thread_name_prefix="body-reader")

    def read(self, environ: dict[str, Any]) -> bytes:
        """The whole body of the request in ``environ``; 413 above the limit, 408 when too slow.

        Afterwards ``environ`` carries the body as an in-memory stream with its exact length,
        so every later read of it is bounded and instant.
        """
        declared = _declared_length(environ)
        if declared is not None and declared > self.limit:
            raise problems.payload_too_large(self.limit, declared)
        stream = environ["wsgi.input"]
        if _buffered(environ):
            body = _read(stream, declared, self.limit)
        else:
            body = self._read_in_thread(stream, declared)
        if len(body) > self.limit:
            raise problems.payload_too_large(self.limit)
        if declared is not None and len(body) < declared:
            raise problems.bad_request(f"The request body ended after {len(body)} of the {declared} bytes "
                                     "its Content-Length announced.")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        return body

    def _read_in_thread(self, stream: Any, declared: int | None) -> bytes:
        if not self._slots.acquire(blocking=False):
            raise problems.overloaded("Too many request bodies are still arriving; try again shortly.",
                                    "BODY_READ_TIMEOUT")

        def task() -> bytes:
            try:
                return _read(stream, declared, self.limit)
            finally:
                self._slots.release()

        future = self._pool.submit(task)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            raise problems.request_timeout(
                f"The request body did not arrive within {self.timeout:g} s (setting BODY_READ_TIMEOUT).") from None
        except Exception as exc:  # the server's stream failed (e.g. the client went away mid-body)
            raise problems.bad_request(f"The request body could not be read: {exc}") from None

    def close(self) -> None:
        """Stop accepting bodies; readers still blocked end with their connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
