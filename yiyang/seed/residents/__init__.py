"""Synthetic residents with households, contacts, consents and a health record.

Generated per county from ``random.Random(f"residents:{seed}:{county code}")`` (so a county
gets the same people whichever other counties are seeded with it) and written with
``BulkWriter`` (COPY on PostgreSQL): the city preset's million residents and their several
million rows of health data would take hours through the ORM.

One module per concern; the generator is one class (``people.ResidentSeeder``) built up
over the modules, each adding the rows of its concern:

* ``population`` — what the numbers rest on: ages, households, markers, diseases and
  their medicines.
* ``counties`` — what the generator needs from the network: the counties with their
  villages, grids and care homes.
* ``base`` — the generator's state: the writer's tables and their columns, the counters,
  the demo's named people.
* ``health`` — the health record: diagnoses with medication, a year of readings.
* ``contacts`` — the children recorded as contacts (and guardian), the consents.
* ``people`` — households and residents, county by county, and the demo's resident.
* ``write`` — ``write_residents``: generate and write them all; the demo's proxy grant;
  ``vacuum`` after a large load.
"""
