"""After a whole scenario (sign-up, sign-in, refresh, upload, improve, re-render, apply, password reset), no secret
and no personal data is in the logs (records at DEBUG and the production JSON lines) or in the Temporal history of
any workflow the scenario ran. tests/accounts/test_no_secrets_in_logs.py covers the session part in depth; this one
adds the CV's content and the histories."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import uuid
from typing import Any

import pytest

from ops.logging import log_handler
from tests.accounts.session_helpers import bearer, capture_mail, login, register
from tests.conftest import Stack

CV_EMAIL = f"zanzibar.quill.{uuid.uuid4().hex[:8]}@example.org"
CV_PHONE = "+44 7700 918 273"
CV_SENTENCE = "Rebuilt the heliotrope ledger reconciliation for Quillfeather Maritime"


def _readable(node: Any) -> str:
    """A history's JSON with every payload's base64 `data` decoded next to it, so a scan sees what it carries."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "data" and isinstance(item, str):
                    with contextlib.suppress(ValueError):
                        parts.append(base64.b64decode(item, validate=True).decode("utf-8", "replace"))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            parts.append(str(value))

    walk(node)
    return "\n".join(parts)


def _cv() -> bytes:
    return f"""# Zanzibar Quill

{CV_EMAIL} | {CV_PHONE} | Bristol, United Kingdom

## Summary

Backend engineer who ships reliable payment systems.

## Experience

### Senior Backend Engineer, Quillfeather Maritime, 2019 - Present

- {CV_SENTENCE} in Python, cutting settlement time by 40%
- Ran PostgreSQL and Kafka clusters for 3 teams

## Skills

Python, PostgreSQL, Kafka, Kubernetes
""".encode()


async def test_no_secret_or_personal_data_in_logs_or_histories(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    password, new_password = "hostile scenario passphrase 1", "hostile scenario passphrase 2"
    settings = stack.settings
    forbidden = {
        "password": password,
        "new password": new_password,
        "user e-mail": email,
        "CV e-mail": CV_EMAIL,
        "CV phone": CV_PHONE,
        "CV phone digits": CV_PHONE.replace(" ", ""),
        "CV sentence": CV_SENTENCE,
        "JWT secret": settings.jwt_secret.get_secret_value(),
    }
    for name in ("stripe_secret_key", "stripe_webhook_secret", "openai_api_key"):
        value = getattr(settings, name)
        if value is not None and value.get_secret_value():
            forbidden[name] = value.get_secret_value()

    caplog.set_level(logging.DEBUG)
    rendered = io.StringIO()
    json_handler = log_handler(json_format=True, stream=rendered)
    logging.getLogger().addHandler(json_handler)
    workflow_ids: list[str] = []
    try:
        with capture_mail(stack) as outbox:
            await register(stack.http, email, password)
            tokens = await login(stack.http, email, password)
            forbidden |= {"access token": tokens["access_token"], "refresh token": tokens["refresh_token"]}
            r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            assert r.status_code == 200
            tokens = r.json()
            forbidden |= {"refreshed access token": tokens["access_token"], "refreshed token": tokens["refresh_token"]}
            headers = bearer(tokens)

            cv = await stack.upload(headers, "cv.md", _cv())
            r = await stack.http.post(
                f"/cvs/{cv['id']}/improvements",
                headers=headers,
                json={"position": "Staff Backend Engineer", "job_description": "Python, Kafka and Kubernetes."},
            )
            assert r.status_code == 202, r.text
            iid = r.json()["improvement_id"]
            workflow_ids.append(r.json()["workflow_id"])
            done = await stack.wait_finished(headers, iid)
            assert done["stage"] == "completed", done
            r = await stack.http.post(f"/improvements/{iid}/render", headers=headers, json={"theme": "modern"})
            assert r.status_code == 202, r.text
            workflow_ids.append(r.json()["workflow_id"])
            await stack.client.get_workflow_handle(r.json()["workflow_id"]).result()
            changes = [c["id"] for c in done.get("changes", [])]
            if changes:
                r = await stack.http.post(f"/improvements/{iid}/apply", headers=headers, json={"accepted": changes})
                assert r.status_code in (200, 202), r.text
                if r.status_code == 202 and r.json().get("workflow_id"):
                    workflow_ids.append(r.json()["workflow_id"])
                    await stack.client.get_workflow_handle(r.json()["workflow_id"]).result()

            assert (await stack.http.post("/auth/password/forgot", json={"email": email})).status_code == 202
            [mail] = outbox.sent
            forbidden["reset token"] = mail.reset_token
            r = await stack.http.post(
                "/auth/password/reset", json={"token": mail.reset_token, "password": new_password}
            )
            assert r.status_code == 204
    finally:
        logging.getLogger().removeHandler(json_handler)

    # Every workflow of this user, not only the ones the API named: re-renders an apply started, and so on.
    me_id = (await stack.http.get("/me", headers=bearer(await login(stack.http, email, new_password)))).json()["id"]
    async for execution in stack.client.list_workflows(f"CvUserId = '{me_id}'"):
        workflow_ids.append(execution.id)
    histories = {}
    for workflow_id in set(workflow_ids):
        history = await stack.client.get_workflow_handle(workflow_id).fetch_history()
        histories[workflow_id] = _readable(json.loads(history.to_json()))
    assert len(histories) >= 2
    assert any(iid in text for text in histories.values()), "the scan reads decoded payloads"

    logs = "\n".join(
        " ".join(str(part) for part in (r.getMessage(), r.args, r.exc_text, r.__dict__) if part) for r in caplog.records
    )
    assert len(caplog.records) > 10 and rendered.getvalue()
    leaks = [
        f"{what} in {where}"
        for what, secret in forbidden.items()
        for where, text in [("log records", logs), ("JSON logs", rendered.getvalue()), *histories.items()]
        if secret in text
    ]
    assert not leaks, leaks
