"""Pages: records (issue #6)."""

urlpatterns: list = []
