"""Load generation on loopback only, bounded in time: wrk when installed (Debian package
``wrk``), else a small threaded Python client (slower: it measures less of the server)."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

CONNECTIONS = 16


@dataclass
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses, socket errors and timeouts

    @classmethod
    def combine(cls, parts: list[LoadResult]) -> LoadResult:
        """Equal-length slices: mean throughput, median p50, worst p99, all errors."""
        p50s = sorted(p.p50_ms for p in parts)
        return cls(
            sum(p.requests_per_s for p in parts) / len(parts),
            p50s[len(p50s) // 2],
            max(p.p99_ms for p in parts),
            sum(p.errors for p in parts),
        )

    def cell(self) -> str:
        text = f"{self.requests_per_s:,.0f} ({self.p50_ms:.0f}/{self.p99_ms:.0f})"
        return text + (f" **{self.errors} errors**" if self.errors else "")


def tool() -> str:
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        version = out.split()[1] if len(out.split()) > 1 else "?"
        return f"wrk {version} (1 thread, {CONNECTIONS} connections)"
    return f"Python threaded client ({CONNECTIONS} connections)"


def _assert_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host in {"localhost", "::1"}):
        raise ValueError(f"load generation is for loopback addresses only, not {host!r}")


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        return float("nan")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run(url: str, seconds: int, cookie: str = "") -> LoadResult:
    _assert_loopback(url)
    if shutil.which("wrk"):
        return _wrk(url, seconds, cookie)
    return _python(url, seconds, cookie)


def _wrk(url: str, seconds: int, cookie: str) -> LoadResult:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    errors = 0
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non_ok:
        errors += int(non_ok.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        # read errors are closed connections (gunicorn's sync workers close each one)
        errors += int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))
    return LoadResult(
        float(rps.group(1)) if rps else 0.0,
        _ms(p50.group(1)) if p50 else float("nan"),
        _ms(p99.group(1)) if p99 else float("nan"),
        errors,
    )


def _python(url: str, seconds: int, cookie: str) -> LoadResult:
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    headers = {"Cookie": cookie} if cookie else {}

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", parts.path or "/", headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            except OSError:
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append((time.perf_counter() - start) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    if not latencies:
        return LoadResult(0.0, float("nan"), float("nan"), errors[0])
    return LoadResult(
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors[0],
    )
