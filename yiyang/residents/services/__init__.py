"""The residents app's actions: every write checks the actor's permission and scope,
runs in one transaction and writes one audit row in it. One module per topic:

* ``registry`` — register, update and reveal a resident; start a household.
"""
