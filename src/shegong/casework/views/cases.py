"""Pages: cases (issue #6)."""

urlpatterns: list = []
