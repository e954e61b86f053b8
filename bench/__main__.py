"""``make bench`` (``python -m bench``): Yiyang's benchmarks.

1. Seed: the ``city`` preset (10 counties x 15 townships x 20 villages, with 1,000,000
   residents and their health data when the resident search is measured) into a scratch
   database on the server named by ``DATABASE_URL`` (PostgreSQL when set; a temporary
   SQLite file otherwise), then the ``demo`` preset for its logins.
2. Web: requests per second and latency of a trivial page and logged-in pages that read
   the database, for the shipped server (``yiyang serve``: granian WSGI) and the
   alternatives of ADR 0005 (gunicorn sync workers, granian ASGI), each started in
   production mode on a free loopback port. Load comes from wrk (or a Python client).
3. Residents: search latency (p50/p95/p99) by ID number, phone, name, pinyin initials,
   full pinyin and the filtered list, through ``search_residents`` for a city- and a
   county-scoped supervisor and through the list page on the shipped server
   (``bench/residents_search.py``).
4. Import: ``bench.residents_import.run(database_url)`` when that module exists.
5. Devices (PostgreSQL only): the MQTT ceiling, Yiyang's end-to-end ingestion rate and the
   alert latency, with its own broker and scratch database (``bench/devices_mqtt.py``).

Prints the results and appends a dated section to ``docs/benchmarks.md`` with the
machine. Bounded: about 3–4 minutes for the web part, 5–8 minutes more for the million
residents (seed and search), about 4 minutes for the devices. Options: ``--only
web|residents|import|devices`` (repeatable; default all; ``--only devices`` skips the seed),
``--consumers K`` / ``--publishers P`` / ``--device-seconds S`` for the devices part,
``--residents N`` (city residents, default the preset's 1,000,000), ``--queries N``
per search kind (default 200), ``--seconds N`` per page (default 10), ``--quick`` (only
the shipped server, 5 s per page), ``--no-write``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import load
from bench.db import scratch_database

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PY = sys.executable
CITY_SEED, DEMO_SEED = 1, 2026
CITY_RESIDENTS = 1_000_000
WEB_USER = "supervisor"
PARTS = ("web", "residents", "import", "devices")
# Rows written with the residents (the "health rows" column of the seed table).
HEALTH_ROWS = ("households", "contacts", "consents", "conditions", "medications", "observations")
SEED_TIMEOUT = 1800  # seconds; the million-resident seed takes about five minutes
ROUNDS = 2  # each page's load time is split into this many interleaved slices per server


@dataclass
class Server:
    name: str
    argv: list[str]  # {port} and {workers} are filled in


def servers(cpus: int, quick: bool) -> list[Server]:
    shipped = Server(
        "granian WSGI (`yiyang serve`)",
        [PY, "-m", "yiyang.cli", "serve", "--bind", "127.0.0.1:{port}", "--workers", "{workers}"],
    )
    if quick:
        return [shipped]
    return [
        shipped,
        Server(
            "gunicorn sync, 2 x CPUs + 1 workers",
            [
                PY,
                "-m",
                "gunicorn",
                "yiyang.wsgi:application",
                "--bind",
                "127.0.0.1:{port}",
                "--workers",
                str(2 * cpus + 1),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
        ),
        Server(
            "granian ASGI (sync views in a thread)",
            [
                PY,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--no-ws",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--workers",
                "{workers}",
                "--log-level",
                "warning",
                "bench.asgi:application",
            ],
        ),
    ]


# --- machine and environment ------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    import django
    import granian
    import gunicorn

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": f"Django {django.__version__}, granian {granian.__version__}, "
        f"gunicorn {gunicorn.__version__}",
        "load": load.tool(),
    }


def run_json(argv: list[str], env: dict[str, str], timeout: int = 600, echo: bool = False) -> dict:
    """Run a step in its own process; its last stdout line is JSON. ``echo``: its stderr
    (progress lines) goes to ours as it comes."""
    done = subprocess.run(
        argv,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=None if echo else subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed:\n{(done.stderr or '')[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer {url} within {seconds} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_web(
    env: dict[str, str], pages: list[dict], cookie: str, seconds: int, quick: bool
) -> list[tuple[str, dict[str, load.LoadResult]]]:
    """All servers run side by side on their own ports; each page is loaded on each server
    in turn, in ROUNDS slices, so a burst of other work on the machine hits them alike."""
    cpus = os.cpu_count() or 1
    chosen = servers(cpus, quick)
    log = open(Path(env["YIYANG_VAR_DIR"]) / "server.log", "a")  # noqa: SIM115
    running: list[tuple[Server, str, subprocess.Popen]] = []
    try:
        for server in chosen:
            port = free_port()
            argv = [a.format(port=port, workers=cpus) for a in server.argv]
            proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
            running.append((server, f"http://127.0.0.1:{port}", proc))
        for _, base, proc in running:
            wait_ready(base + pages[0]["path"], proc)
        rows: dict[str, dict[str, list[load.LoadResult]]] = {s.name: {} for s in chosen}
        slice_s = max(1, seconds // ROUNDS)
        for page in pages:
            page_cookie = cookie if page["session"] else ""
            for _server, base, _ in running:  # warm-up: imports, connections, caches
                load.run(base + page["path"], 2, page_cookie)
            for _ in range(ROUNDS):
                for server, base, _ in running:
                    result = load.run(base + page["path"], slice_s, page_cookie)
                    rows[server.name].setdefault(page["label"], []).append(result)
            for server in chosen:
                combined = load.LoadResult.combine(rows[server.name][page["label"]])
                print(f"  {server.name:<40} {page['label']:<18} {combined.cell()}", flush=True)
    finally:
        for _, _, proc in running:
            stop(proc)
        log.close()
    return [
        (name, {label: load.LoadResult.combine(parts) for label, parts in row.items()})
        for name, row in rows.items()
    ]


# --- report -------------------------------------------------------------------------------
def markdown(
    info: dict[str, str],
    database: str,
    seeds: list[dict],
    web: list[tuple[str, dict[str, load.LoadResult]]],
    pages: list[dict],
    seconds: int,
    loadavg: tuple[float, float],
    search: dict | None = None,
    imports: str = "",
    parts: tuple[str, ...] = PARTS,
    devices: str = "",
) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {now} — {database}",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} memory, "
        f"{info['os']}; Python {info['python']}, {info['versions']}; database {database}. "
        f"Load average (1 min) at start / end of the run: {loadavg[0]:.1f} / {loadavg[1]:.1f}"
        + (
            " — other work was running, so absolute figures are low; compare within the run."
            if max(loadavg) > 1.0
            else "."
        ),
        "",
        f"Parts measured: seed, {', '.join(p for p in PARTS if p in parts)}"
        + ("" if set(parts) == set(PARTS) else " (`python -m bench --only …`)")
        + ".",
        "",
        "### Seed (bulk inserts, one transaction, one audit row)",
        "",
        "| preset | regions | institutions | staff | residents | health rows | network s "
        "| residents s | total s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in seeds:
        c, t = s["counts"], s["seconds"]
        health = sum(c.get(k, 0) for k in HEALTH_ROWS)
        lines.append(
            f"| {s['preset']} | {c['regions']:,} | {c['institutions']:,} | {c['staff']:,} | "
            f"{c.get('residents', 0):,} | {health:,} | {t['network']:.2f} | "
            f"{t.get('residents', 0.0):.2f} | {t['wall']:.2f} |"
        )
    big = max(seeds, key=lambda s: s["counts"].get("residents", 0))
    if big["counts"].get("residents"):
        c, t = big["counts"], big["seconds"]
        rows = ", ".join(f"{k} {c[k]:,}" for k in HEALTH_ROWS if k in c)
        generating = t["residents"] - sum(
            t.get(k, 0.0) for k in ("residents_writing", "residents_indexes", "residents_analyze")
        )
        lines += [
            "",
            f"Phases of the {big['preset']} seed ({c['residents']:,} residents; {rows}): "
            f"plan {t['plan']:.1f} s, network {t['network']:.1f} s, residents "
            f"{t['residents']:.1f} s (making rows {generating:.1f} s, COPY "
            f"{t.get('residents_writing', 0.0):.1f} s, rebuilding indexes and foreign keys "
            f"{t.get('residents_indexes', 0.0):.1f} s, ANALYZE "
            f"{t.get('residents_analyze', 0.0):.1f} s), commit {t.get('commit', 0.0):.1f} s, "
            f"VACUUM {t.get('vacuum', 0.0):.1f} s; "
            f"**{t['wall'] / 60:.1f} minutes** in all.",
        ]
    if web:
        labels = [p["label"] for p in pages]
        paths = ", ".join(
            f"{p['label']} `{p['path']}`" + (" (logged in)" if p["session"] else "") for p in pages
        )
        lines += [
            "",
            f"### Web server: requests/s (p50/p99 latency ms), {seconds} s per page and server",
            "",
            f"Production mode, {info['cores']} workers unless named, all servers running "
            f"side by side and loaded in turn ({ROUNDS} interleaved slices), loopback, "
            f"load by {info['load']}, logged in as `{WEB_USER}` (county scope, on the "
            f"database above). Pages: {paths}.",
            "",
            "| server | " + " | ".join(labels) + " |",
            "|---|" + "---:|" * len(labels),
        ]
        for name, row in web:
            cells = [row[label].cell() if label in row else "–" for label in labels]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if search:
        lines += search_markdown(search)
    if imports:
        lines += ["", imports.strip()]
    if devices:
        lines += ["", devices.strip()]
    return "\n".join(lines) + "\n"


SEARCH_LABELS = {
    "id_number": "ID number",
    "phone": "phone",
    "name": "Chinese name",
    "initials": "pinyin initials",
    "pinyin": "full pinyin",
    "filtered": "filtered list",
}


def search_markdown(result: dict) -> list[str]:
    target = result["target_ms"]
    scopes = result["scopes"]
    lines = [
        "",
        f"### Resident search: p50 / p95 / p99 ms, up to {result['queries']} queries per "
        f"kind, {result['residents']:,} residents",
        "",
        "Real values picked from the data (ID numbers, phones, Chinese names, pinyin "
        "initials and full pinyin of residents; filtered list = a county or township "
        "subtree + a 5-year age band + one special-group flag), one query at a time. "
        "Function: `search_residents(user, …)` evaluated as the list page does "
        "(`list(qs[:51])`). Page: `GET /residents/?…` on the shipped server, logged in. "
        f"Users: supervisors scoped to the city ({scopes['bench-city']}) and to a county "
        f"({scopes['bench-county']}). Target: p95 under {target:.0f} ms; **bold** misses it.",
        "",
    ]
    columns = [("function", name) for name in result["function"]]
    columns += [("page", name) for name in result.get("http", {})]
    header = [f"{path} ({'city' if name == 'bench-city' else 'county'})" for path, name in columns]
    lines.append("| search | " + " | ".join(header) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for kind, label in SEARCH_LABELS.items():
        cells = []
        for path, name in columns:
            p = result["function" if path == "function" else "http"][name][kind]
            p95 = f"{p['p95']:.1f}"
            if p["p95"] > target:
                p95 = f"**{p95}**"
            cell = f"{p['p50']:.1f} / {p95} / {p['p99']:.1f}"
            if p["n"] < result["queries"]:
                cell += f" (n={p['n']}: 30 s cap)"
            if p.get("errors"):
                cell += f" ({p['errors']} errors)"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, slow in result.get("plans", {}).items():
        summary = plan_summary(slow["plan"])
        lines.append("")
        lines.append(f"Slowest {key} ({slow['query']}): {summary}")
    return lines


def plan_summary(plan: str) -> str:
    """The plan's scan lines and rows removed, in one line."""
    keep = []
    for line in plan.splitlines():
        text = line.strip().lstrip("-> ").strip()
        if "Scan" in text or text.startswith(("Rows Removed", "Execution Time", "Sort Method")):
            keep.append(text.split("  (")[0])
    return "; ".join(f"`{k}`" for k in keep)


def bench_residents(env: dict[str, str], queries: int) -> dict:
    """The search benchmark: the function in a worker process, then the list page on the
    shipped server (one worker per CPU) started for it."""
    cpus = os.cpu_count() or 1
    log = open(Path(env["YIYANG_VAR_DIR"]) / "server.log", "a")  # noqa: SIM115
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [a.format(port=port, workers=cpus) for a in servers(cpus, True)[0].argv]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_ready(base + "/login/", proc)
        return run_json(
            [PY, "-m", "bench.residents_search", "search", "--queries", str(queries)]
            + ["--base-url", base],
            env,
            timeout=SEED_TIMEOUT,
            echo=True,
        )
    finally:
        stop(proc)
        log.close()


def bench_import(database_url: str) -> str:
    """``bench.residents_import.run(database_url)`` (the import benchmark), if present."""
    try:
        from bench import residents_import
    except ImportError:
        print("Import: bench.residents_import not available", flush=True)
        return "### Resident import\n\nNot measured: `bench.residents_import` not available."
    result = residents_import.run(database_url)
    if isinstance(result, str):
        return result
    if isinstance(result, list):
        return "\n".join(result)
    return "### Resident import\n\n```\n" + json.dumps(result, indent=2, default=str) + "\n```"


def bench_devices(args: argparse.Namespace) -> str:
    """``bench.devices_mqtt``: its own broker and scratch database (PostgreSQL only)."""
    from bench import devices_mqtt

    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith(("postgres://", "postgresql://")):
        print("Devices: not measured (needs DATABASE_URL=postgres://…)", flush=True)
        return "### Device ingestion over MQTT\n\nNot measured: it needs PostgreSQL."
    result = devices_mqtt.run(
        url,
        seconds=args.device_seconds,
        consumers=args.consumers,
        publishers_n=args.publishers,
    )
    return devices_mqtt.markdown(result, str(os.cpu_count()))


def devices_only(info: dict[str, str], loadavg: tuple[float, float], devices: str) -> str:
    """The section of a ``--only devices`` run (no seed, no database line of its own)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    busy = max(loadavg) > 1.0
    return (
        f"## {now} — devices\n\n"
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} memory, "
        f"{info['os']}; Python {info['python']}. Load average (1 min) at start / end of the "
        f"run: {loadavg[0]:.1f} / {loadavg[1]:.1f}"
        + (" — other work was running, so absolute figures are low." if busy else ".")
        + "\n\nParts measured: devices (`python -m bench --only devices`).\n\n"
        + devices.strip()
        + "\n"
    )


def append(section: str) -> None:
    if not DOC.exists():
        DOC.write_text("# Benchmarks\n\nSections appended by `make bench`, newest last.\n")
    with DOC.open("a") as f:
        f.write("\n" + section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="load time per page")
    parser.add_argument("--quick", action="store_true", help="only the shipped server, 5 s")
    parser.add_argument("--no-web", action="store_true", help="leave out the web benchmark")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable; the seed always runs)",
    )
    parser.add_argument(
        "--residents",
        type=int,
        default=CITY_RESIDENTS,
        help=f"residents of the city preset (default {CITY_RESIDENTS:,})",
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per search kind")
    parser.add_argument(
        "--device-seconds", type=float, default=60, help="publishing time of the devices part"
    )
    parser.add_argument(
        "--consumers", type=int, default=2, help="consume_devices processes (devices part)"
    )
    parser.add_argument(
        "--publishers", type=int, default=2, help="publisher processes (devices part)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    if args.no_web:
        parts.discard("web")
    seconds = 5 if args.quick else args.seconds
    info = machine()
    load_start = os.getloadavg()[0]
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}", flush=True)
    devices = ""
    if "devices" in parts:
        # First, on a quiet machine: it starts its own broker and scratch database.
        devices = bench_devices(args)
    if parts == {"devices"}:
        section = devices_only(info, (load_start, os.getloadavg()[0]), devices)
        print()
        print(section)
        if not args.no_write:
            append(section)
            print(f"Appended to {DOC.relative_to(ROOT)}")
        return 0
    city_residents = args.residents if "residents" in parts else 0
    search: dict | None = None
    imports = ""
    with tempfile.TemporaryDirectory(prefix="yiyang-bench-") as tmp:
        var_dir = Path(tmp)
        with scratch_database(os.environ.get("DATABASE_URL"), var_dir, "bench") as db_url:
            env = {
                **os.environ,
                "DATABASE_URL": db_url,
                "YIYANG_MODE": "production",
                "YIYANG_SECRET_KEY": secrets.token_urlsafe(50),
                "YIYANG_FIELD_KEY": secrets.token_urlsafe(32),
                "YIYANG_VAR_DIR": str(var_dir),
                "YIYANG_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONPATH": str(ROOT),
            }
            manage = [PY, "-m", "yiyang.cli"]
            subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
            seeds = []
            for preset, seed_no, residents in (
                ("city", CITY_SEED, city_residents),
                ("demo", DEMO_SEED, None),
            ):
                step = [PY, "-m", "bench.residents_search", "seed", preset, str(seed_no)]
                if residents is not None:
                    step.append(str(residents))
                result = run_json(step, env, timeout=SEED_TIMEOUT)
                seeds.append(result)
                print(
                    f"Seed {preset}: {result['counts']['regions']:,} regions, "
                    f"{result['counts']['staff']:,} staff, "
                    f"{result['counts'].get('residents', 0):,} residents in "
                    f"{result['seconds']['wall']:.2f} s (network "
                    f"{result['seconds']['network']:.2f} s) on {result['database']}",
                    flush=True,
                )
            database = seeds[0]["database"]
            web: list = []
            pages: list[dict] = []
            if "web" in parts or "residents" in parts:
                subprocess.run(
                    [*manage, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
                )
            if "web" in parts:
                session = run_json([PY, "-m", "bench.worker", "login", WEB_USER], env)
                pages = session["pages"]
                print("Web: " + ", ".join(f"{p['label']} {p['path']}" for p in pages), flush=True)
                web = bench_web(env, pages, session["cookie"], seconds, args.quick)
            if "residents" in parts:
                print(f"Residents: search, {args.queries} queries per kind", flush=True)
                search = bench_residents(env, args.queries)
            if "import" in parts:
                imports = bench_import(db_url)
    loadavg = (load_start, os.getloadavg()[0])
    chosen = tuple(p for p in PARTS if p in parts)
    section = markdown(
        info, database, seeds, web, pages, seconds, loadavg, search, imports, chosen, devices
    )
    print()
    print(section)
    if not args.no_write:
        append(section)
        print(f"Appended to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
