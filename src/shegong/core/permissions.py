"""Refusing for a missing role permission, naming it (where a role may act is
``restrict``'s job): ``MissingPermission`` for services and the API, and the page decorator.
A 403 answer says, in the user's language, which permission the role lacks."""

from functools import wraps

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

_ACTIONS = {
    "view": lambda: pgettext("permission", "view"),
    "add": lambda: pgettext("permission", "add"),
    "change": lambda: pgettext("permission", "change"),
    "delete": lambda: pgettext("permission", "delete"),
    "approve": lambda: pgettext("permission", "approve"),
    "review": lambda: pgettext("permission", "review"),
    "close": lambda: pgettext("permission", "close"),
}
# Permissions that are not an action on a model.
_SPECIAL = {"casework.export_personal": lambda: _("export personal data")}


def permission_label(perm: str) -> str:
    """``workforce.add_socialworker`` as a person reads it: “add social worker”."""
    if perm in _SPECIAL:
        return _SPECIAL[perm]()
    app_label, _dot, codename = perm.partition(".")
    action, _sep, model_name = codename.partition("_")
    words = _ACTIONS.get(action)
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return perm
    if words is None:
        return perm
    verb, thing = words(), str(model._meta.verbose_name)
    return f"{verb}{thing}" if _is_chinese(verb) else f"{verb} {thing}"


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


class MissingPermission(PermissionDenied):
    """The role lacks ``perm``: the message names it."""

    def __init__(self, perm: str):
        self.perm = perm
        super().__init__(
            _("Your role does not have the permission “%(p)s”.") % {"p": permission_label(perm)}
        )


def check_perm(user, perm: str) -> None:
    """Refuse (403, naming the permission) when the user's role lacks ``perm``."""
    if user is None or not user.has_perm(perm):
        raise MissingPermission(perm)


def permission_required_or_403(perm: str):
    """Refuse with 403 when the user's role lacks ``perm``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            check_perm(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
