"""Request middleware: shedding load, client address for the audit trail, session time
limits, and the pages' side of the input boundary."""

import contextvars
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from shegong.core.audit import current_ip
from shegong.core.inputs import InvalidQuery, check_page_query

# Set by core.forms.BoundedForm when a bound form of this request did not validate.
form_invalid: contextvars.ContextVar[bool] = contextvars.ContextVar("form_invalid", default=False)

SESSION_STARTED_KEY = "shegong_started_at"


def client_ip(request) -> str | None:
    """The client's address as the audit trail records it."""
    return request.META.get("REMOTE_ADDR") or None


class SessionLimitsMiddleware:
    """Record the client address for audit rows and end sessions past their absolute limit.

    The idle limit is the session cookie age, renewed on every request
    (``SESSION_SAVE_EVERY_REQUEST``); the absolute limit counts from login.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                started = request.session.get(SESSION_STARTED_KEY)
                now = time.time()
                if started is None:
                    request.session[SESSION_STARTED_KEY] = now
                elif now - started > settings.SESSION_ABSOLUTE_LIMIT_SECONDS:
                    logout(request)
            return self.get_response(request)
        finally:
            current_ip.reset(token)


def queued_ms(request, now: float | None = None) -> float | None:
    """How long the request waited before the application saw it, from the reverse proxy's
    ``X-Request-Start: t=<seconds.millis>`` (nginx's ``$msec``; milliseconds are read as
    well); None without the header or with one that cannot be read."""
    value = request.META.get("HTTP_X_REQUEST_START", "").removeprefix("t=").strip()
    try:
        started = float(value)
    except ValueError:
        return None
    if started > 1e11:  # milliseconds since the epoch
        started /= 1000
    return max(0.0, ((now or time.time()) - started) * 1000)


class LoadSheddingMiddleware:
    """Shed load at a rush (security.md 23): a request that waited in the server's queue
    longer than ``SHEGONG_QUEUE_LIMIT_MS`` is answered at once with 503 and
    ``Retry-After`` — nothing is read or written for it — instead of being served late
    while the queue behind it grows. The wait is measured from the reverse proxy's
    ``X-Request-Start`` header (docs/deployment.md); without it nothing is shed. Placed right
    after the security headers' middleware: a shed request costs almost nothing and still
    carries those headers."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = float(getattr(settings, "SHEGONG_QUEUE_LIMIT_MS", 0) or 0)

    def __call__(self, request):
        if self.limit:
            waited = queued_ms(request)
            if waited is not None and waited > self.limit:
                return self._busy(request)
        return self.get_response(request)

    def _busy(self, request):
        retry = self.RETRY_AFTER_SECONDS
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "detail": f"系统繁忙，请求未处理，请 {retry} 秒后重试。",
                    "code": "overloaded",
                    "errors": [],
                },
                status=503,
            )
        else:
            response = HttpResponse(
                render_to_string("errors/503.html", {"retry_after": retry}), status=503
            )
        response["Retry-After"] = str(retry)
        response["Cache-Control"] = "no-store"
        return response


class InputBoundaryMiddleware:
    """The pages' side of the input boundary (the API's is its schemas): every query
    parameter checked (``core.inputs.check_page_query``: page numbers, years, dates and
    record numbers by name; no control characters; a length cap) and answered 400 naming
    what is wrong; a malformed multipart upload answered 400, not 500; and a POST whose
    form did not validate answered 422 (the page shows the form again with what was typed
    and the reasons) instead of 200."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            try:
                check_page_query(request.GET)
            except InvalidQuery as exc:
                return bad_request(request, str(exc))
        token = form_invalid.set(False)
        try:
            response = self.get_response(request)
            if request.method == "POST" and response.status_code == 200 and form_invalid.get():
                response.status_code = 422
            return response
        finally:
            form_invalid.reset(token)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, InvalidQuery):
            return bad_request(request, str(exception))
        if isinstance(exception, MultiPartParserError):
            return bad_request(request, _("The upload is not a valid multipart form."))
        return None


def bad_request(request, message: str) -> HttpResponse:
    """The 400 page, saying what is wrong with the request."""
    return render(request, "errors/400.html", {"message": message}, status=400)
