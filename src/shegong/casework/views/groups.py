"""Pages: groups (issue #6)."""

urlpatterns: list = []
