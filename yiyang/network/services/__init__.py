"""Writes to the care network, one module per topic; import an action from its module
(``from yiyang.network.services.institutions import create_institution``):

* ``regions`` — regions (from their 12-digit code);
* ``grids`` — the grids inside a village;
* ``institutions`` — institutions;
* ``alliances`` — medical alliances;
* ``nodes`` — chain nodes: care-service centers and their stations;
* ``agreements`` — agreements between two institutions, with their document;
* ``staff`` — skills and staff members with their memberships;
* ``teams`` — family-doctor teams;
* ``duty`` — the duty roster (put a doctor on duty, end or cancel a shift);
* ``steps`` — the steps the actions share (references in scope, input checks, saving,
  audit details).

Every action is one complete action:

* it takes the acting user and checks the permission (``PermissionDenied``);
* references (regions, institutions, nodes, staff, grids) may be given as instances or
  primary keys; each must exist and lie inside the actor's data scope, and so must the
  target of an update and the result of the write — otherwise ``NotFound`` (out of scope
  answers exactly like missing) and nothing changes;
* it validates the input (``ValidationFailed`` with a code, the field and why);
* it runs in one transaction and writes one audit row in it (details = changed fields).
"""
