from django.urls import path

from yiyang.accounts import pages

app_name = "accounts"
urlpatterns = [
    path("security/", pages.security, name="security"),
    path("password/", pages.password_change, name="password"),
    path("users/", pages.users, name="users"),
    path("users/new/", pages.user_create, name="user_create"),
    path("users/<int:pk>/", pages.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", pages.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", pages.user_reactivate, name="user_reactivate"),
    path("locked/", pages.locked, name="locked"),
    path("locked/unlock/", pages.unlock, name="unlock"),
    path("mfa/", pages.mfa, name="mfa"),
    path("mfa/<int:pk>/reset/", pages.totp_reset, name="totp_reset"),
]
