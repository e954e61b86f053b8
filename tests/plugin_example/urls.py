from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

from yiyang.common.pages import PageRequest, page
from yiyang.residents.models import Resident
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page

from .permissions import ExamplePerm

TAB = "plugin_example:resident"


@page(ExamplePerm.VIEW)
def index(request: PageRequest) -> HttpResponse:
    return HttpResponse("<p id='example-index'>example index</p>")


@resident_page
def resident(request: PageRequest, resident: Resident) -> HttpResponse:
    require_tab(request, resident, TAB)
    return render_tab(request, resident, TAB, "plugin_example/tab.html", {"note": "hello"})


app_name = "plugin_example"
urlpatterns = [
    path("", index, name="index"),
    path("residents/<int:pk>/", resident, name="resident"),
]
