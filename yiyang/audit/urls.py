from django.urls import path

from yiyang.audit import pages

app_name = "audit"
urlpatterns = [
    path("", pages.events, name="events"),
    path("events/<int:seq>/", pages.event_detail, name="event_detail"),
    path("export.csv", pages.export, name="export"),
    path("verify/", pages.verify, name="verify"),
]
