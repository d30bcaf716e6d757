"""The steps of AccountDeletionWorkflow: each idempotent, so a retried or re-run deletion finishes the job.

The class receives its PostgreSQL sessions and a Temporal client (to cancel the user's running workflows) in
`__init__`; the worker builds it once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import stripe
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.billing.stripe_gateway import StripeGateway
from activities.blobs import delete_orphan_blobs
from activities.database import Sessions
from models.account_deletion import (
    AccountRef,
    BillingSummary,
    CancelSummary,
    ErasureSummary,
    MarkSummary,
)
from models.billing import subscription_workflow_id
from models.improvement import Stage
from models.tables import (
    Blob,
    Cv,
    Improvement,
    OAuthIdentity,
    PasswordResetToken,
    RefreshToken,
    Rendition,
    Subscription,
    Usage,
    User,
)
from models.workflow_io import CV_RENDER_WORKFLOW

TERMINAL_STAGES = [s.value for s in Stage if s.terminal]


async def _count(session: AsyncSession, statement: Any) -> int:
    """Run a DELETE ... RETURNING and count the rows it removed."""
    return len((await session.execute(statement)).all())


async def erase_user_data(session: AsyncSession, user_id: uuid.UUID) -> ErasureSummary:
    """Delete everything a user owns except the user row, then the blobs nobody else points at."""
    improvement_ids = select(Improvement.id).where(Improvement.user_id == user_id).scalar_subquery()
    shas = set(await session.scalars(select(Cv.file_sha256).where(Cv.user_id == user_id)))
    shas |= set(
        await session.scalars(select(Rendition.pdf_sha256).where(Rendition.improvement_id.in_(improvement_ids)))
    )
    renditions = await _count(
        session, delete(Rendition).where(Rendition.improvement_id.in_(improvement_ids)).returning(Rendition.id)
    )
    improvements = await _count(
        session, delete(Improvement).where(Improvement.user_id == user_id).returning(Improvement.id)
    )
    cvs = await _count(session, delete(Cv).where(Cv.user_id == user_id).returning(Cv.id))
    usage = await _count(session, delete(Usage).where(Usage.user_id == user_id).returning(Usage.id))
    refresh = await _count(
        session, delete(RefreshToken).where(RefreshToken.user_id == user_id).returning(RefreshToken.id)
    )
    resets = await _count(
        session,
        delete(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id)
        .returning(PasswordResetToken.token_hash),
    )
    identities = await _count(
        session, delete(OAuthIdentity).where(OAuthIdentity.user_id == user_id).returning(OAuthIdentity.id)
    )
    blobs_before = await _blob_count(session, shas)
    await session.flush()
    await delete_orphan_blobs(session, shas)
    blobs = blobs_before - await _blob_count(session, shas)
    return ErasureSummary(
        cvs=cvs,
        improvements=improvements,
        renditions=renditions,
        usage=usage,
        refresh_tokens=refresh,
        reset_tokens=resets,
        oauth_identities=identities,
        blobs=blobs,
    )


async def _blob_count(session: AsyncSession, shas: set[str]) -> int:
    if not shas:
        return 0
    return int(await session.scalar(select(func.count()).select_from(Blob).where(Blob.sha256.in_(shas))) or 0)


class AccountDeletionActivities:
    def __init__(
        self,
        sessions: Sessions,
        client: Client,
        stripe_gateway: StripeGateway | None = None,
        *,
        close_timeout: float = 60.0,
        poll_interval: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._stripe = stripe_gateway
        self._close_timeout = close_timeout
        self._poll_interval = poll_interval

    @activity.defn
    async def mark_account_deleting(self, data: AccountRef) -> MarkSummary:
        """From here on the account cannot sign in, its access tokens answer 401 and its refresh tokens are
        revoked, so it cannot start new work while it is being erased."""
        async with self._sessions.begin() as session:
            found = await session.scalar(
                update(User)
                .where(User.id == data.user_id)
                .values(deletion_requested_at=func.coalesce(User.deletion_requested_at, func.now()))
                .returning(User.id)
            )
            revoked = await _count(
                session,
                update(RefreshToken)
                .where(RefreshToken.user_id == data.user_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=func.now())
                .returning(RefreshToken.id),
            )
        return MarkSummary(found=found is not None, sessions_revoked=revoked)

    @activity.defn
    async def cancel_user_workflows(self, data: AccountRef) -> CancelSummary:
        """Cancel the user's unfinished improvement workflows and wait until they have closed (each records its
        cancellation and refunds its quota unit). Whatever is still open after `close_timeout` is terminated."""
        async with self._sessions() as session:
            workflow_ids = list(
                await session.scalars(
                    select(Improvement.workflow_id).where(
                        Improvement.user_id == data.user_id, Improvement.stage.not_in(TERMINAL_STAGES)
                    )
                )
            )
        # Re-renders have no row of their own: found by their search attribute (eventually consistent, and
        # harmless if missed: a re-render of a deleted improvement fails by itself).
        query = f"CvUserId = '{data.user_id}' AND WorkflowType = '{CV_RENDER_WORKFLOW}' AND ExecutionStatus = 'Running'"
        workflow_ids += [execution.id async for execution in self._client.list_workflows(query)]
        # The subscription workflow ends too: billing is canceled at Stripe in the next step.
        workflow_ids.append(subscription_workflow_id(data.user_id))
        canceled = 0
        for workflow_id in workflow_ids:
            try:
                await self._client.get_workflow_handle(workflow_id).cancel()
                canceled += 1
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: already closed, or never started
                    raise
        open_ids = await self._still_running(workflow_ids)
        deadline = asyncio.get_running_loop().time() + self._close_timeout
        while open_ids and asyncio.get_running_loop().time() < deadline:
            activity.heartbeat(f"{len(open_ids)} workflow(s) still closing")
            await asyncio.sleep(self._poll_interval)
            open_ids = await self._still_running(open_ids)
        for workflow_id in open_ids:
            try:
                await self._client.get_workflow_handle(workflow_id).terminate(reason="account deleted")
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
        return CancelSummary(canceled=canceled, terminated=len(open_ids))

    async def _still_running(self, workflow_ids: list[str]) -> list[str]:
        running = []
        for workflow_id in workflow_ids:
            try:
                desc = await self._client.get_workflow_handle(workflow_id).describe()
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            if desc.status == WorkflowExecutionStatus.RUNNING:
                running.append(workflow_id)
        return running

    @activity.defn
    async def cancel_billing(self, data: AccountRef) -> BillingSummary:
        """End the user's Stripe subscription now, so nobody is charged for a deleted account. Keyed on the user
        and subscription, and a subscription Stripe already ended counts as done. The Stripe customer and its
        invoices stay at Stripe: invoices are accounting records."""
        async with self._sessions() as session:
            row = await session.get(Subscription, data.user_id)
        if row is None or row.stripe_subscription_id is None or row.status in ("none", "canceled"):
            return BillingSummary(subscriptions_canceled=0)
        if self._stripe is None:
            activity.logger.warning("user %s has a subscription but billing is not configured", data.user_id)
            return BillingSummary(subscriptions_canceled=0)
        subscription_id = row.stripe_subscription_id
        try:
            await self._stripe.cancel_subscription(
                subscription_id, f"account-deletion-{data.user_id}-{subscription_id}"
            )
        except stripe.InvalidRequestError as exc:
            # Already canceled or gone at Stripe: nothing left to stop.
            activity.logger.info("subscription %s not cancelable (%s): already ended", subscription_id, exc.code)
            return BillingSummary(subscriptions_canceled=0)
        return BillingSummary(subscriptions_canceled=1)

    @activity.defn
    async def erase_account_data(self, data: AccountRef) -> ErasureSummary:
        """Delete CVs, improvements, renditions, usage rows, refresh and reset tokens, OAuth identities, and the
        blobs no other CV or rendition points at."""
        async with self._sessions.begin() as session:
            return await erase_user_data(session, data.user_id)

    @activity.defn
    async def delete_user_row(self, data: AccountRef) -> bool:
        """Delete the user row last. Anything written for the user since the erasure step (a request that was
        already past authentication) is erased again in the same transaction."""
        async with self._sessions.begin() as session:
            await erase_user_data(session, data.user_id)
            deleted = await session.scalar(delete(User).where(User.id == data.user_id).returning(User.id))
        return deleted is not None
