"""Core models: the append-only, hash-chained audit trail; background import jobs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shegong.core.crypto import EncryptedTextField
from shegong.core.roles import Role
from shegong.core.scoping import RestrictedQuerySet


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class AuditEventQuerySet(RestrictedQuerySet):
    """Audit rows can be read and appended, never updated or deleted by the application."""

    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One entry of the audit trail: who did what to which object, when and from where.

    Rows form a keyed hash chain: ``hash`` is an HMAC, with a key kept outside the database,
    of the row's content and the previous row's hash, so an edited, inserted or deleted row
    breaks the chain at that point and cannot be re-sealed without the key
    (``shegong audit verify``; signed checkpoints kept elsewhere catch a rewrite or a cut-off
    end). Database triggers refuse UPDATE and DELETE as well.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_username = models.CharField(_("user name"), max_length=150, blank=True)
    actor_division_code = models.CharField(_("actor's division"), max_length=12, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which audit key sealed the row (``core.audit.key_id``); empty (NULL) for rows hashed
    # without a key, before the chain was keyed.
    key_id = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001 (see 0005)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    @classmethod
    def scope_q(cls, user) -> Q:
        """Audit administrators see the events of actors in their division subtree."""
        return Q(actor_division_code__startswith=user.scope_prefix) | Q(actor_division_code="")


class AuditChainHead(models.Model):
    """The chain's last sequence number and hash; locked while a row is appended."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"


class ImportJob(models.Model):
    """A file import run as a background task: the uploaded file, its progress, and the
    report (counts and the bad rows). Only its creator sees a job, and city administrators
    the jobs of their division subtree. The uploaded bytes (which may hold personal data)
    are dropped once the job has finished."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    MAX_STORED_ERRORS = 1000

    kind = models.CharField(_("kind"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(editable=False, default=b"")
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    done_rows = models.PositiveIntegerField(_("rows done"), default=0)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    created = models.PositiveIntegerField(_("created"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    # [{"line": Excel row number, "reason": "..."}], the first MAX_STORED_ERRORS of them
    errors = models.JSONField(_("bad rows"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_at = models.DateTimeField(_("running since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Where the platform is reached (scheme and host of the upload), for links in a result.
    origin = models.CharField(_("origin"), max_length=200, blank=True)
    # A file the import gives back (e.g. the one-time set-password links of new users):
    # encrypted at rest, for its creator only, dropped when it expires.
    result = EncryptedTextField(_("result file"), blank=True, default="")
    result_name = models.CharField(_("result file name"), max_length=100, blank=True)
    result_expires_at = models.DateTimeField(_("result available until"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.filename}"

    @classmethod
    def scope_q(cls, user) -> Q:
        """The creator sees their own jobs; a city administrator those of their subtree."""
        prefix = user.scope_prefix
        if not prefix:
            return Q(pk__in=[])
        in_scope = Q(**{f"{cls.scope_path}__startswith": prefix})
        if user.role == Role.CITY_ADMIN:
            return in_scope
        return in_scope & Q(created_by_id=user.pk)

    @property
    def result_available(self) -> bool:
        """Whether the file the job gave back can still be downloaded."""
        return bool(
            self.result_name
            and self.result_expires_at is not None
            and self.result_expires_at > timezone.now()
        )

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.done_rows * 100 // self.total_rows)
