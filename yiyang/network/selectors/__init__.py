"""Reads of the care network, one module per topic, always scoped to the acting user's data
scope; import a read from its module (``from yiyang.network.selectors.institutions import
institutions_for``):

* ``scope`` — the scope rules as query filters (``institution_q`` …) and ``in_scope``;
* ``regions`` — regions and grids;
* ``institutions`` — institutions, medical alliances, chain nodes and agreements;
* ``staff`` — staff members (an audited read);
* ``teams`` — family-doctor teams;
* ``tree`` — the network tree (lead institutions → centers → stations);
* ``duty`` — the duty roster and who the escalation notifies.

Every read checks the permission first (``NetworkPerm.VIEW``; ``NetworkPerm.STAFF_VIEW`` for
staff and the roster) and raises ``PermissionDenied`` without it. ``get_*_for`` raise
``NotFound`` for a missing object and for one outside the scope alike.
"""
