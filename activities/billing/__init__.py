"""Billing: Stripe calls, the subscription projection, the entitlement cache and webhook verification."""
