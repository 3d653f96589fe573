"""Template context shared by every page."""

from django.conf import settings


def platform(request):
    """Platform name and demo flag for the page frame."""
    return {"PLATFORM_NAME": settings.PLATFORM_NAME, "DEMO_MODE": settings.DEMO_MODE}
