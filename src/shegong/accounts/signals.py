"""Audit every login, logout and failed login (security.md 16)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from shegong.core.audit import audit_record
from shegong.core.middleware import SESSION_STARTED_KEY, client_ip
from shegong.core.models import AuditEvent


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    import time

    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()
    with transaction.atomic():
        audit_record(
            actor=user,
            action="auth.login",
            target=user,
            ip_address=client_ip(request) if request is not None else None,
        )


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is None:
        return
    with transaction.atomic():
        audit_record(
            actor=user,
            action="auth.logout",
            target=user,
            ip_address=client_ip(request) if request is not None else None,
        )


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit_record(
            actor=None,
            username=username,
            action="auth.login_failed",
            outcome=AuditEvent.Outcome.DENIED,
            ip_address=client_ip(request) if request is not None else None,
        )


@receiver(user_locked_out)
def audit_locked_out(sender, request, username, ip_address, **kwargs):
    with transaction.atomic():
        audit_record(
            actor=None,
            username=str(username or "")[:150],
            action="auth.locked_out",
            outcome=AuditEvent.Outcome.DENIED,
            ip_address=ip_address,
        )
