"""Resident import from Excel (.xlsx) or CSV (ADR 0013), one module per step:

* ``columns`` — the spreadsheet's columns, choices and header maps (also the export's).
* ``files`` — reading an uploaded file into a table of rows; refusing a bad upload.
* ``cells`` — converting one cell (text, date, 是/否, choice, ID number).
* ``rows`` — converting and checking a batch of rows, references looked up once.
* ``importer`` — ``ResidentImport``: a run over the rows, written in batches with their
  audit rows; the per-row results and the counts.
* ``report`` — the .xlsx report of a run.
* ``jobs`` — running an import: from bytes, from a file (the command line), as a queued job
  (the worker); the uploader's jobs and reports.
* ``template`` — the import template (.xlsx or CSV).
"""
