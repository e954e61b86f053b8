"""After a failed submit the resident form leads with an error summary that takes the
focus (and so scrolls into view) and links to each invalid field (issue 12: the form stayed
scrolled at its button with the errors off-screen)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.residents.tests.test_pages_registry import form_data
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize("htmx", [True, False])
def test_a_failed_submit_leads_with_a_focused_error_summary(world, htmx):
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    data = form_data(world, name="", id_number="")
    response = client_for(doctor).post(reverse("residents:create"), data, **headers)
    page = response.content.decode()
    form = page[page.index('<form method="post" id="resident-form"') :]
    summary = form.split('id="form-errors"', 1)[1].split("</div>", 1)[0]
    # the summary comes before the first field, and takes the focus
    assert form.index('id="form-errors"') < form.index("<fieldset")
    opening = re.search(r'<div [^>]*id="form-errors"[^>]*>', form).group(0)
    assert 'tabindex="-1"' in opening and "autofocus" in opening and 'role="alert"' in opening
    assert "Nothing was saved" in summary
    links = re.findall(r'<a href="#(\w+)" data-field="(\w+)">', summary)
    assert links == [("id_name", "name"), ("id_id_number", "id_number")]
    assert 'aria-invalid="true"' in form.split('id="field-name"', 1)[1].split("</div>", 1)[0]
    assert page.count("autofocus") == 1
