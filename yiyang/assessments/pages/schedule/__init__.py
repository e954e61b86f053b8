"""Assessment schedule pages, one module per area; each page module exports
``urlpatterns`` (``assessments.urls`` mounts them):

* ``dues`` — the team's due list (``assessments:due``).
* ``resident`` — the resident page's "Assessments" tab and "report a change"
  (``assessments:resident``, ``assessments:report_change``), and this app's parts of the
  resident page (its header's ability level, her "coming up" line).
* ``policies`` — the local policy pages: eligibility rules and schedule policies
  (``assessments:policy``, ``rule_create``, ``rule_edit``, ``schedule_edit``).
* ``common`` — what they share: the instruments' names, the dues' states, htmx.
"""
