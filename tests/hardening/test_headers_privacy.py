"""Personal pages, PDFs and API answers are never cached; every response carries a
Permissions-Policy and names no server (docs/security.md, "Headers")."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_a_personal_page_is_no_store(web_as, client_user):
    response = web_as(client_user).get("/account/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_an_api_answer_is_no_store(api_as, client_user):
    response = api_as(client_user).get("/api/v1/me/")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_token_answer_is_no_store(api, client_user):
    from tests.factories import PASSWORD

    response = api.post("/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_a_refusal_is_no_store_too(api):
    assert api.get("/api/v1/me/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/api/v1/stats/approval-times/", "/statistics/approval-times/"])
def test_open_data_for_someone_not_signed_in_may_be_cached(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_an_open_data_page_seen_while_signed_in_is_no_store(web_as, client_user):
    # The page's header names the person signed in; the public API answer does not change with
    # who asks (it authenticates no one), so only the page must not be kept.
    response = web_as(client_user).get("/statistics/approval-times/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_every_response_has_a_permissions_policy(client, api):
    for response in (client.get("/sign-in/"), api.get("/api/v1/me/")):
        policy = response.headers["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_app_server_does_not_announce_itself():
    port = _free_port()
    # The sign-in page reads no table, so the server needs no test database; gunicorn reads the
    # project's gunicorn.conf.py itself, as it does in production.
    env = {"DJANGO_SETTINGS_MODULE": "marketplace.settings.test", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [sys.executable, "-m", "gunicorn", "marketplace.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in/", timeout=5) as response:
                    headers = response.headers
            except urllib.error.HTTPError as error:
                headers = error.headers
            except OSError:
                time.sleep(0.2)
                continue
            break
        assert headers is not None, "gunicorn did not start"
        assert "Server" not in headers
        assert "Permissions-Policy" in headers
    finally:
        server.terminate()
        server.wait(timeout=10)
