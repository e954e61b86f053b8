from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from yiyang.api import api
from yiyang.common import registry

# Unexpected errors (DEBUG off): JSON under /api/, a short page elsewhere (web/errors.py).
handler500 = "yiyang.web.errors.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Every app's pages, under the prefix its ``plugin`` module registered (ADR 0024).
    *[path(prefix, include(module)) for prefix, module in registry.page_routes()],
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
