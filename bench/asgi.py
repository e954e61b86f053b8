"""The Django app as ASGI, only to measure sync Django under an ASGI server (ADR 0005).

Persistent database connections are off here, as Django's docs advise under ASGI: sync
views run in per-request thread contexts there, so CONN_MAX_AGE > 0 leaves a connection
behind per context (measured: PostgreSQL's 100 connections ran out within seconds).
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
application = get_asgi_application()
