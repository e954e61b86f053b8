"""The ``yiyang`` console command: Django's management commands under one name.

    yiyang demo                       migrate, seed the demo if empty, serve on :8000
    yiyang serve [--bind ...]         production server (granian WSGI, ADR 0005)
    yiyang seed --preset demo|county|city --seed N
    yiyang import_regions FILE.csv
    yiyang audit verify
    yiyang <any manage.py command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["yiyang", *args])


if __name__ == "__main__":
    main()
