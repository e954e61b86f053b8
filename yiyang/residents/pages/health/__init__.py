"""The health-record tabs of the resident page: conditions, medications, allergies,
observations (latest values, BP and glucose charts, recent readings, quick entry forms),
encounters and documents.

Each tab is ``residents:<tab>`` (``<pk>/<tab>/``) rendered with ``shell.render_tab``: an
htmx request gets the fragment, a plain one the whole page. The inline forms post with
htmx and get the re-rendered tab back (so a recorded BP shows at once in the chart and the
table); without htmx the same POST redirects back to the tab (or shows the page with the
errors). Editing a row (``<tab>/<id>/edit/``) shows the row as a form in place; removing
(``<tab>/<id>/remove/``) is a POST with a confirmation.

Access: ``shell.resident_page`` (login, scope — 404, audited read), then the tab's
visibility (``require_tab``: the right to see the health record), and for a write the
permission (``ResidentPerm.HEALTH_MANAGE`` / ``ResidentPerm.OBSERVATION_RECORD``, else 403)
before the service, which checks consent and input.

One module per concern, each with its ``urlpatterns``:

* ``areas`` — the list tabs: conditions, medications, allergies and encounters (add, edit
  in place, remove).
* ``observations`` — latest values, the BP and glucose charts, recent readings and the
  quick entry forms.
* ``documents`` — upload, download and remove files of the health record.
* ``common`` — what they share: the form base and field helpers, the permission check,
  the consent state, a service refusal next to its field, the redirect back to a tab.
"""
