from django.urls import path

from yiyang.network.pages import staff as views  # split by area in the next commit

app_name = "network"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("nodes/new/", views.node_create, name="node_create"),
    path("nodes/<int:pk>/", views.node_detail, name="node"),
    path("nodes/<int:pk>/edit/", views.node_edit, name="node_edit"),
    path("regions/", views.region_list, name="regions"),
    path("regions/import/", views.region_import, name="region_import"),
    path("grids/", views.grid_list, name="grids"),
    path("grids/new/", views.grid_create, name="grid_create"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("institutions/", views.institution_list, name="institutions"),
    path("institutions/new/", views.institution_create, name="institution_create"),
    path("institutions/<int:pk>/", views.institution_detail, name="institution"),
    path("institutions/<int:pk>/edit/", views.institution_edit, name="institution_edit"),
    path("alliances/", views.alliance_list, name="alliances"),
    path("alliances/new/", views.alliance_create, name="alliance_create"),
    path("alliances/<int:pk>/", views.alliance_detail, name="alliance"),
    path("alliances/<int:pk>/edit/", views.alliance_edit, name="alliance_edit"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<int:pk>/document/", views.agreement_document, name="agreement_document"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
]
