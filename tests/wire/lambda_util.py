"""Helpers shared by the Lambda wire tests: zip packages and waiting for side effects."""

from __future__ import annotations

import io
import time
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip with `files` (name -> content); `modes` sets Unix permission bits per name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            archive.writestr(info, content)
    return buf.getvalue()


def python_function(source: str, module: str = "lambda_function") -> bytes:
    return make_zip({f"{module}.py": source})


def wait_for(predicate, what: str, limit_s: float = 120.0, step_s: float = 0.05):
    """Polls `predicate` until it returns something truthy; fails after `limit_s` (a hang
    guard for asynchronous deliveries, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step_s)
