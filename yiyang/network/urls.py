from yiyang.network.pages import (
    agreements,
    alliances,
    grids,
    institutions,
    nodes,
    regions,
    staff,
    teams,
)

app_name = "network"
urlpatterns = [
    *nodes.urlpatterns,
    *regions.urlpatterns,
    *grids.urlpatterns,
    *institutions.urlpatterns,
    *alliances.urlpatterns,
    *agreements.urlpatterns,
    *staff.urlpatterns,
    *teams.urlpatterns,
]
