from yiyang.residents.pages import imports, registry
from yiyang.residents.pages.health import areas, documents, observations
from yiyang.residents.pages.people import consents, contacts, merge, proxies

app_name = "residents"
urlpatterns = [
    *imports.urlpatterns,
    *contacts.urlpatterns,
    *proxies.urlpatterns,
    *consents.urlpatterns,
    *merge.urlpatterns,
    *areas.urlpatterns,
    *observations.urlpatterns,
    *documents.urlpatterns,
    *registry.urlpatterns,
]
