"""The whole test suite (``make test``).

Runs pytest on the database named by DATABASE_URL (SQLite when unset). Browser tests run
when Debian's Chromium is present; with CI=true they are required.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def main() -> int:
    args = list(sys.argv[1:])
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    if not CHROMIUM.exists():
        if ci:
            print("CI=true but /usr/bin/chromium is missing: browser tests cannot run.")
            return 2
        print("Chromium not found at /usr/bin/chromium: browser tests are skipped.")
        args += ["-m", "not browser"]
    db = os.environ.get("DATABASE_URL", "sqlite (var/)")
    print(f"Test database: {db.split('@')[-1]}")
    code = pytest.main(["-p", "no:cacheprovider", *args])
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
