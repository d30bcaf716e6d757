"""No password, token or reset link reaches the logs during a whole session."""

from __future__ import annotations

import io
import logging

import pytest

from ops.logging import log_handler
from tests.accounts.session_helpers import bearer, capture_mail, login, new_email, register
from tests.conftest import Stack


async def test_a_full_session_logs_no_secret(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    password, new_password = "first secret passphrase 1", "second secret passphrase 2"
    email = new_email()
    secrets: list[str] = [password, new_password]
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="cvimprover")
    # The production rendering too: JSON lines with the request and user ids added.
    rendered = io.StringIO()
    json_handler = log_handler(json_format=True, stream=rendered)
    logging.getLogger().addHandler(json_handler)
    with capture_mail(stack) as outbox:
        await register(stack.http, email, password)
        tokens = await login(stack.http, email, password)
        secrets += [tokens["access_token"], tokens["refresh_token"]]
        r = await stack.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200
        refreshed = r.json()
        secrets += [refreshed["access_token"], refreshed["refresh_token"]]
        # A failed attempt too: the wrong password must not be logged either.
        r = await stack.http.post("/auth/login", json={"email": email, "password": "wrong secret passphrase"})
        assert r.status_code == 401
        secrets.append("wrong secret passphrase")

        assert (await stack.http.post("/auth/password/forgot", json={"email": email})).status_code == 202
        [mail] = outbox.sent
        link = mail.body.split("\n\n")[1].splitlines()[1]
        secrets += [mail.reset_token, link]
        r = await stack.http.post("/auth/password/reset", json={"token": mail.reset_token, "password": new_password})
        assert r.status_code == 204
        again = await login(stack.http, email, new_password)
        secrets += [again["access_token"], again["refresh_token"]]
        assert (await stack.http.post("/auth/logout", headers=bearer(again))).status_code == 204
    logging.getLogger().removeHandler(json_handler)

    assert any("password reset mail for user" in r.getMessage() for r in caplog.records), "the mail log line"
    assert len(caplog.records) > 0
    for record in caplog.records:
        text = " ".join(
            str(part) for part in (record.getMessage(), record.args, record.exc_text, record.__dict__) if part
        )
        for secret in secrets:
            assert secret not in text, f"{record.name}: a secret reached the log"
    assert "password reset mail for user" in rendered.getvalue()
    for secret in secrets:
        assert secret not in rendered.getvalue(), "a secret reached the JSON log"
