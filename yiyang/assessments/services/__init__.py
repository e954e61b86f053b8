"""Assessment sessions, standing and schedule: the actions (ADR 0017). One module per topic:

* ``base`` — what every action shares: the instruments that feed the standing, the
  resident fetched through the actor's scope, the assessment date's checks.
* ``sessions`` — record, resume, submit, co-sign, correct and discard a session; a
  resident's session history.
* ``standing`` — the eligibility rules evaluated against a resident's standing, and what a
  final assessment changes (standing, eligibility, dues).
* ``schedule`` — the local schedule policy, re-assessments asked for (a condition change,
  a fall, a dispute) and the open dues.

Every action takes the acting user and, in this order, checks the permission
(``AssessmentPerm.RECORD``; ``PermissionDenied`` → 403), fetches the resident through the
actor's scope, locked (``NotFound`` outside it), requires the resident's active consent to
health-data processing, validates (``ValidationFailed`` naming the field; bad answers are
``AnswersInvalid``, 422, naming every offending item) and writes in one transaction with
one audit row (``assessments.assessment.<verb>``; details carry ids and codes, never
answers).
"""
