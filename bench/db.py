"""A scratch database per benchmark run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def scratch_database(url: str | None, var_dir: Path, suffix: str) -> Iterator[str]:
    """``<name>_<suffix>`` beside ``url``'s database on its PostgreSQL server (dropped
    afterwards), else an SQLite file ``<suffix>.sqlite3`` in ``var_dir``."""
    if not url or not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{var_dir / f'{suffix}.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'yiyang'}_{suffix}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
