"""The form base every app's page forms build on (ground floor).

Page forms only parse and type the input; the rules are the services', whose
``ValidationFailed`` a view shows next to the field (``common.pages.apply_error``).
"""

from __future__ import annotations

from typing import Any

from django import forms

from yiyang.common.actor import Actor


class ServiceForm(forms.ModelForm):
    """A ModelForm that leaves validation of the model's rules to the service.

    ``_post_clean`` would build the instance and run the model's unique and constraint
    checks; the service does that (with its own clear messages) in its transaction.
    """

    def __init__(self, *args: Any, user: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def _post_clean(self) -> None:
        return None

    def changed_data_values(self) -> dict[str, Any]:
        """The cleaned values of the fields the user changed (for update services)."""
        return {name: self.cleaned_data[name] for name in self.changed_data}
