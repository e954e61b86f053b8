"""The shared test helpers of every app's tests (not imported by the platform itself).

- ``yiyang.testing.network``: a small care network built through the services (regions,
  institutions, nodes, teams, staff, grids), users with a role and scope (``make_user``),
  the date helpers that keep tests independent of today's date (``in_force``).
- ``yiyang.testing.accounts``: logins through the real login flow, TOTP enrolment, bearer
  tokens for the API (``bearer_token``).

They sit above every app (they build state through any app's services), so the layer
contract places them with the composition layer.
"""
