"""Plans, checkout and the quota they buy, through the public API, with Stripe's real SDK against the test server."""

from __future__ import annotations

import asyncio
from datetime import date

from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from activities.billing.store import BillingStore
from activities.database import create_sessions
from models.billing import BillingInterval, subscription_workflow_id
from models.settings import Settings
from tests.billing.conftest import Billing
from tests.conftest import SAMPLES, open_stack


async def test_plans_are_listed_with_the_callers_plan(billing: Billing) -> None:
    anonymous = await billing.http.get("/plans")
    assert anonymous.status_code == 200
    body = anonymous.json()
    assert [p["code"] for p in body["plans"]] == ["free", "pro", "premium"]
    assert body["current_plan"] is None and body["billing_available"] is True
    pro = next(p for p in body["plans"] if p["code"] == "pro")
    assert pro["monthly_quota"] == 30
    assert pro["prices"] == {"month": "price_pro_monthly", "year": "price_pro_yearly"}

    headers, _ = await billing.user()
    signed_in = (await billing.http.get("/plans", headers=headers)).json()
    assert signed_in["current_plan"] == "free"
    assert [p["code"] for p in signed_in["plans"] if p["current"]] == ["free"]


async def test_free_quota_is_refused_with_the_reset_date_then_checkout_lifts_it_to_pro(billing: Billing) -> None:
    headers, _ = await billing.user()
    cv = await billing.stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
    for _ in range(3):
        r = await billing.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer"})
        assert r.status_code == 202, r.text
        assert (await billing.stack.wait_finished(headers, r.json()["improvement_id"]))["stage"] == "completed"
    refused = await billing.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer"})
    assert refused.status_code == 402
    problem = refused.json()
    assert problem["code"] == "quota_exhausted" and problem["limit"] == 3
    today = date.today()
    first_of_next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    assert problem["resets_on"] == first_of_next_month.isoformat()
    assert first_of_next_month.isoformat() in problem["detail"]

    session = await billing.checkout(headers, "pro")
    assert session["workflow_id"].startswith("subscription-")
    assert session["checkout_url"].startswith(billing.stripe.url)
    pending = await billing.subscription(headers)
    assert pending["status"] == "checkout_pending" and pending["plan"] == "free"

    events = await asyncio.to_thread(billing.stripe.complete_checkout, session["session_id"])
    answers = await billing.deliver(events)
    actions = [a.json()["action"] for a in answers]
    assert "delivered" in actions and "ignored" in actions  # e.g. invoice.created is not used
    state = await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert state["plan"] == "pro" and state["subscribed_plan"] == "pro" and state["interval"] == "month"
    assert state["current_period_end"] is not None

    usage = (await billing.http.get("/billing/usage", headers=headers)).json()
    assert usage["plan"] == "pro" and usage["limit"] == 30 and usage["used"] == 3 and usage["remaining"] == 27
    accepted = await billing.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json={"position": "Engineer"})
    assert accepted.status_code == 202, accepted.text
    me = (await billing.http.get("/me", headers=headers)).json()
    assert me["plan"] == "pro" and me["quota"]["limit"] == 30


async def test_checkout_is_refused_for_the_plan_the_user_already_has(billing: Billing) -> None:
    headers, _ = await billing.user()
    await billing.subscribe(headers, "pro")
    again = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "pro"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_subscribed"
    assert "already have the pro plan" in again.json()["detail"]
    other = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "premium"})
    assert other.status_code == 409 and "change the plan" in other.json()["detail"]


async def test_bad_checkout_requests_get_specific_problems(billing: Billing) -> None:
    headers, _ = await billing.user()
    free = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "free"})
    assert free.status_code == 422 and free.json()["code"] == "plan_not_for_sale"
    unknown = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "gold"})
    assert unknown.status_code == 404 and "gold" in unknown.json()["detail"]
    interval = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "pro", "interval": "week"})
    assert interval.status_code == 422 and interval.json()["code"] == "validation_error"
    anonymous = await billing.http.post("/billing/checkout", json={"plan": "pro"})
    assert anonymous.status_code == 401
    nothing = await billing.http.post("/billing/cancel", headers=headers)
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_subscription"
    no_portal = await billing.http.post("/billing/portal", headers=headers)
    assert no_portal.status_code == 409 and no_portal.json()["code"] == "no_billing_account"


async def test_the_same_idempotency_key_answers_the_same_checkout(billing: Billing) -> None:
    headers, _ = await billing.user()
    keyed = {**headers, "Idempotency-Key": "checkout-button-click-1"}
    first = await billing.http.post("/billing/checkout", headers=keyed, json={"plan": "pro"})
    second = await billing.http.post("/billing/checkout", headers=keyed, json={"plan": "pro"})
    assert first.status_code == second.status_code == 200
    assert first.json()["session_id"] == second.json()["session_id"]


async def test_a_declined_card_leaves_the_user_on_free_and_an_expired_checkout_is_dropped(billing: Billing) -> None:
    headers, _ = await billing.user()
    session = await billing.checkout(headers, "pro")
    try:
        await asyncio.to_thread(billing.stripe.complete_checkout, session["session_id"], card="declined")
        raise AssertionError("a declined card must not complete the checkout")
    except Exception as exc:  # CardDeclined: the hosted page shows the error, nothing reaches us
        assert "declined" in str(exc).lower()
    state = await billing.subscription(headers)
    assert state["status"] == "checkout_pending" and state["plan"] == "free"

    await billing.deliver(await asyncio.to_thread(billing.stripe.expire_checkout, session["session_id"]))
    state = await billing.wait_for(headers, lambda s: s["status"] == "none")
    assert state["plan"] == "free"
    # A new checkout is possible afterwards.
    await billing.subscribe(headers, "pro")


async def test_a_stripe_500_is_retried_with_the_same_idempotency_key(billing: Billing) -> None:
    headers, _ = await billing.user()
    before = len(billing.stripe.checkout_sessions)
    # Stripe creates the session, then the answer is lost: the activity's retry must not create a second one.
    billing.stripe.fail_next("POST", "/v1/checkout/sessions", status=500, after_processing=True)
    session = await billing.checkout(headers, "pro")
    assert len(billing.stripe.checkout_sessions) == before + 1
    posts = [r for r in billing.stripe.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"]
    user_id = str(session["workflow_id"]).removeprefix("subscription-")
    mine = [r for r in posts if r.idempotency_key and user_id in r.idempotency_key]
    assert len(mine) == 2, [(r.status, r.idempotency_key) for r in posts]
    assert mine[0].status == 500 and mine[1].status == 200 and mine[1].replayed
    assert mine[0].idempotency_key == mine[1].idempotency_key


async def test_stripe_refusing_the_checkout_is_a_clear_error(billing: Billing) -> None:
    headers, _ = await billing.user()
    billing.stripe.fail_next("POST", "/v1/checkout/sessions", status=400, after_processing=False)
    r = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "pro"})
    assert r.status_code == 502 and r.json()["code"] == "stripe_rejected"
    # Nothing is stuck: the next attempt works.
    await billing.subscribe(headers, "pro")


async def test_portal_opens_for_a_customer(billing: Billing) -> None:
    headers, _ = await billing.user()
    await billing.subscribe(headers, "pro")
    r = await billing.http.post("/billing/portal", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["portal_url"].startswith(f"{billing.stripe.url}/portal/")


async def test_without_stripe_billing_answers_503_and_the_free_plan_works(
    temporal_env: WorkflowEnvironment, base_settings: Settings
) -> None:
    settings = base_settings.model_copy(update={"temporal_task_queue": "cv-improver-no-billing"})
    async with open_stack(temporal_env, settings, worker=False) as stack:
        headers = await stack.user()
        for path in ("/billing/checkout", "/billing/cancel", "/billing/resume", "/billing/portal"):
            body = {"plan": "pro"} if path == "/billing/checkout" else None
            r = await stack.http.post(path, headers=headers, json=body)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["detail"] == "Billing is not configured."
        webhook = await stack.http.post("/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
        assert webhook.status_code == 404
        plans = (await stack.http.get("/plans", headers=headers)).json()
        assert plans["billing_available"] is False and plans["current_plan"] == "free"
        usage = (await stack.http.get("/billing/usage", headers=headers)).json()
        assert usage["plan"] == "free" and usage["limit"] == 3
        subscription = (await stack.http.get("/billing/subscription", headers=headers)).json()
        assert subscription["status"] == "none" and subscription["plan"] == "free"


async def test_operators_see_plan_and_status_as_search_attributes_with_readable_details(billing: Billing) -> None:
    headers, user_id = await billing.user()
    await billing.subscribe(headers, "pro")
    handle = billing.stack.client.get_workflow_handle(subscription_workflow_id(user_id))
    description = await handle.describe()
    attributes = description.typed_search_attributes
    assert attributes.get(SearchAttributeKey.for_keyword("CvPlan")) == "pro"
    assert attributes.get(SearchAttributeKey.for_keyword("CvSubscriptionStatus")) == "active"
    assert attributes.get(SearchAttributeKey.for_keyword("CvUserId")) == str(user_id)
    assert "Subscription of user" in (await description.static_summary() or "")
    metadata = await handle.query("__temporal_workflow_metadata")
    details = metadata.current_details
    assert "**Status:** active" in details and "**entitled to:** pro" in details
    # Its history holds IDs and codes, never the customer's e-mail address.
    history = (await handle.fetch_history()).to_json()
    me = (await billing.http.get("/me", headers=headers)).json()
    assert me["email"] not in history


async def test_price_ids_from_the_environment_override_the_seeded_ones(billing: Billing) -> None:
    sessions = create_sessions(billing.stack.services.stores.engine)
    store = BillingStore(sessions, {("pro", "year"): "price_live_pro_annual"})
    pro = await store.plan("pro")
    assert pro.price_monthly == "price_pro_monthly" and pro.price_yearly == "price_live_pro_annual"
    assert (await store.plan_of_price())["price_live_pro_annual"] == ("pro", BillingInterval.YEAR)


async def test_a_second_checkout_closes_the_first_so_only_one_can_be_paid(billing: Billing) -> None:
    headers, _ = await billing.user()
    first = await billing.checkout(headers, "pro")
    second = await billing.checkout(headers, "premium")
    assert first["session_id"] != second["session_id"]
    assert billing.stripe.get(first["session_id"])["status"] == "expired"
    try:
        await asyncio.to_thread(billing.stripe.complete_checkout, first["session_id"])
        raise AssertionError("an expired checkout must not be payable")
    except AssertionError:
        raise
    except Exception as exc:
        assert "no longer open" in str(exc)
    await billing.deliver(await asyncio.to_thread(billing.stripe.complete_checkout, second["session_id"]))
    state = await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert state["plan"] == "premium"


async def test_a_checkout_paid_but_not_yet_announced_is_not_sold_twice(billing: Billing) -> None:
    headers, _ = await billing.user()
    first = await billing.checkout(headers, "pro")
    paid = await asyncio.to_thread(billing.stripe.complete_checkout, first["session_id"])  # webhooks still on the way
    again = await billing.http.post("/billing/checkout", headers=headers, json={"plan": "pro"})
    assert again.status_code == 409 and "was just paid" in again.json()["detail"]
    await billing.deliver(paid)
    await billing.wait_for(headers, lambda s: s["status"] == "active")
    assert (
        len([s for s in billing.stripe.subscriptions if s["customer"] == paid[0]["data"]["object"].get("customer")])
        <= 1
    )
