"""Rate limits per client address (docs/security.md, "Throttles and lock-out").

- `public`: the open statistics and other open data, as JSON, CSV or a page. Anyone may read them,
  so the limit is per address rather than per account, and it is the same limit for the API and
  the HTML pages so a scraper cannot move to the other to get round it.
- `sign_in`: every sign-in attempt, on the page or `POST /api/v1/auth/token/`, from one address.
- `sign_in_failures`: failed sign-ins from one address, whatever the usernames tried. django-axes
  locks a username at one address after a few failures; this stops one address trying a few
  passwords against many usernames (password spraying).
- `password_reset`: reset requests from one address; `password_reset_email`: reset emails sent to
  one address (over it, the page answers as usual but sends nothing, so it says nothing about
  whether the account exists).

Rates are `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]`, read on each request, so a change of
settings takes effect at once. The address is `accounts.services.client_ip`, the one the audit
trail and django-axes use: X-Forwarded-For counts only when the request comes from a configured
proxy (never DRF's own reading of the header, which believes whatever a client sends).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .services import client_ip


class AddressRateThrottle(SimpleRateThrottle):
    """A fixed number of requests per period per client address, signed in or not. Over the limit
    DRF answers 429 with a `Retry-After` header."""

    scope = ""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def retry_after(self) -> int:
        return max(math.ceil(self.wait() or 1), 1)


class PublicRateThrottle(AddressRateThrottle):
    """Public endpoints. Unlike `AnonRateThrottle` it also counts signed-in callers: the public
    pages can be opened with a session, and the limit is on the address."""

    scope = "public"

    def allow_request(self, request, view) -> bool:
        # Marks the request as one for public open data (accounts.web.ResponseHeadersMiddleware
        # lets such an answer to someone not signed in be cached).
        getattr(request, "_request", request).cairn_public = True
        return super().allow_request(request, view)


class SignInRateThrottle(AddressRateThrottle):
    scope = "sign_in"


class PasswordResetRateThrottle(AddressRateThrottle):
    scope = "password_reset"


class SignInFailureThrottle(AddressRateThrottle):
    """Counts only failures: `allow_request` looks without counting, `record_failure` counts."""

    scope = "sign_in_failures"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self, request) -> None:
        if self.rate is None:
            return
        self.allow_request(request, None)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class PasswordResetEmailThrottle(AddressRateThrottle):
    """Reset emails to one email address, whoever asks (the address is hashed in the cache key)."""

    scope = "password_reset_email"

    def allow_email(self, email: str) -> bool:
        if self.rate is None:
            return True
        self.key = self.cache_format % {
            "scope": self.scope,
            "ident": hashlib.sha256(email.strip().casefold().encode()).hexdigest(),
        }
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return False
        return self.throttle_success()


def too_many_requests_page(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def throttle_page(
    *throttles: type[AddressRateThrottle], methods: tuple[str, ...] = ()
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The same limits, from the same counters, for an HTML page (a Django view function, or
    `as_view()`; with `methods`, only requests with those methods count): over one, a 429 page
    saying when to try again, with `Retry-After`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not methods or request.method in methods:
                for throttle_class in throttles:
                    throttle = throttle_class()
                    if not throttle.allow_request(request, None):
                        return too_many_requests_page(request, throttle.retry_after())
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


throttle_public_page = throttle_page(PublicRateThrottle)
throttle_public_page.__doc__ = "The public rate limit for an open-data page (the API's `PublicRateThrottle`)."
