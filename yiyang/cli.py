"""The ``yiyang`` console command: Django's management commands under one name.

yiyang demo                       migrate, seed the demo if empty, serve on :8000 (demo mode)
yiyang serve [--bind ...]         production server (granian WSGI, ADR 0005)
yiyang seed --preset demo|county|city --seed N
yiyang import_regions FILE.csv
yiyang import residents FILE.xlsx [--as USER] [--report PATH]
yiyang audit verify
yiyang <any manage.py command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        # The production server runs in production mode unless told otherwise.
        os.environ.setdefault("YIYANG_MODE", "production")
    elif args[:1] == ["demo"]:
        # The demo: generated keys like development, but no debug pages (a 404 listing
        # every URL pattern, an API 500 with its traceback) on a shared network.
        os.environ.setdefault("YIYANG_MODE", "demo")
    try:
        execute_from_command_line(["yiyang", *args])
    except ImproperlyConfigured as exc:
        # A missing secret or a bad setting: say which, without a traceback.
        sys.stderr.write(f"yiyang: configuration error: {exc}\n")
        if args[:1] == ["serve"]:
            sys.stderr.write(
                "yiyang serve runs in production mode: set YIYANG_SECRET_KEY and "
                "YIYANG_FIELD_KEY (or YIYANG_MODE=development to try it locally)\n"
            )
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
