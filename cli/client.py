"""A small HTTP client of the CV Improver API, used by the `cvimprover` command and the demo."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    """An RFC 9457 problem answered by the API, as one readable line."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{body.get('title', 'Error')} ({status}): {body.get('detail', '')}")


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"title": response.reason_phrase, "detail": response.text[:200]}
        raise ApiError(response.status_code, body)
    return response


@dataclass
class Progress:
    stage: str
    percent: int
    error_code: str | None = None
    error_message: str | None = None


class CvImproverClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CvImproverClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sign_in(self, email: str, password: str, *, register: bool = False) -> None:
        """Log in; with `register`, create the account first when it does not exist."""
        if register:
            response = self._http.post("/auth/register", json={"email": email, "password": password})
            if response.status_code not in (201, 409):
                _check(response)
        token = _check(self._http.post("/auth/login", json={"email": email, "password": password})).json()
        self._http.headers["Authorization"] = f"Bearer {token['access_token']}"

    def upload(self, path: Path) -> dict[str, Any]:
        with path.open("rb") as f:
            return dict(_check(self._http.post("/cvs", files={"file": (path.name, f)})).json())

    def improve(self, cv_id: str, target: dict[str, Any]) -> dict[str, Any]:
        return dict(_check(self._http.post(f"/cvs/{cv_id}/improvements", json=target)).json())

    def improvement(self, improvement_id: str) -> dict[str, Any]:
        return dict(_check(self._http.get(f"/improvements/{improvement_id}")).json())

    def follow(self, improvement_id: str) -> Iterator[Progress]:
        """Progress events from the server-sent event stream until the run ends."""
        with self._http.stream("GET", f"/improvements/{improvement_id}/events", timeout=None) as response:
            _check(response)
            event = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "progress":
                    data = json.loads(line.removeprefix("data:"))
                    yield Progress(data["stage"], data["percent"], data.get("error_code"), data.get("error_message"))
                elif line.startswith("data:") and event in ("end", "error"):
                    return

    def pdf(self, improvement_id: str, theme: str | None = None) -> bytes:
        params = {"theme": theme} if theme else {}
        return _check(self._http.get(f"/improvements/{improvement_id}/pdf", params=params)).content


def run_improvement(
    client: CvImproverClient,
    cv_path: Path,
    target: dict[str, Any],
    on_progress: Callable[[Progress], None],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload, start, follow to the end; returns (accepted, final improvement)."""
    cv = client.upload(cv_path)
    accepted = client.improve(str(cv["id"]), target)
    for progress in client.follow(str(accepted["improvement_id"])):
        on_progress(progress)
    return accepted, client.improvement(str(accepted["improvement_id"]))
