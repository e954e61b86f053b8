"""Steps the benchmark runs inside a Django process of its own (a subprocess with the
benchmark's environment), each printing one JSON object on stdout.

    python -m bench.worker seed PRESET SEED    seed timing, counts, database description
    python -m bench.worker login USERNAME      a session cookie and the pages that answer 200
"""

from __future__ import annotations

import json
import os
import sys
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
    import django

    django.setup()


def database() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        return f"PostgreSQL {version}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def seed(preset: str, seed_no: int) -> dict:
    from yiyang.seed import seed as run_seed

    started = time.perf_counter()
    report = run_seed(preset, seed_no)
    return {
        "preset": preset,
        "seed": seed_no,
        "counts": report.counts,
        "seconds": {**report.seconds, "wall": time.perf_counter() - started},
        "database": database(),
    }


# Pages worth measuring, by URL name: the first is the trivial one (no database).
CANDIDATES = (
    ("login", "web:login", False),
    ("home", "web:home", True),
    ("network tree", "network:tree", True),
    ("API institutions", "api:network_institution_list", True),
)


def login(username: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    user = get_user_model().objects.get(username=username)
    # A page that fails here (500) is left out of the run rather than measured.
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    anonymous = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    pages = []
    for label, name, logged_in in CANDIDATES:
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        status = (client if logged_in else anonymous).get(path).status_code
        if status == 200:
            pages.append({"label": label, "path": path, "session": logged_in})
    return {"cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "pages": pages}


def main(argv: list[str]) -> int:
    _setup()
    if argv[:1] == ["seed"]:
        result = seed(argv[1], int(argv[2]))
    elif argv[:1] == ["login"]:
        result = login(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
