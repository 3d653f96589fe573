"""Template blocks the network contributes to other pages (the home page)."""

from django import template
from django.utils import timezone

from shegong.core.roles import SUPERVISING_TIER
from shegong.network.selectors import overdue_fixes

register = template.Library()


@register.inclusion_tag("network/overdue_fixes.html", takes_context=True)
def overdue_fixes_block(context):
    """Required fixes past their deadline, for the user whose tier supervises them."""
    user = context["request"].user
    tier = SUPERVISING_TIER.get(user.role)
    fixes = []
    if tier and user.has_perm("network.view_requiredfix"):
        fixes = list(
            overdue_fixes(user=user, today=timezone.localdate())
            .filter(visit__supervisor__tier=tier)
            .order_by("deadline")[:20]
        )
    return {"fixes": fixes, "supervises": bool(tier)}


@register.filter
def out_of(part, whole) -> str:
    """``12|out_of:38`` → ``12 / 38`` (both grouped: ``4,350 / 11,270``)."""
    from shegong.core.templatetags.shegong import num

    return f"{num(part)} / {num(whole)}"


@register.filter
def facility_tone(facility) -> str:
    """The status tag's colour of a facility (as in the facility list)."""
    from shegong.network.lists import STATUS_TONES

    return STATUS_TONES.get(facility.status, "muted")
