"""Stripe Connect onboarding: an Express connected account per payee, created through the API,
and the hosted onboarding link; an account is ready once Stripe says payouts (or charges) are
enabled and the details are submitted."""

from __future__ import annotations

from .client import call, plain


def create_account(client, *, email: str, name: str, reference: str) -> str:
    params = {
        "type": "express",
        "country": "GB",
        "capabilities": {"transfers": {"requested": True}},
        "business_profile": {"name": name[:100]},
        # A person holding a direct payment ("person-12"), or a provider organisation (its id).
        "metadata": {"cairn_person" if reference.startswith("person-") else "cairn_provider": reference},
    }
    if email:
        params["email"] = email
    account = call(client.v1.accounts.create, params, options={"idempotency_key": f"cairn-account-{reference}"})
    return account["id"]


def onboarding_link(client, *, account_id: str, refresh_url: str, return_url: str) -> str:
    link = call(
        client.v1.account_links.create,
        {"account": account_id, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"},
    )
    return link["url"]


def account_is_ready(account: dict) -> bool:
    return bool(account.get("payouts_enabled") or account.get("charges_enabled")) and bool(
        account.get("details_submitted")
    )


def account_ready(client, *, account_id: str) -> bool:
    return account_is_ready(plain(call(client.v1.accounts.retrieve, account_id)))
