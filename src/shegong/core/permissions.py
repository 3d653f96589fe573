"""Page decorators for role permissions (where a role may act is ``restrict``'s job)."""

from functools import wraps

from django.core.exceptions import PermissionDenied


def permission_required_or_403(perm: str):
    """Refuse with 403 when the user's role lacks ``perm``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
