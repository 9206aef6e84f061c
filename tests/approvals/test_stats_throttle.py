"""The public statistics are rate-limited per address (accounts/throttles.py): past the `public`
rate an address gets 429 with Retry-After, on the API and on the pages alike, from one shared
count; another address is not affected. The configured rate is far above normal use."""

import pytest
from rest_framework.settings import api_settings

pytestmark = pytest.mark.django_db

PUBLIC = [
    "/api/v1/stats/approval-times/",
    "/api/v1/stats/spend/",
    "/api/v1/stats/contribution-reviews/",
    "/statistics/approval-times/",
    "/statistics/spend/",
]


@pytest.fixture
def three_a_minute(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"public": "3/minute"}}


def test_the_configured_rate_is_generous():
    count, period = api_settings.DEFAULT_THROTTLE_RATES["public"].split("/")
    assert int(count) >= 300 and period == "minute"


@pytest.mark.parametrize("url", PUBLIC)
def test_past_the_rate_an_address_gets_429_with_retry_after(client, three_a_minute, url):
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 200

    refused = client.get(url, REMOTE_ADDR="203.0.113.7")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client.get(url, REMOTE_ADDR="198.51.100.2").status_code == 200  # another address


def test_the_api_and_the_pages_share_one_count(client, three_a_minute):
    for url in PUBLIC[:3]:
        assert client.get(url, REMOTE_ADDR="203.0.113.9").status_code == 200

    page = client.get("/statistics/approval-times/", REMOTE_ADDR="203.0.113.9")

    assert page.status_code == 429
    assert page["Retry-After"]
    assert b"Too many requests" in page.content
    api = client.get("/api/v1/stats/spend/", REMOTE_ADDR="203.0.113.9")
    assert api.status_code == 429 and api.json()["detail"]


def test_signing_in_does_not_lift_the_page_limit(web_as, client_user, three_a_minute):
    browser = web_as(client_user)
    for _ in range(3):
        assert browser.get("/statistics/spend/", REMOTE_ADDR="203.0.113.11").status_code == 200
    assert browser.get("/statistics/spend/", REMOTE_ADDR="203.0.113.11").status_code == 429
