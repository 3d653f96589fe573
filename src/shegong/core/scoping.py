"""The one scoping mechanism: ``Model.objects.restrict(user, action)``.

Every model that hangs off a division uses ``RestrictedQuerySet`` (directly or through a
subclass) as its default manager and names the path to a division code in ``scope_path``.
``restrict`` then keeps only the rows whose division code starts with the user's division
code (the statistical codes make a subtree a prefix) and only if the user's role may perform
``action`` on the model at all. Views, API routers, searches and exports all start from
``restrict``; ``get_scoped_or_404`` fetches one object and answers 404 both for "does not
exist" and for "not yours", so a user cannot probe for records outside their scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from shegong.accounts.models import User

VIEW = "view"
ADD = "add"
CHANGE = "change"
DELETE = "delete"


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can be narrowed to what a user may see or do."""

    def restrict(self, user: User | Any, action: str = VIEW) -> RestrictedQuerySet:
        """Rows of this queryset that ``user`` may perform ``action`` on."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        opts = self.model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return self.none()
        return self.filter(scope_filter(self.model, user))


def scope_filter(model: type[models.Model], user: User) -> Q:
    """The filter that keeps ``model`` rows inside ``user``'s scope."""
    custom = getattr(model, "scope_q", None)
    if custom is not None:
        return custom(user)
    path = getattr(model, "scope_path", None)
    if path is None:
        raise TypeError(f"{model.__name__} uses RestrictedQuerySet but declares no scope_path")
    prefix = user.scope_prefix
    if not prefix:
        return Q(pk__in=[])
    return Q(**{f"{path}__startswith": prefix})


def get_scoped_or_404(
    queryset_or_model: Any, user: User | Any, action: str = VIEW, **lookup: Any
) -> Any:
    """Fetch one object within the user's scope, or raise ``Http404`` (never 403)."""
    if isinstance(queryset_or_model, type) and issubclass(queryset_or_model, models.Model):
        queryset = queryset_or_model._default_manager.all()
    else:
        queryset = queryset_or_model
    try:
        return queryset.restrict(user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        record_refusal(user, queryset.model, lookup)
        raise Http404 from exc


def record_refusal(user, model: type[models.Model], lookup: dict) -> None:
    """Record a signed-in user's look-up that answered 404 — outside their scope, or no such
    record — in the audit trail (rate-limited per user), so that someone walking ids is
    seen (the audit administrator's "ids walked" alert)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return
    from shegong.core.audit import audit_refusal

    shown = {key: str(value)[:64] for key, value in lookup.items()}
    try:
        exists = model._default_manager.filter(**lookup).exists()
    except (ValueError, TypeError, OverflowError):
        exists = False
    audit_refusal(
        actor=user,
        action="scope.refused",
        object_type=model._meta.label_lower,
        object_id=next(iter(shown.values()), "")[:64],
        object_repr="; ".join(f"{k}={v}" for k, v in shown.items())[:255],
        after={"exists": exists},
    )
