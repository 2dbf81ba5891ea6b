"""Errors are values until one place turns them into a response.

Why: every protocol error must name the parameter or limit involved, use the status
the specification gives, and never leak a stack trace. Views raise :class:`ApiError`
(usually through the small constructors below); :func:`init_app` installs the single
handler that renders it — as JSON for clients that ask for JSON, plain text otherwise.
Unexpected exceptions are logged with their traceback and answered with a generic 500.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error to return to the client: an HTTP status, a message, optional details.

    ``details`` is merged into the JSON body (for example a validation report);
    ``headers`` are added to the response (for example ``WWW-Authenticate``); ``cause`` names what refused
    the request when operators count it apart (``"guard"``: the SPARQL guard), never shown to the client.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        title: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title
        self.details = details or {}
        self.headers = headers or {}
        self.cause = cause


def bad_request(message: str, **kwargs: Any) -> ApiError:
    """400: the request is malformed; the message says which parameter and why."""
    return ApiError(400, message, title="Bad Request", **kwargs)


UNAUTHORIZED = "This operation needs a write token: send 'Authorization: Bearer <token>'."


def unauthorized(message: str = UNAUTHORIZED) -> ApiError:
    """401: a write was attempted without credentials."""
    return ApiError(401, message, title="Unauthorized", headers={"WWW-Authenticate": 'Bearer realm="dprk-kg"'})


def forbidden(message: str) -> ApiError:
    """403: credentials were given but do not allow this operation."""
    return ApiError(403, message, title="Forbidden")


def read_only() -> ApiError:
    """403: no write token is configured, so the service accepts no writes at all."""
    return ApiError(
        403,
        "The server is read-only: no write token is configured (set --write-token or DPRK_KG_WRITE_TOKEN).",
        title="Forbidden",
    )


def not_found(message: str) -> ApiError:
    """404, naming the missing thing."""
    return ApiError(404, message, title="Not Found")


def method_not_allowed(message: str, allowed: list[str]) -> ApiError:
    """405 with the ``Allow`` header the HTTP specification requires."""
    return ApiError(405, message, title="Method Not Allowed", headers={"Allow": ", ".join(allowed)})


def not_acceptable(accepted: list[str]) -> ApiError:
    """406 listing the media types we can produce."""
    return ApiError(
        406,
        "The Accept header matches no format we can produce; accepted: " + ", ".join(accepted),
        title="Not Acceptable",
        details={"accepted": accepted},
    )


def payload_too_large(limit: int, found: int | None = None) -> ApiError:
    """413 naming the limit (and the size found, when known)."""
    found_text = f", found {found} bytes" if found is not None else ""
    return ApiError(
        413,
        f"Request bodies are limited to {limit} bytes{found_text} (setting MAX_BODY_BYTES).",
        title="Payload Too Large",
    )


def unsupported_media_type(content_type: str | None, supported: list[str]) -> ApiError:
    """415 naming the media type received and the ones we accept."""
    return ApiError(
        415,
        f"Unsupported Content-Type {content_type or '(none)'!r}; supported: " + ", ".join(supported),
        title="Unsupported Media Type",
        details={"supported": supported},
    )


def unprocessable(message: str, report: dict[str, Any] | None = None) -> ApiError:
    """422: well-formed, but refused because it breaks a rule (e.g. a SHACL shape)."""
    return ApiError(422, message, title="Unprocessable Content", details={"report": report} if report else None)


def timeout(limit: float, setting: str = "QUERY_TIMEOUT") -> ApiError:
    """503: the work was stopped at its time limit (and no longer uses CPU)."""
    return ApiError(
        503,
        f"The operation was stopped after the time limit of {limit:g} s (setting {setting}).",
        title="Timeout",
        headers={"Retry-After": "1"},
    )


def request_timeout(message: str) -> ApiError:
    """408: the request (its body) did not arrive in time; the message names the setting."""
    return ApiError(408, message, title="Request Timeout")


def overloaded(message: str, setting: str, retry_after: int = 1) -> ApiError:
    """503 with ``Retry-After``: this kind of work is at its limit right now; the message names the setting."""
    return ApiError(503, f"{message} (setting {setting})", title="Service Unavailable",
                    headers={"Retry-After": str(retry_after)})
