"""Adding an app touches no file outside it but the settings' app list (ADR 0024): the
example app in ``tests/plugin_example`` registers a permission, a navigation entry, page
routes, an API router and a resident tab from its own package, and a child pytest run with
its settings (the platform's plus that app) checks each of them as a user meets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_an_app_plugs_in_from_its_own_package(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.plugin_example.settings"}
    # Its own SQLite test database: the child must not share the suite's PostgreSQL test
    # database, which this run is using.
    env.pop("DATABASE_URL", None)
    env["YIYANG_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/plugin_example/checks_plugged.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-o",
            "python_files=checks_*.py",
            "--ds=tests.plugin_example.settings",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
