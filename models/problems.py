"""The RFC 9457 problem document every error answer uses (the API's and the codec server's)."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


def problem_body(status: int, code: str, title: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }
