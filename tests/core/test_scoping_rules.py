"""Every model that hangs off a division is scoped through the one mechanism."""

from django.apps import apps

from shegong.core.scoping import RestrictedQuerySet


def test_every_project_model_has_a_restricted_default_manager():
    unscoped = []
    for model in apps.get_models():
        if not model.__module__.startswith("shegong."):
            continue
        if model.__name__ == "AuditChainHead":
            continue  # the chain's bookkeeping row, never shown
        queryset = model._default_manager.get_queryset()
        if not isinstance(queryset, RestrictedQuerySet):
            unscoped.append(model.__name__)
        elif getattr(model, "scope_q", None) is None and getattr(model, "scope_path", None) is None:
            unscoped.append(f"{model.__name__} (no scope_path)")
    assert unscoped == []
