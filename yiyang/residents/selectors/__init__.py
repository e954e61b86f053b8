"""The residents app's reads, scoped to the acting user (what other apps use to find a
resident and read her record). One module per topic:

* ``registry`` — the registry scope: ``scoped_residents``, ``residents_for``,
  ``get_resident_for``, ``locked_resident_for`` and the scope filters.
* ``people`` — her contacts, consents and proxy grants (``contacts_for`` …).
* ``health`` — the health record (``conditions_for``, ``observations_for``,
  ``latest_vitals`` …), behind ``access.require_health_view``.
"""
