"""Resident search at a million residents: latency of the real code path and of the page.

Run by ``python -m bench`` inside the benchmark's environment (a Django process of its
own), each step printing one JSON object on stdout:

    python -m bench.residents_search seed PRESET SEED RESIDENTS
        seed a preset (RESIDENTS in all; default the preset's size): timing by phase,
        counts, database
    python -m bench.residents_search search [--queries N] [--base-url URL]
        search latency

``search`` picks real values from the data with a fixed random seed — ID numbers, phones,
Chinese names, pinyin initials ("yql") and full pinyin ("yuanqiaolian") of residents, and
filters (a county or township subtree + an age band + a special-group flag) — and times,
per kind, N queries (or as many as fit in 30 seconds):

* the function: ``search_residents(user, …)`` evaluated as the list page does (the first
  page: ``list(qs[:51])``), for a supervisor scoped to the whole city and one scoped to a
  county (the users ``bench-city`` and ``bench-county`` are created if missing);
* the page, when ``--base-url`` names a running server: ``GET /residents/?q=…`` (or the
  filter form's ``area``/``age``/``flags``) as the logged-in city supervisor, one request
  at a time over a kept-alive connection.

For every kind whose function p95 is over the target, the plan of its slowest query
(``EXPLAIN ANALYZE``) is included, to show why.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import sys
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

TARGET_MS = 50.0
KINDS = ("id_number", "phone", "name", "initials", "pinyin", "filtered")
AGE_BANDS = ((60, 64), (65, 69), (70, 74), (75, 79), (80, 84), (85, 89), (90, None))
WARM_UP = 5
# Per kind and path at most this long: a slow kind is measured on fewer queries (the count
# is reported) rather than holding the run up.
SECONDS_PER_KIND = 30.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
    import django

    django.setup()


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    n = len(ordered)

    def pick(q: float) -> float:
        return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))]

    return {"n": n, "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1]}


# --- seed ---------------------------------------------------------------------------------
def seed(preset: str, seed_no: int, residents: int | None) -> dict:
    from bench.worker import database
    from yiyang.seed import seed as run_seed

    started = time.perf_counter()
    report = run_seed(preset, seed_no, residents=residents)
    return {
        "preset": preset,
        "seed": seed_no,
        "counts": report.counts,
        "seconds": {**report.seconds, "wall": time.perf_counter() - started},
        "database": database(),
    }


# --- samples ------------------------------------------------------------------------------
def bench_users() -> dict[str, Any]:
    """A supervisor scoped to the city with the most residents, one scoped to its first
    county (created once)."""
    from yiyang.accounts.models import User
    from yiyang.common.permissions import Role
    from yiyang.common.scope import ScopeKind
    from yiyang.network.models import Region, RegionLevel
    from yiyang.residents.models import Resident

    last = Resident.objects.order_by("-pk").values_list("region_code", flat=True).first()
    if last is None:
        raise SystemExit("no residents: seed the city preset with residents first")
    city = Region.objects.get(level=RegionLevel.CITY, code__startswith=last[:4])
    county = (
        Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=city.prefix)
        .order_by("code")
        .first()
    )
    users = {}
    for name, region in (("bench-city", city), ("bench-county", county)):
        user, _ = User.objects.get_or_create(
            username=name,
            defaults={
                "role": Role.SUPERVISOR,
                "scope_kind": ScopeKind.REGION,
                "scope_region": region,
                "display_name": f"Benchmark supervisor ({region.name})",
            },
        )
        users[name] = user
    return users


def sample_residents(prefix: str, n: int, rng: random.Random) -> list[Any]:
    """``n`` residents of the region ``prefix``, drawn at random through the primary key."""
    from django.db.models import Max, Min

    from yiyang.residents.models import Resident

    scoped = Resident.objects.filter(region_code__startswith=prefix)
    bounds = scoped.aggregate(low=Min("pk"), high=Max("pk"))
    found: dict[int, Any] = {}
    tries = 0
    while len(found) < n and tries < n * 20:
        tries += 1
        start = rng.randint(bounds["low"], bounds["high"])
        row = scoped.filter(pk__gte=start).order_by("pk").first()
        if row is not None:
            found[row.pk] = row
    return list(found.values())


def cases(user: Any, n: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Per kind, ``n`` searches (keyword arguments of ``search_residents``) with values
    taken from residents in ``user``'s scope."""
    from yiyang.network.models import Region, RegionLevel
    from yiyang.residents.models import FLAGS

    prefix = user.scope_region.prefix
    people = sample_residents(prefix, n, rng)
    with_phone = [r for r in people if r.phone] or people
    areas = list(
        Region.objects.filter(
            level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP], code__startswith=prefix
        ).order_by("code")
    )
    out: dict[str, list[dict[str, Any]]] = {
        "id_number": [{"q": r.id_number} for r in people],
        "phone": [{"q": with_phone[i % len(with_phone)].phone} for i in range(n)],
        "name": [{"q": r.name} for r in people],
        "initials": [{"q": r.name_initials} for r in people],
        "pinyin": [{"q": r.name_pinyin} for r in people],
        "filtered": [],
    }
    for _ in range(n):
        low, high = rng.choice(AGE_BANDS)
        out["filtered"].append(
            {
                "region": rng.choice(areas),
                "min_age": low,
                "max_age": high,
                "flags": [rng.choice(FLAGS)],
            }
        )
    return out


def page_params(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The list page's query string for a search (the filter form's names)."""
    if "q" in kwargs:
        return {"q": kwargs["q"]}
    high = kwargs["max_age"]
    return {
        "area": kwargs["region"].pk,
        "age": f"{kwargs['min_age']}-{'' if high is None else high}",
        "flags": kwargs["flags"][0],
    }


# --- timing -------------------------------------------------------------------------------
def time_function(user: Any, searches: list[dict[str, Any]]) -> tuple[list[float], dict]:
    from yiyang.residents.search import search_residents

    for kwargs in searches[:WARM_UP]:
        list(search_residents(user, **kwargs)[:51])
    timings: list[float] = []
    slowest: tuple[float, dict[str, Any]] = (-1.0, {})
    deadline = time.monotonic() + SECONDS_PER_KIND
    for kwargs in searches:
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        list(search_residents(user, **kwargs)[:51])
        ms = (time.perf_counter() - started) * 1000
        timings.append(ms)
        if ms > slowest[0]:
            slowest = (ms, kwargs)
    return timings, slowest[1]


def explain(user: Any, kwargs: dict[str, Any]) -> str:
    from yiyang.residents.search import search_residents

    return search_residents(user, **kwargs)[:51].explain(analyze=True, buffers=True)


def describe(kwargs: dict[str, Any]) -> str:
    """A search for the report, without personal data (the generated values are
    synthetic, but keep the habit)."""
    if "q" in kwargs:
        q = str(kwargs["q"])
        return f"q={q[:4]}…({len(q)} chars)"
    return (
        f"region={kwargs['region'].code} age={kwargs['min_age']}-{kwargs['max_age'] or ''} "
        f"flag={kwargs['flags'][0]}"
    )


def login_cookie(user: Any) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def time_http(base_url: str, cookie: str, searches: list[dict[str, Any]]) -> dict[str, Any]:
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if not (host.startswith("127.") or host == "localhost"):
        raise SystemExit(f"the page benchmark is for loopback servers only, not {host!r}")
    conn = http.client.HTTPConnection(host, parts.port, timeout=30)
    headers = {"Cookie": cookie, "Host": f"{host}:{parts.port}"}
    timings: list[float] = []
    errors = 0
    deadline = time.monotonic() + SECONDS_PER_KIND
    for i, kwargs in enumerate(searches[:WARM_UP] + searches):
        if i >= WARM_UP and time.monotonic() > deadline:
            break
        path = "/residents/?" + urlencode(page_params(kwargs))
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(host, parts.port, timeout=30)
        except OSError:
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(host, parts.port, timeout=30)
        ms = (time.perf_counter() - started) * 1000
        if i >= WARM_UP:
            timings.append(ms)
            errors += 0 if ok else 1
    conn.close()
    return {**percentiles(timings), "errors": errors}


def search(queries: int, base_url: str | None) -> dict:
    from bench.worker import database
    from yiyang.residents.models import Resident

    users = bench_users()
    rng = random.Random(20260301)  # noqa: S311 - sampling, not secrets
    result: dict[str, Any] = {
        "database": database(),
        "residents": Resident.objects.count(),
        "queries": queries,
        "target_ms": TARGET_MS,
        "function": {},
        "http": {},
        "plans": {},
        "scopes": {name: user.scope_region.name for name, user in users.items()},
    }
    samples = {name: cases(user, queries, rng) for name, user in users.items()}
    for name, user in users.items():
        row: dict[str, Any] = {}
        for kind in KINDS:
            timings, slowest = time_function(user, samples[name][kind])
            row[kind] = percentiles(timings)
            print(f"  function {name:<13} {kind:<10} {_cell(row[kind])}", file=sys.stderr)
            if row[kind]["p95"] > TARGET_MS:
                result["plans"][f"{name} {kind}"] = {
                    "query": describe(slowest),
                    "plan": explain(user, slowest),
                }
        result["function"][name] = row
    if base_url:
        for name, user in users.items():
            cookie = login_cookie(user)
            row = {}
            for kind in KINDS:
                row[kind] = time_http(base_url, cookie, samples[name][kind])
                print(f"  page     {name:<13} {kind:<10} {_cell(row[kind])}", file=sys.stderr)
            result["http"][name] = row
    return result


def _cell(p: dict[str, Any]) -> str:
    return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f} ms"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.residents_search")
    sub = parser.add_subparsers(dest="step", required=True)
    s = sub.add_parser("seed")
    s.add_argument("preset")
    s.add_argument("seed", type=int)
    s.add_argument("residents", type=int, nargs="?", default=None)
    q = sub.add_parser("search")
    q.add_argument("--queries", type=int, default=200)
    q.add_argument("--base-url", default=None)
    args = parser.parse_args(argv)
    _setup()
    if args.step == "seed":
        result = seed(args.preset, args.seed, args.residents)
    else:
        result = search(args.queries, args.base_url)
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
