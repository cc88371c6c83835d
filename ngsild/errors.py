"""Every error the broker reports, in one place.

Each class carries the NGSI-LD problem type URI, a short title and the HTTP status; the HTTP
edge turns any of them into a ProblemDetails body in one function (``http/problems.py``).
Foreign exceptions (sqlite3, httpx, ...) are translated into these at the adapter edge.

    NgsiLdError
    ├── InvalidRequest            400  the request is syntactically broken (not JSON, unknown parameter)
    ├── BadRequestData            400  valid JSON whose content breaks NGSI-LD rules
    ├── AlreadyExists             409  create of an existing entity
    ├── Conflict                  409  the operation conflicts with the state of the system
    │   └── RevisionConflict           a revision-checked replace lost a race (retried by services)
    ├── OperationNotSupported     422
    ├── ResourceNotFound          404
    ├── NonexistentTenant         404
    ├── NoMultiTenantSupport      501
    ├── TooComplexQuery           403
    ├── TooManyResults            403
    ├── LdContextNotAvailable     503  (504 in the 1.9.1 table; the test suite expects 503; configurable)
    ├── InternalError             500
    │   └── StoreUnavailable      503  the database cannot be reached
    └── HttpError                      plain HTTP statuses with no NGSI-LD type (problem type about:blank)
        ├── MethodNotAllowed      405  carries the Allow header
        ├── NotAcceptable         406
        ├── LengthRequired        411
        ├── PayloadTooLarge       413
        └── UnsupportedMediaType  415
"""

from __future__ import annotations

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    """Base of every error the broker reports to a client."""

    type_name: str = "InternalError"
    title: str = "Internal error"
    status: int = 500

    def __init__(
        self,
        detail: str,
        *,
        instance: str | None = None,
        title: str | None = None,
        members: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance = instance
        self.members = members or {}  # RFC 7807 extension members, e.g. the violations of a schema
        if title is not None:
            self.title = title

    @property
    def type_uri(self) -> str:
        return ERROR_BASE + self.type_name

    def problem(self) -> dict[str, object]:
        """The RFC 7807 ProblemDetails body of this error."""
        body: dict[str, object] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.instance is not None:
            body["instance"] = self.instance
        body.update(self.members)
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"


class InvalidRequest(NgsiLdError):
    type_name, title, status = "InvalidRequest", "Invalid request", 400


class BadRequestData(NgsiLdError):
    type_name, title, status = "BadRequestData", "Bad request data", 400


class AlreadyExists(NgsiLdError):
    type_name, title, status = "AlreadyExists", "Already exists", 409


class Conflict(NgsiLdError):
    type_name, title, status = "Conflict", "Conflict", 409


class RevisionConflict(Conflict):
    """A revision-checked replace found a newer revision; the caller re-reads and retries."""


class OperationNotSupported(NgsiLdError):
    type_name, title, status = "OperationNotSupported", "Operation not supported", 422


class ResourceNotFound(NgsiLdError):
    type_name, title, status = "ResourceNotFound", "Resource not found", 404


class NonexistentTenant(NgsiLdError):
    type_name, title, status = "NonexistentTenant", "No such tenant", 404


class NoMultiTenantSupport(NgsiLdError):
    type_name, title, status = "NoMultiTenantSupport", "No multi-tenancy support", 501


class TooComplexQuery(NgsiLdError):
    type_name, title, status = "TooComplexQuery", "Too complex query", 403


class TooManyResults(NgsiLdError):
    type_name, title, status = "TooManyResults", "Too many results", 403


class LdContextNotAvailable(NgsiLdError):
    type_name, title, status = "LdContextNotAvailable", "JSON-LD context not available", 503


class InternalError(NgsiLdError):
    type_name, title, status = "InternalError", "Internal error", 500


class StoreUnavailable(InternalError):
    title, status = "Store unavailable", 503


class HttpError(NgsiLdError):
    """An HTTP-level refusal that NGSI-LD gives no problem type of its own."""

    @property
    def type_uri(self) -> str:
        return "about:blank"


class MethodNotAllowed(HttpError):
    title, status = "Method not allowed", 405

    def __init__(self, detail: str, *, allow: list[str]) -> None:
        super().__init__(detail)
        self.allow = allow


class NotAcceptable(HttpError):
    title, status = "Not acceptable", 406


class LengthRequired(HttpError):
    title, status = "Length required", 411


class PayloadTooLarge(HttpError):
    title, status = "Payload too large", 413


class UnsupportedMediaType(HttpError):
    title, status = "Unsupported media type", 415
