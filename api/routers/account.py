"""The signed-in user's account as a whole: `DELETE /me` starts AccountDeletionWorkflow."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.deps import CurrentUser, ServicesDep
from api.workflows import temporal_unavailable
from models.account_deletion import ACCOUNT_DELETION_WORKFLOW, AccountRef, account_deletion_workflow_id
from models.workflow_io import SA_CV_USER_ID

log = logging.getLogger("cvimprover.api")

router = APIRouter(tags=["account"])


class AccountDeletionAccepted(BaseModel):
    workflow_id: str = Field(description="AccountDeletionWorkflow's id, `account-deletion-{user_id}`.")


@router.delete("/me", status_code=status.HTTP_202_ACCEPTED, response_model=AccountDeletionAccepted)
async def delete_me(user: CurrentUser, services: ServicesDep) -> AccountDeletionAccepted:
    """Delete the account and everything in it. The deletion runs as a workflow: its first step locks the
    account (the access token stops working), then running improvements are canceled and all data is erased.
    Asking again while it runs answers the same workflow id."""
    workflow_id = account_deletion_workflow_id(user.id)
    try:
        client = await services.connect_temporal()
        await client.start_workflow(
            ACCOUNT_DELETION_WORKFLOW,
            AccountRef(user.id),
            id=workflow_id,
            task_queue=services.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(SearchAttributeKey.for_keyword(SA_CV_USER_ID), str(user.id))]
            ),
            static_summary=f"Delete the account of user {user.id} and all its data",
        )
    except (RPCError, RuntimeError, OSError) as exc:
        log.error("could not start %s: %s", workflow_id, type(exc).__name__)
        raise temporal_unavailable() from None
    return AccountDeletionAccepted(workflow_id=workflow_id)
