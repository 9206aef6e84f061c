"""The Stripe API client and what its errors mean for a payment.

One `StripeClient` per gateway object, through the official library; `STRIPE_API_BASE` points it
at another server (the tests' local fake). Our own Celery task retries, so the client's are off.
Amounts cross this boundary in pence (`accounts.money.to_pence`), nowhere else.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from djmoney.money import Money

from .. import GatewayAmbiguous, GatewayRefused, GatewayRetryLater, Transfer


def make_client():
    import stripe

    options = {"base_addresses": {"api": settings.STRIPE_API_BASE}} if settings.STRIPE_API_BASE else {}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=0,
        http_client=stripe.RequestsClient(
            timeout=settings.STRIPE_TIMEOUT_SECONDS,
            session=http_session(settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE),
        ),
        **options,
    )


def http_session(base: str):
    """One HTTP session for the client, with the environment read once, here.

    Why: by default `requests` reads the proxy variables, NO_PROXY and ~/.netrc again on every
    request, which was a large part of the CPU a payment run spends per transfer
    (bench/payment_run.py). The proxies that apply to the API's host are worked out now, from the
    same variables and with the same NO_PROXY rules, so a deployment behind an egress proxy still
    uses it. Certificates are unaffected: the Stripe client always names its own CA bundle. The
    session is shared by the threads that send a batch's transfers (payments/services/batches.py);
    its connection pool is thread-safe, and it keeps no cookies or state that Stripe relies on."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base))
    return session


def call(fn, *args, **kwargs):
    """Call the Stripe client, turning its errors into what the caller may safely do next."""
    import stripe

    try:
        return fn(*args, **kwargs)
    except stripe.RateLimitError as exc:
        raise GatewayRetryLater(message(exc)) from exc
    except stripe.IdempotencyError as exc:
        raise GatewayRefused(message(exc)) from exc
    except stripe.APIError as exc:
        if getattr(exc, "http_status", None) == 409:  # a concurrent request with the same key
            raise GatewayRetryLater(message(exc)) from exc
        raise GatewayAmbiguous(message(exc)) from exc
    except stripe.APIConnectionError as exc:
        raise GatewayAmbiguous(message(exc)) from exc
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None)
        if status is not None and status >= 500:
            raise GatewayAmbiguous(message(exc)) from exc
        raise GatewayRefused(message(exc)) from exc


def plain(obj) -> dict:
    """A Stripe object as a plain dict (stripe 16's objects have no `.get`)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def message(exc) -> str:
    return getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__


def from_pence(amount, currency) -> Money:
    return Money(Decimal(amount or 0) / 100, str(currency or "gbp").upper())


def to_transfer(item) -> Transfer:
    item = plain(item)
    return Transfer(
        id=item["id"],
        amount=from_pence(item["amount"], item["currency"]),
        destination=item.get("destination") or "",
        group=item.get("transfer_group") or "",
        metadata=dict(item.get("metadata") or {}),
        reversed=bool(item.get("reversed")),
    )
