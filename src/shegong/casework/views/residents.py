"""Pages: residents (issue #6)."""

urlpatterns: list = []
