from django.urls import path

from yiyang.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.events, name="events"),
    path("events/<int:seq>/", views.event_detail, name="event_detail"),
    path("export.csv", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
]
