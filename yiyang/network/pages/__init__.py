"""Care network pages, one module per area; each exports ``urlpatterns`` (``network/urls.py``
joins them): ``nodes`` (the tree and chain nodes), ``regions``, ``grids``,
``institutions``, ``alliances``, ``agreements``, ``staff``, ``teams``; ``editing`` holds
the edit flow their create and edit pages share.

Pages stay thin: they read through ``selectors`` (scoped to the user; ``NotFound`` is the
404 page) and write through the actions in ``services`` (whose ``ValidationFailed`` is
shown next to the form field). Access: login, then the permission
(``common.pages.page``), then the scope.
"""
