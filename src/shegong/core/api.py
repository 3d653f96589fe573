"""The API frame: authentication, error bodies and pagination shared by every router.

Every error answers ``{"detail": "...", "code": "...", "errors": [...]}`` with the right
status; an object outside the caller's scope answers 404 like one that does not exist.
"""

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer, django_auth

from shegong.accounts.services import api_token_authenticate

logger = logging.getLogger("shegong.api")

session_auth = django_auth  # the browser session; CSRF-checked for unsafe methods


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sg_…`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


def require(user, perm: str) -> None:
    """Refuse (403) when the caller's role lacks ``perm``; where is ``restrict``'s job."""
    if not user.has_perm(perm):
        raise PermissionDenied


class InputSchema(Schema):
    """Base of every input schema: unknown fields are rejected (security.md 11)."""

    model_config = {"extra": "forbid"}


class ErrorOut(Schema):
    """The body of every error answer."""

    detail: str
    code: str
    errors: list[dict[str, Any]] = []


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
        return _error(api, request, 403, "forbidden", _("You may not do this."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return _error(api, request, 401, "unauthenticated", _("Sign in or give an API token."))

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request, exc):
        errors = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", ""))} for e in exc.errors]
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

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int = Field(50, ge=1, le=500)

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
