"""Assessment pages, one package per area (``sessions``: one module per step of a session;
``schedule``: the due list, the resident's tab, the policy pages); each page module exports
``urlpatterns``."""
