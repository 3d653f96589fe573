"""Request middleware: client address for the audit trail and session time limits."""

import time

from django.conf import settings
from django.contrib.auth import logout

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
