"""Response plumbing of the pages: the UI language, and the security headers.

The UI language: Simplified Chinese unless the user chose another one.

Django's ``LocaleMiddleware`` follows the browser's ``Accept-Language``, so an English
browser (or a headless test browser) would never see the Chinese default the platform
promises. For pages only an explicit choice counts: the language cookie that
``/i18n/setlang/`` (the language switch in the page header) sets. The API keeps standard
HTTP negotiation (cookie, then ``Accept-Language``), still Chinese when nothing is asked.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

API_PREFIX = "/api/"


def chosen_language(request: HttpRequest) -> str:
    """The language of the cookie when it names a supported one, else ``LANGUAGE_CODE``."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class ChosenLanguageMiddleware(LocaleMiddleware):
    """``LocaleMiddleware`` without ``Accept-Language`` negotiation for pages."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(API_PREFIX):
            language = translation.get_language_from_request(request)
        else:
            language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path.startswith(API_PREFIX):
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class SecurityHeadersMiddleware:
    """Headers every answer gets (ADR 0005, "Security headers"):

    * ``Content-Security-Policy: settings.CONTENT_SECURITY_POLICY`` — our own scripts,
      styles and images only: no inline script or style attribute, no ``eval``, no
      framing. Pages put their behaviour in static files (``web/yiyang.js``).
    * ``Cache-Control: no-store`` on everything but static files: pages and API answers
      carry personal data (a reveal answers the full ID number and phone), which neither
      a shared proxy nor the browser's cache or back button should keep. A view's own
      ``Cache-Control`` directives are kept and ``no-store`` is added to them.

    It sits right below Django's ``SecurityMiddleware``, so error pages get them too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        if not request.path.startswith(settings.STATIC_URL):
            patch_cache_control(response, no_store=True)
        return response
