"""The API frame: authentication, the input boundary's schema base, error bodies and
pagination shared by every router.

Every error answers ``{"detail": "...", "code": "...", "errors": [...]}`` with the right
status (and every operation documents those answers); an object outside the caller's scope
answers 404 like one that does not exist; a refusal for a missing permission names it.
"""

import logging
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from pydantic import field_validator

from shegong.accounts.services import api_token_authenticate, api_token_find
from shegong.core.inputs import PageNumber, PageSize, check_value
from shegong.core.permissions import MissingPermission, check_perm

logger = logging.getLogger("shegong.api")


class SessionAuth(NinjaSessionAuth):
    """The browser session, CSRF-checked for unsafe methods — but only once there is a
    signed-in session: a request without one is unauthenticated (401), not a CSRF failure."""

    def __call__(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        try:
            return super().__call__(request)
        except HttpError as exc:
            raise PermissionDenied(
                _("The security check (CSRF) failed: reload the page and try again.")
            ) from exc


session_auth = SessionAuth()


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sg_…`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        found = api_token_find(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token = found
        return found.user


def require(user, perm: str) -> None:
    """Refuse (403, naming the permission) when the caller's role lacks ``perm``; where is
    ``restrict``'s job."""
    check_perm(user, perm)


def signed_in_or_token(view):
    """For the API's schema and docs: a bearer token or a signed-in session (a browser
    without either is sent to sign in; a client without either gets 401)."""
    browser_view = login_required(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            user = api_token_authenticate(header[7:].strip())
            if user is None:
                return JsonResponse(
                    {"detail": _("Sign in or give an API token."), "code": "unauthenticated"},
                    status=401,
                )
            request.user = user
            return view(request, *args, **kwargs)
        return browser_view(request, *args, **kwargs)

    return wrapped


class InputSchema(Schema):
    """Base of every input schema (body and query): unknown fields are rejected, and every
    value passes the input boundary (``core.inputs.check_value``: text without control
    characters, numbers within 64 bits, dates within the calendar), whatever its declared
    type — the bounded types of ``core.inputs`` document and narrow it further."""

    model_config = {"extra": "forbid"}

    @field_validator("*", mode="after")
    @classmethod
    def _within_the_boundary(cls, value):
        return check_value(value)


class ErrorOut(Schema):
    """The body of every error answer."""

    detail: str
    code: str
    errors: list[dict[str, Any]] = []
    permission: str | None = None


# Pydantic's error types, said in the user's language (the field is named by "loc").
def _pydantic_message(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "value_error":
        return str(context.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    messages = {
        "missing": lambda: _("This field is required."),
        "extra_forbidden": lambda: _("This field is not expected."),
        "string_too_long": lambda: (
            _("At most %(n)s characters.") % {"n": context.get("max_length")}
        ),
        "string_too_short": lambda: (
            _("At least %(n)s characters.") % {"n": context.get("min_length")}
        ),
        "less_than_equal": lambda: _("At most %(n)s.") % {"n": context.get("le")},
        "greater_than_equal": lambda: _("At least %(n)s.") % {"n": context.get("ge")},
        "less_than": lambda: _("Less than %(n)s.") % {"n": context.get("lt")},
        "greater_than": lambda: _("More than %(n)s.") % {"n": context.get("gt")},
        "int_parsing": lambda: _("Give a whole number."),
        "int_from_float": lambda: _("Give a whole number."),
        "decimal_parsing": lambda: _("Give a number."),
        "decimal_max_digits": lambda: _("At most %(n)s digits.") % {"n": context.get("max_digits")},
        "decimal_max_places": lambda: (
            _("At most %(n)s decimal places.") % {"n": context.get("decimal_places")}
        ),
        "date_parsing": lambda: _("Give a date as YYYY-MM-DD."),
        "date_from_datetime_parsing": lambda: _("Give a date as YYYY-MM-DD."),
        "datetime_parsing": lambda: _("Give a date and time, e.g. 2024-01-31T09:00:00+08:00."),
        "datetime_from_date_parsing": lambda: _(
            "Give a date and time, e.g. 2024-01-31T09:00:00+08:00."
        ),
        "enum": lambda: _("Choose one of: %(v)s") % {"v": context.get("expected", "")},
        "bool_parsing": lambda: _("Give true or false."),
        "too_long": lambda: _("At most %(n)s items.") % {"n": context.get("max_length")},
        "list_type": lambda: _("Give a list."),
        "string_type": lambda: _("Give a text."),
        "string_unicode": lambda: _("The text holds characters that cannot be read."),
    }
    maker = messages.get(kind)
    return maker() if maker else str(error.get("msg", ""))


def _error(api: NinjaAPI, request, status: int, code: str, detail: str, errors=None):
    return api.create_response(
        request, {"detail": detail, "code": code, "errors": errors or []}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every failure with the same body shape and never leak a traceback."""

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _error(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        if isinstance(exc, MissingPermission):
            return api.create_response(
                request,
                {
                    "detail": str(exc),
                    "code": "forbidden",
                    "errors": [],
                    "permission": exc.perm,
                },
                status=403,
            )
        return _error(api, request, 403, "forbidden", str(exc) or _("You may not do this."))

    @api.exception_handler(MultiPartParserError)
    def bad_upload(request, exc):
        return _error(
            api, request, 400, "bad_request", _("The upload is not a valid multipart form.")
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return _error(api, request, 401, "unauthenticated", _("Sign in or give an API token."))

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request, exc):
        errors = [{"loc": list(e.get("loc", [])), "msg": _pydantic_message(e)} for e in exc.errors]
        return _error(api, request, 422, "invalid", _("The input is not valid."), errors)

    @api.exception_handler(DjangoValidationError)
    def invalid_domain(request, exc):
        if hasattr(exc, "message_dict"):
            errors = [{"loc": [k], "msg": m} for k, ms in exc.message_dict.items() for m in ms]
        else:
            errors = [{"loc": [], "msg": m} for m in exc.messages]
        return _error(api, request, 422, "invalid", _("The input is not valid."), errors)

    @api.exception_handler(ObjectDoesNotExist)
    def missing(request, exc):
        return _error(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return _error(api, request, exc.status_code, "error", str(exc))

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return _error(api, request, 500, "server_error", _("Something went wrong."))


class Pagination(PaginationBase):
    """Page-number pagination: ``?page=2&page_size=50`` → count, page, page_size, results."""

    class Input(InputSchema):
        page: PageNumber = 1
        page_size: PageSize = 50

    class Output(Schema):
        count: int
        page: int
        page_size: int
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(self, queryset, pagination: Input, **params):
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
            "results": list(queryset[offset : offset + pagination.page_size]),
        }


ERROR_ANSWERS = {
    "400": "The request cannot be read (e.g. a multipart upload without a boundary).",
    "401": "No signed-in session and no valid API token.",
    "403": "The role lacks the permission (named in the body), or a protected record.",
    "404": "Not found, or outside the caller's area.",
    "409": "Stale: the record changed since it was read (send the current version).",
    "422": "The input is not valid (every field at fault in errors).",
    "503": "The server is busy: try again after Retry-After seconds.",
}


class ShegongAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document states the error answers every operation may
    give (``ErrorOut``), so that a client — or a schema-driven fuzzer — knows them; and
    whose every answer is sent ``Cache-Control: no-store`` (security.md 14: answers are
    per user and many hold personal data, masked or not — no proxy or browser keeps them)."""

    def create_response(self, request, data, *, status=None, temporal_response=None):
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        response["Cache-Control"] = "no-store"
        return response

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        info = schema.setdefault("info", {})  # in the reader's language
        info["title"], info["description"] = str(self.title), str(self.description or "")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        reference = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                # an operation's own answers may be keyed by number (403) and ours by text
                # ("403"): one key each, or the document has duplicate keys (Swagger's YAML
                # reader refuses it and the docs page stays blank)
                for key in [k for k in answers if not isinstance(k, str)]:
                    answers.setdefault(str(key), answers.pop(key))
                for status, description in ERROR_ANSWERS.items():
                    answers.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": reference}},
                        },
                    )
        return schema
