"""Group the failures of a fuzz survey by cause, with the smallest request of each group.

    FUZZ_SURVEY=/tmp/failures.jsonl .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider
    .venv/bin/python -m tests.fuzz.survey /tmp/failures.jsonl

A group is one check that failed for one reason: a server error by the application's
exception and where it was raised, an undeclared status by the status, a schema violation
by what was wrong, an error body by its keys.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from typing import Any


def _raised(exception: str | None) -> str:
    """ "Type: message (at yiyang/app/module.py:line function)" of a recorded exception:
    the application's frames, then the exception (``format_exception_only``)."""
    if not exception:
        return "(no exception: the response itself)"
    lines = exception.strip().splitlines()
    errors = [line for line in lines if re.match(r"[\w.]*(Error|Exception)\b", line)]
    error = errors[-1] if errors else lines[-1]
    error = re.sub(r"-?\d+", "N", error)  # "year -857 is out of range": one group
    frames = [line.strip() for line in lines if line.strip().startswith('File "')]
    if not frames:
        return error[:200]
    where = re.sub(r'^File ".*?/(yiyang/[^"]+)", line (\d+), in (\w+)', r"\1:\2 \3", frames[-1])
    return f"{error[:200]} (at {where})"


def _reason(record: dict[str, Any], failure: dict[str, Any]) -> str:
    code, message = failure["code"], failure["message"] or ""
    first = message.splitlines()[0] if message else failure["title"]
    if code == "ST101" or record["status"] >= 500:
        return _raised(record.get("exception"))
    if code == "ST103":
        return f"status {record['status']} not declared"
    if code == "ST108":
        schema = re.search(r"Schema at (\S+?):", message)
        return f"{first[:150]}{f' ({schema.group(1)})' if schema else ''}"
    if code.startswith("ST9"):  # our checks: the error body's keys
        try:
            body = json.loads(record["response"])
        except ValueError:
            return first[:150]
        return f"body keys {sorted(body) if isinstance(body, dict) else type(body).__name__}"
    return first[:150]


def _size(record: dict[str, Any]) -> int:
    return len(json.dumps([record["path"], record["query"], record["body"]], ensure_ascii=False))


def summarize(path: str) -> str:
    groups: dict[tuple[str, str, int, str], list[dict[str, Any]]] = defaultdict(list)
    with open(path, encoding="utf-8") as rows:
        for line in rows:
            record = json.loads(line)
            for failure in record["failures"]:
                if failure["code"] == "ST103" and record["status"] >= 500:
                    continue  # the server error itself (ST101)
                key = (failure["code"], failure["title"], record["status"])
                groups[(*key, _reason(record, failure))].append(record)
    out = []
    for (code, title, status, reason), records in sorted(
        groups.items(), key=lambda item: (item[0][0], -len(item[1]))
    ):
        operations = Counter(r["operation"] for r in records)
        roles = ", ".join(sorted({r["role"] for r in records}))
        smallest = min(records, key=_size)
        shown = ", ".join(f"{op} ×{n}" for op, n in operations.most_common(8))
        more = f" and {len(operations) - 8} more" if len(operations) > 8 else ""
        request = f"{smallest['method']} {smallest['path']}"
        if smallest["query"]:
            request += f" query={json.dumps(smallest['query'], ensure_ascii=False)[:300]}"
        if smallest["body"] is not None:
            body = json.dumps(smallest["body"], ensure_ascii=False)[:300]
            request += f" {smallest['media_type']} {body}"
        out += [
            f"{code} {title} — {status} — {reason}",
            f"  {len(records)} requests, {len(operations)} operations ({roles}): {shown}{more}",
            f"  e.g. as {smallest['role']}: {request}",
            f"  answer: {smallest['response'][:200]!r}",
            "",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    print(summarize(sys.argv[1]))
