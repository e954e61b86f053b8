"""The synthetic care network: plan it from a seed, then write it with bulk inserts.

``plan_network`` is pure: from (preset, seed, today) it builds unsaved model instances
linked to each other, using only ``random.Random(seed)``; the same arguments always give
the same names, codes and numbers. ``write_network`` inserts them level by level with
``bulk_create`` (parents first, so every foreign key resolves to the pk just returned).

One module per step:

* ``catalogue`` — the fixed lists the network is drawn from: skills, positions, staffing
  per kind of institution, licence numbers, agreement titles and texts.
* ``plan`` — the plan (``NetworkPlan``: the unsaved objects) and the demo's targets.
* ``builder`` — ``plan_network``: the region tree, institutions, staff, alliances, chain
  nodes, agreements and teams, drawn from the seed.
* ``write`` — ``write_network``: the plan inserted with ``bulk_create``.
"""
