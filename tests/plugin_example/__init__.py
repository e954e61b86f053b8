"""A small example app, installed only by ``tests/test_plugin_example.py``: it shows that
an app plugs in a permission, a navigation entry, page routes, an API router and a
resident tab from its own package — the only file outside it that changes is the settings'
app list (here ``settings.py`` beside it, which extends the platform's)."""
