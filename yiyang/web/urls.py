from django.urls import path

from yiyang.accounts.pages import LoginView, LogoutView
from yiyang.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]
