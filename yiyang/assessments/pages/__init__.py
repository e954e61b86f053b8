"""Assessment pages, one package or module per area (``sessions``: one module per step of
a session; ``schedule``); each page module exports ``urlpatterns``."""
