"""The rate limit for public, no-login endpoints: the open statistics and other open data, as
JSON, CSV or a page. Anyone may read them, so the limit is per address rather than per account,
and it is the same limit for the API and the HTML pages so a scraper cannot move to the other to
get round it. The rate is `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["public"]`, set well above
what a person or a test ever asks for: it is there to keep one address from taking the service
away from everyone else, not to ration normal use."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class PublicRateThrottle(SimpleRateThrottle):
    """DRF throttle for public endpoints: a fixed number of requests per period per client address
    (the address DRF works out, honouring `NUM_PROXIES`), whether or not the caller is signed in.
    Over the limit DRF answers 429 with a `Retry-After` header.

    Unlike `AnonRateThrottle` it also counts signed-in callers: the public pages can be opened
    with a session, and the limit is on the address. The rate is read on each request, not when
    the class is imported, so a change of settings takes effect at once."""

    scope = "public"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The same limit, from the same counter, for a public HTML page (a Django view function, or
    `as_view()`): over it, a 429 page saying when to try again, with `Retry-After`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = PublicRateThrottle()
        if throttle.allow_request(request, None):
            return view(request, *args, **kwargs)
        wait = max(math.ceil(throttle.wait() or 1), 1)
        response = render(request, "429.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response

    return wrapped
