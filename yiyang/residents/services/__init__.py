"""The residents app's actions: every write checks the actor's permission and scope,
runs in one transaction and writes one audit row in it. One module per topic:

* ``registry`` — register, update and reveal a resident; start a household.
* ``people`` — contacts and guardians, consents, registering with consents.
* ``proxies`` — family proxy grants (the family login acting for a resident).
* ``merge`` — merging two records of one person.
* ``base`` — the steps people, proxies and merge share (a resident or contact in scope,
  who may withdraw a consent, who gives one, closing it).
* ``health`` — the health record's conditions, medications, allergies and encounters.
* ``health_steps`` — the steps every health-record action follows (the resident locked in
  scope, the entry, labels, input checks, the audit row).
* ``observations`` — measurements: one reading, a blood-pressure panel, the derived BMI.
* ``documents`` — files in the health record.
* ``imports`` — the resident import (a package: columns, files, rows, jobs …).
"""
