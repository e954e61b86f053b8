"""The Django app as ASGI, only to measure sync Django under an ASGI server (ADR 0005)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
application = get_asgi_application()
