from yiyang.residents.pages import health, imports, people, registry

app_name = "residents"
urlpatterns = [
    *imports.urlpatterns,
    *people.urlpatterns,
    *health.urlpatterns,
    *registry.urlpatterns,
]
