"""Request middleware: shedding load, client address for the audit trail, session time
limits."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from shegong.core.audit import current_ip

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
