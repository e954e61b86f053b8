from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from yiyang.api import api

# Unexpected errors (DEBUG off): JSON under /api/, a short page elsewhere (web/errors.py).
handler500 = "yiyang.web.errors.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("network/", include("yiyang.network.urls")),
    path("residents/", include("yiyang.residents.urls")),
    path("assessments/", include("yiyang.assessments.urls")),
    path("devices/", include("yiyang.devices.urls")),
    path("emergency/", include("yiyang.emergency.urls")),
    path("notifications/", include("yiyang.notifications.urls")),
    path("audit/", include("yiyang.audit.urls")),
    path("account/", include("yiyang.accounts.urls")),
    path("", include("yiyang.web.urls")),
]

if settings.SERVE_STATIC:
    urlpatterns += [
        re_path(
            r"^static/(?P<path>.*)$",
            serve,
            {"document_root": settings.STATIC_ROOT},
            name="static",
        ),
    ]
