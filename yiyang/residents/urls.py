from yiyang.residents.pages import imports, people, registry
from yiyang.residents.pages.health import areas, documents, observations

app_name = "residents"
urlpatterns = [
    *imports.urlpatterns,
    *people.urlpatterns,
    *areas.urlpatterns,
    *observations.urlpatterns,
    *documents.urlpatterns,
    *registry.urlpatterns,
]
