"""The printable assessment report (PDF), as a pure function of a ``ReportData``.

No database and no request: the caller (a view, a task, the CLI) loads and scores the
assessment, fills a ``ReportData`` and calls ``render.render_report``, which returns the
bytes of a complete A4 PDF. See docs/adr/0016-pdf-reports.md. One module per concern:

* ``data`` — what a report shows (``ReportData`` and its items and domains), the fixed
  wording of the form (``ReportLabels``) and the consistency check (``ReportDataError``).
* ``fonts`` — the font reports are typeset in (``report_font``): found, registered and
  embedded once per process.
* ``render`` — the layout and ``render_report``.
"""
