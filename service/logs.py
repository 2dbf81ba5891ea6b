"""How the service's processes log: plain text lines (the default) or one JSON object per line (LOG_FORMAT=json).

Why JSON lines: a log shipper (journald, Loki, Elasticsearch, CloudWatch) reads fields, not sentences; a request
line then carries its request id, route, status, duration and bytes as fields to search and aggregate. Why one
module at the bottom of the layers: the serving process (the app and granian) and the store worker both configure
their logging here, so every process of one service writes one format.

The request id of the request a thread is answering lives in :data:`REQUEST_ID` (set by the web tier's outer
layer, :mod:`service.web.observe`), so any record logged while answering it — an unhandled error's traceback
included — carries that id in JSON mode.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Any

#: The id of the request being answered on this thread (``None`` outside a request).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("dprk_kg_request_id", default=None)

#: Attributes every :class:`logging.LogRecord` has: anything else on a record was passed as ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``,
    the request id when a request is being answered, the fields passed as ``extra``, and ``exception`` (the
    traceback as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.gmtime(record.created)
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(log_format: str = "text", text_format: str = "%(asctime)s %(name)s %(levelname)s %(message)s") -> None:
    """Configure the root logger of this process (INFO, to stderr) in ``log_format``: ``text`` lines in
    ``text_format``, or ``json`` objects (:class:`JsonFormatter`). Replaces handlers set before, so a process
    configured twice writes each record once."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(text_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def granian_config(log_format: str) -> dict[str, Any] | None:
    """granian's own logging configuration (its ``log_dictconfig``) for ``log_format``: in JSON mode its lines
    (start, stop, worker respawns) are JSON objects too; ``None`` keeps granian's default."""
    if log_format != "json":
        return None
    formatter = {"()": f"{__name__}.JsonFormatter"}
    stream = {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {"formatters": {"json": formatter},
            "handlers": {"console": stream, "access": stream}}
