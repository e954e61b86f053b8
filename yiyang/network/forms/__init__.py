"""Page forms of the network app, one module per area; import a form from its module
(``from yiyang.network.forms.institutions import InstitutionForm``):

* ``common`` — what the forms share (the date widget, scoped choices, labelled choice fields);
* ``institutions`` — institutions, agreements, medical alliances and chain nodes;
* ``staff`` — staff members;
* ``teams`` — family-doctor teams and their rows of members;
* ``regions`` — the region import and grids.

Edit forms only parse and type the input (labels, widgets and choices come from the
models); every rule (dates in order, unique licences, scope) is the service's, whose
``ValidationFailed`` the view shows next to the field. Filter forms narrow a list that a
selector has already scoped to the user.
"""
