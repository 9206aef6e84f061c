"""Sign-in and password reset are limited per address, a successful API sign-in clears the lock-out
count, and X-Forwarded-For is believed only from the configured proxies (docs/security.md,
"Throttles and lock-out", "Proxies and the trust boundary")."""

import pytest
from django.core import mail

from accounts.services import client_ip
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def api_sign_in(api, username, password, **extra):
    return api.post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


def test_a_successful_api_sign_in_clears_the_failure_count(api, client_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api_sign_in(api, client_user.username, "wrong").status_code == 400
    assert api_sign_in(api, client_user.username, PASSWORD).status_code == 200
    # Had the count stayed, one more failure would lock the account out.
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api_sign_in(api, client_user.username, "wrong").status_code == 400
    assert api_sign_in(api, client_user.username, PASSWORD).status_code == 200


def test_password_spraying_from_one_address_is_stopped_by_the_api(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "sign_in_failures": "8/hour"},
    }
    people = [factories.UserFactory() for _ in range(4)]
    statuses = [api_sign_in(api, person.username, guess).status_code for guess in ("a1", "b2") for person in people]
    assert statuses == [400] * 8
    refused = api_sign_in(api, people[0].username, PASSWORD)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # Another address is not affected.
    assert api_sign_in(api, people[0].username, PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 200


def test_password_spraying_from_one_address_is_stopped_on_the_page(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "sign_in_failures": "6/hour"},
    }
    people = [factories.UserFactory() for _ in range(3)]
    for guess in ("a1", "b2"):
        for person in people:
            assert client.post("/sign-in/", {"username": person.username, "password": guess}).status_code == 200
    refused = client.post("/sign-in/", {"username": people[0].username, "password": PASSWORD})
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_sign_in_attempts_are_limited_per_address_on_the_page_and_the_api(api, client, client_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "sign_in": "3/minute"},
    }
    for _ in range(3):
        assert api_sign_in(api, client_user.username, PASSWORD).status_code == 200
    assert api_sign_in(api, client_user.username, PASSWORD).status_code == 429
    # The page shares the address's count.
    assert client.post("/sign-in/", {"username": client_user.username, "password": PASSWORD}).status_code == 429
    # Reading the sign-in page is not an attempt.
    assert client.get("/sign-in/").status_code == 200


def test_reset_emails_to_one_address_are_limited_and_the_page_says_nothing_different(client, client_user, settings):
    for _ in range(6):
        response = client.post("/password/reset/", {"email": client_user.email}, REMOTE_ADDR=f"192.0.2.{_ + 1}")
        assert response.status_code == 302 and response.headers["Location"] == "/password/reset/sent/"
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["password_reset_email"].split("/")[0])
    assert len(mail.outbox) == rate


def test_reset_requests_from_one_address_are_limited(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset": "2/hour"},
    }
    for n in range(2):
        assert client.post("/password/reset/", {"email": f"person{n}@example.org"}).status_code == 302
    refused = client.post("/password/reset/", {"email": "person9@example.org"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers


# --- the proxy trust boundary ------------------------------------------------------------------


def test_forwarded_for_from_a_client_reaching_the_app_directly_is_ignored(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/8"]
    direct = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="203.0.113.66")
    assert client_ip(direct) == "203.0.113.66"
    through_proxy = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="10.0.0.2")
    assert client_ip(through_proxy) == "198.51.100.7"


def test_a_forwarded_value_that_is_not_an_address_is_not_believed(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.2"]
    request = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"


def test_a_direct_client_cannot_dodge_the_lock_out_by_changing_forwarded_for(api, client_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.0/8"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        api_sign_in(
            api, client_user.username, "wrong", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
    locked = api_sign_in(
        api, client_user.username, PASSWORD, REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="198.51.100.99"
    )
    assert locked.status_code == 429


def test_public_rate_limits_cannot_be_dodged_with_forwarded_for(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "sign_in": "2/minute"},
    }
    statuses = [api_sign_in(api, "nobody", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(3)]
    assert statuses == [400, 400, 429]


def test_the_admin_has_no_sign_in_form_of_its_own(client, settings):
    # A form there would be a second way in without the per-address limits.
    response = client.post("/admin/login/", {"username": "someone", "password": "guess"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in/?next=")
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/sign-in/")


def test_a_signed_in_person_who_may_not_use_the_admin_is_refused_not_looped(web_as, client_user):
    assert web_as(client_user).get("/admin/login/?next=/admin/").status_code == 403
