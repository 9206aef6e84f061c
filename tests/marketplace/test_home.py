"""The role-aware home page lists only what the signed-in person can do, and each link works."""

import pytest

pytestmark = pytest.mark.django_db

EVERYONE = {"Your account", "Change your password", "Notifications", "How long approval takes", "Where the money goes"}
REVIEWER = {"Plans to review", "Statutory reviews"}
FUNDS = "Direct payments and funds"
EXPECTED = {
    "client_user": {"Find support", "My budget", "Invoices", *EVERYONE},
    "representative": {"Find support", "Budgets of the people you act for", "Invoices", *EVERYONE},
    "social_worker": {"Find support", "My caseload", "Invoices", FUNDS, *REVIEWER, *EVERYONE},
    "team_manager": {"Find support", "My team", "Invoices", FUNDS, *REVIEWER, *EVERYONE},
    "case_manager": {"Find support", "Providers", "Quality dashboard", *EVERYONE},
    "finance_user": {
        "Personal budgets",
        "Invoices",
        "Payment runs",
        FUNDS,
        "Contributions owed",
        "Reassess under a new charging policy",
        *EVERYONE,
    },
    "provider_user": {"Your organisation", "Invoices", "Get paid", FUNDS, *EVERYONE},
    "admin_person": {
        *EVERYONE,
        "Payment runs",
        FUNDS,
        "Contributions owed",
        "Reassess under a new charging policy",
        "Quality dashboard",
        "Administration",
        "Providers",
        "Personal budgets",
        "Resource Allocation System",
        "API documentation",
        "Your account",
        "Change your password",
    },
}
ALL_TITLES = set().union(*EXPECTED.values())


@pytest.mark.parametrize("role_fixture", sorted(EXPECTED))
def test_home_lists_exactly_what_the_role_can_do_and_every_link_opens(role_fixture, request, web_as):
    from marketplace.home import tasks_for

    user = request.getfixturevalue(role_fixture)
    web = web_as(user)
    response = web.get("/")
    assert response.status_code == 200
    # Only the main content: the footer links to the public API docs on every page.
    html = response.content.decode().split('id="main-content"')[1].split("</main>")[0]
    titles = {task.title for task in tasks_for(user)}
    assert titles == EXPECTED[role_fixture]
    for title in ALL_TITLES - titles:
        assert f">{title}</a>" not in html
    for task in tasks_for(user):
        assert f">{task.title}</a>" in html
        assert web.get(task.url).status_code == 200, task.url


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in/")


def test_pages_carry_security_headers_and_a_csp_nonce(web_as, client_user):
    response = web_as(client_user).get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "'nonce-" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_layout_has_skip_link_main_landmark_and_language(web_as, client_user):
    html = web_as(client_user).get("/").content.decode()
    assert 'href="#main-content"' in html and 'id="main-content"' in html
    assert '<html lang="en-GB"' in html
    assert "<h1" in html


def test_unknown_page_is_a_404_page_and_unknown_api_path_is_json(client, web_as, client_user):
    web = web_as(client_user)
    page = web.get("/no-such-page/")
    assert page.status_code == 404 and b"Page not found" in page.content
    api = web.get("/api/v1/no-such-endpoint/")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not found."}
