"""The casework pages, one module per part; each module declares its own ``urlpatterns``."""
