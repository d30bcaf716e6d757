"""AccountDeletionWorkflow: lock the account, cancel its running workflows, cancel billing, erase its data,
delete the user. Every step is an idempotent activity, so a retried step or a re-run finishes the job."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.retry_policies import STORAGE_RETRY, STORAGE_TIMEOUT, STRIPE_HEARTBEAT, STRIPE_RETRY, STRIPE_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.account_deletion import AccountDeletionActivities
    from models.account_deletion import (
        ACCOUNT_DELETION_WORKFLOW,
        AccountRef,
        BillingSummary,
        CancelSummary,
        DeletionResult,
        ErasureSummary,
        MarkSummary,
    )

# Canceling waits for the user's workflows to close (bounded inside the activity, then it terminates them).
CANCEL_TIMEOUT = timedelta(minutes=3)
CANCEL_HEARTBEAT = timedelta(seconds=20)
# Erasing may delete many rows and blobs: a regular activity with a longer timeout than a local DB step.
ERASE_TIMEOUT = timedelta(minutes=2)
PATIENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
)


@workflow.defn(name=ACCOUNT_DELETION_WORKFLOW)
class AccountDeletionWorkflow:
    @workflow.run
    async def run(self, data: AccountRef) -> DeletionResult:
        acts = AccountDeletionActivities
        ref = AccountRef(data.user_id)

        workflow.set_current_details("**Step 1/5:** locking the account")
        marked: MarkSummary = await workflow.execute_local_activity_method(
            acts.mark_account_deleting,
            ref,
            start_to_close_timeout=STORAGE_TIMEOUT,
            retry_policy=STORAGE_RETRY,
            summary="Lock the account: no sign-in, no new work, sessions revoked",
        )

        workflow.set_current_details("**Step 2/5:** canceling running improvements")
        canceled: CancelSummary = await workflow.execute_activity_method(
            acts.cancel_user_workflows,
            ref,
            start_to_close_timeout=CANCEL_TIMEOUT,
            heartbeat_timeout=CANCEL_HEARTBEAT,
            retry_policy=PATIENT_RETRY,
            summary="Cancel the user's running improvement workflows and wait until they close",
        )

        workflow.set_current_details("**Step 3/5:** canceling billing")
        billing: BillingSummary = await workflow.execute_activity_method(
            acts.cancel_billing,
            ref,
            start_to_close_timeout=STRIPE_TIMEOUT,
            heartbeat_timeout=STRIPE_HEARTBEAT,
            retry_policy=STRIPE_RETRY,
            summary="Cancel the Stripe subscription now",
        )

        workflow.set_current_details("**Step 4/5:** erasing CVs, improvements, PDFs and tokens")
        erased: ErasureSummary = await workflow.execute_activity_method(
            acts.erase_account_data,
            ref,
            start_to_close_timeout=ERASE_TIMEOUT,
            retry_policy=PATIENT_RETRY,
            summary="Delete CVs, improvements, PDFs, usage, tokens, identities and orphaned blobs",
        )

        workflow.set_current_details("**Step 5/5:** deleting the user")
        deleted: bool = await workflow.execute_local_activity_method(
            acts.delete_user_row,
            ref,
            start_to_close_timeout=STORAGE_TIMEOUT,
            retry_policy=STORAGE_RETRY,
            summary="Delete the user row",
        )

        workflow.set_current_details(
            f"**Deleted** user {data.user_id}"
            + ("" if marked.found else " (already gone)")
            + f": {canceled.canceled} workflow(s) canceled, {canceled.terminated} terminated; "
            f"{erased.cvs} CV(s), {erased.improvements} improvement(s), {erased.renditions} PDF(s), "
            f"{erased.blobs} blob(s) erased; {billing.subscriptions_canceled} subscription(s) canceled."
        )
        return DeletionResult(
            user_id=data.user_id,
            workflows_canceled=canceled.canceled,
            workflows_terminated=canceled.terminated,
            erased=erased,
            user_deleted=deleted,
        )
