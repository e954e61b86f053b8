from django.urls import path

from yiyang.accounts import views

app_name = "accounts"
urlpatterns = [
    path("security/", views.security, name="security"),
    path("password/", views.password_change, name="password"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("locked/", views.locked, name="locked"),
    path("locked/unlock/", views.unlock, name="unlock"),
    path("mfa/", views.mfa, name="mfa"),
    path("mfa/<int:pk>/reset/", views.totp_reset, name="totp_reset"),
]
