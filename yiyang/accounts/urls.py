from django.urls import path

from yiyang.accounts import views

app_name = "accounts"
urlpatterns = [
    path("security/", views.security, name="security"),
]
