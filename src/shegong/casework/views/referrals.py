"""Pages: referrals (issue #6)."""

urlpatterns: list = []
