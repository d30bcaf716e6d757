"""Inputs and outputs of AccountDeletionWorkflow and its activities: the user id and small counts only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

ACCOUNT_DELETION_WORKFLOW = "AccountDeletionWorkflow"


def account_deletion_workflow_id(user_id: uuid.UUID) -> str:
    return f"account-deletion-{user_id}"


@dataclass(frozen=True)
class AccountRef:
    """The workflow's input and every step's argument: the user id only."""

    user_id: uuid.UUID


@dataclass(frozen=True)
class MarkSummary:
    found: bool  # False once the user row is gone (a re-run after a completed deletion)
    sessions_revoked: int


@dataclass(frozen=True)
class CancelSummary:
    canceled: int  # cancel requests sent to workflows that were still running
    terminated: int  # workflows that did not close in time after the cancel request


@dataclass(frozen=True)
class BillingSummary:
    subscriptions_canceled: int


@dataclass(frozen=True)
class ErasureSummary:
    cvs: int
    improvements: int
    renditions: int
    usage: int
    refresh_tokens: int
    reset_tokens: int
    oauth_identities: int
    blobs: int


@dataclass(frozen=True)
class DeletionResult:
    user_id: uuid.UUID
    workflows_canceled: int
    workflows_terminated: int
    erased: ErasureSummary
    user_deleted: bool
