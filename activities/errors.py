"""Domain errors raised by stores; the API maps each to an RFC 9457 problem with its status."""

from __future__ import annotations

from datetime import date


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"
    title = "Invalid credentials"


class QuotaExhausted(DomainError):
    status = 402
    code = "quota_exhausted"
    title = "Monthly quota used up"

    def __init__(self, plan: str, limit: int, resets_on: date) -> None:
        super().__init__(
            f"You have used all {limit} improvements of the {plan} plan this month; "
            f"your quota resets on {resets_on.isoformat()}."
        )
        self.plan = plan
        self.limit = limit
        self.resets_on = resets_on
