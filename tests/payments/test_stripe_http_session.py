"""The Stripe client's HTTP session reads the environment once (payments/gateways/stripe/client.py):
no per-request proxy or ~/.netrc look-ups, but a deployment's egress proxy, and NO_PROXY, still
apply to the API's host."""

from __future__ import annotations

from payments.gateways.stripe.client import http_session, make_client


def test_the_session_reads_the_proxy_for_the_api_host_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.council.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = http_session("https://api.stripe.com")
    assert session.trust_env is False
    assert session.proxies["https"] == "http://egress.council.example:3128"


def test_no_proxy_for_the_api_host_is_respected(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://egress.council.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.stripe.com")
    assert "https" not in http_session("https://api.stripe.com").proxies


def test_without_proxy_variables_the_session_goes_direct(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert http_session("http://127.0.0.1:12111").proxies == {}


def test_the_client_uses_one_such_session(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    client = make_client()
    session = client._requestor._client._session
    assert session is not None and session.trust_env is False
