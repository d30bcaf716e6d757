"""Plans, the caller's subscription and usage, and the billing actions, which run through the user's
SubscriptionWorkflow (`subscription-{user_id}`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from activities.billing.stripe_gateway import StripeGateway
from api.deps import CurrentUser, OptionalUser, ServicesDep
from api.problems import Problem
from api.schemas import (
    CheckoutIn,
    CheckoutOut,
    PlanChangeIn,
    PlanOut,
    PlanPrices,
    PlansOut,
    PortalOut,
    SubscriptionOut,
    UsageOut,
)
from api.services import Services
from api.subscriptions import (
    billing_not_configured,
    start_checkout,
    update_subscription,
)
from models.billing import (
    FREE_PLAN,
    BillingInterval,
    CheckoutRequest,
    PlanChange,
    SubscriptionStatus,
    subscription_workflow_id,
)

router = APIRouter(tags=["billing"])


def require_billing(services: ServicesDep) -> StripeGateway:
    if services.stripe is None:
        raise billing_not_configured()
    return services.stripe


StripeDep = Annotated[StripeGateway, Depends(require_billing)]


async def _paid_plan(services: Services, code: str, interval: str) -> CheckoutRequest:
    """A plan that exists and is sold with this interval, else a 404/422 before any workflow is touched."""
    request = CheckoutRequest(code, BillingInterval(interval))
    await services.billing.price_for(code, request.interval)
    return request


@router.get("/plans", response_model=PlansOut)
async def list_plans(services: ServicesDep, user: OptionalUser) -> PlansOut:
    """Every plan with its monthly quota and Stripe prices; with an access token, which one is the caller's."""
    current = (await services.entitlements.get(user.id)).plan if user else None
    return PlansOut(
        plans=[
            PlanOut(
                code=p.code,
                name=p.name,
                monthly_quota=p.monthly_quota,
                prices=PlanPrices(month=p.price_monthly, year=p.price_yearly),
                current=p.code == current,
            )
            for p in await services.billing.plans()
        ],
        current_plan=current,
        billing_available=services.stripe is not None,
    )


@router.get("/billing/subscription", response_model=SubscriptionOut)
async def get_subscription(user: CurrentUser, services: ServicesDep) -> SubscriptionOut:
    """The caller's subscription as the workflow last wrote it (status none and plan free before any)."""
    record = await services.billing.subscription(user.id)
    entitlement = await services.entitlements.get(user.id)
    workflow_id = subscription_workflow_id(user.id)
    if record is None:
        return SubscriptionOut(
            status=SubscriptionStatus.NONE.value,
            plan=entitlement.plan,
            subscribed_plan=None,
            interval=None,
            current_period_end=None,
            cancel_at_period_end=False,
            grace_until=None,
            renewals=0,
            workflow_id=workflow_id,
        )
    return SubscriptionOut(
        status=record.status.value,
        plan=entitlement.plan,
        subscribed_plan=record.plan,
        interval=record.interval.value if record.interval else None,
        current_period_end=record.current_period_end,
        cancel_at_period_end=record.cancel_at_period_end,
        grace_until=record.grace_until if record.status is SubscriptionStatus.PAST_DUE else None,
        renewals=record.renewals,
        workflow_id=workflow_id,
    )


@router.get("/billing/usage", response_model=UsageOut)
async def get_usage(user: CurrentUser, services: ServicesDep) -> UsageOut:
    """Improvements used this calendar month, the plan's limit and when the count starts again."""
    quota = await services.quota.status(user.id)
    return UsageOut(
        plan=quota.plan_code,
        used=quota.used,
        limit=quota.limit,
        remaining=max(quota.limit - quota.used, 0),
        period_start=quota.period_start,
        resets_on=quota.resets_on,
    )


@router.post("/billing/checkout", response_model=CheckoutOut)
async def checkout(
    body: CheckoutIn,
    user: CurrentUser,
    services: ServicesDep,
    _stripe: StripeDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CheckoutOut:
    """Start a Stripe Checkout for a paid plan. The plan applies once Stripe confirms the payment (webhook).
    Refused for the plan the caller already has; send the same `Idempotency-Key` to get the same checkout."""
    if body.plan == FREE_PLAN:
        raise Problem(422, "plan_not_for_sale", "This plan cannot be bought", "The Free plan needs no checkout.")
    request = await _paid_plan(services, body.plan, body.interval)
    result = await start_checkout(services, user.id, request, idempotency_key)
    return CheckoutOut(checkout_url=result.checkout_url, session_id=result.session_id, workflow_id=result.workflow_id)


@router.post("/billing/cancel", response_model=SubscriptionOut)
async def cancel(user: CurrentUser, services: ServicesDep, _stripe: StripeDep) -> SubscriptionOut:
    """Cancel at the end of the paid period; the plan stays until then."""
    await update_subscription(services, user.id, "cancel")
    return await get_subscription(user, services)


@router.post("/billing/resume", response_model=SubscriptionOut)
async def resume(user: CurrentUser, services: ServicesDep, _stripe: StripeDep) -> SubscriptionOut:
    """Undo a cancel before the period ends."""
    await update_subscription(services, user.id, "resume")
    return await get_subscription(user, services)


@router.post("/billing/change-plan", response_model=SubscriptionOut)
async def change_plan(
    body: PlanChangeIn, user: CurrentUser, services: ServicesDep, _stripe: StripeDep
) -> SubscriptionOut:
    """Move to another paid plan or interval now; Stripe prorates the difference."""
    if body.plan == FREE_PLAN:
        raise Problem(422, "plan_not_for_sale", "This plan cannot be bought", "To go back to Free, cancel instead.")
    request = await _paid_plan(services, body.plan, body.interval)
    await update_subscription(services, user.id, "change_plan", PlanChange(request.plan, request.interval))
    return await get_subscription(user, services)


@router.post("/billing/portal", response_model=PortalOut)
async def portal(user: CurrentUser, services: ServicesDep, stripe: StripeDep) -> PortalOut:
    """A Stripe billing portal session: payment methods, invoices and receipts."""
    record = await services.billing.subscription(user.id)
    if record is None or record.customer_id is None:
        raise Problem(409, "no_billing_account", "No billing account", "Buy a plan first: there is nothing to manage.")
    url = await stripe.create_portal_session(record.customer_id, f"{services.settings.public_app_url}/billing")
    return PortalOut(portal_url=url)
