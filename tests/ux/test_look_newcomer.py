"""A newcomer's `make run`: emails link to where the server runs, no warning on every migrate, quiet
seeding, the product's own 404 page with DEBUG on, and demo data that lets every README journey be
tried at once (a client who can still rate a provider, a draft RAS version ready for a what-if)."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]


def _make_dry_run(*args: str, **env: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    ours = {"CAIRN_SITE_URL", "SITE_URL", "HOST", "PORT", "MAKEFLAGS"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    result = subprocess.run(  # noqa: S603 (fixed arguments: make's dry run of our own Makefile)
        ["make", "-n", "run", *args],  # noqa: S607
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if "manage.py runserver" in line)


def test_make_run_tells_emails_the_address_it_serves_on():
    line = _make_dry_run("HOST=0.0.0.0", "PORT=9123")
    assert "CAIRN_SITE_URL=http://0.0.0.0:9123 " in line
    assert line.endswith("runserver 0.0.0.0:9123")


def test_make_run_keeps_a_site_url_the_person_set():
    line = _make_dry_run(CAIRN_SITE_URL="https://cairn.example.gov.uk")
    assert "CAIRN_SITE_URL=https://cairn.example.gov.uk " in line


def test_the_readme_says_how_to_choose_host_and_port():
    readme = (REPO / "README.md").read_text()
    assert "make run HOST=" in readme and "PORT=" in readme


@pytest.mark.django_db
def test_checks_on_every_migrate_print_no_covering_index_warning():
    out, err = io.StringIO(), io.StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert "W040" not in out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_an_unknown_address_shows_the_product_page_even_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and "If you typed the web address" in body
    assert "DEBUG = True" not in body and "URLconf" not in body


@pytest.mark.django_db
def test_an_unknown_api_address_still_answers_json_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/")


@pytest.mark.django_db(transaction=True)
def test_seeding_is_quiet_and_leaves_a_review_to_write_and_a_draft_scheme(caplog, example_scheme):
    from accounts.models import User
    from budgets.models import RasScheme, SchemeStatus
    from careplans.models import CarePlan, PlanStatus
    from marketplace.models import Review

    out = io.StringIO()
    with caplog.at_level(logging.INFO):
        call_command("seed_demo", clients=4, stdout=out)
    chatter = [r for r in caplog.records if r.name.startswith("celery") and r.levelno < logging.WARNING]
    assert chatter == [], [r.getMessage() for r in chatter[:3]]
    assert len(out.getvalue().splitlines()) <= 3

    # George Mensah's plan is approved; he has rated one of its providers and can still rate another.
    george = User.objects.get(username="george.mensah")
    plan = CarePlan.objects.get(client=george, status=PlanStatus.APPROVED)
    used = {line.provider_id for line in plan.lines.all() if line.provider_id}
    rated = set(Review.objects.filter(author=george).values_list("provider_id", flat=True))
    assert rated and used - rated

    # A draft version of the scheme in force, ready for a what-if.
    draft = RasScheme.objects.get(status=SchemeStatus.DRAFT)
    assert draft.name == example_scheme.name and draft.version > example_scheme.version

    call_command("seed_demo", clients=4, stdout=io.StringIO())  # safe to re-run: still one draft
    assert RasScheme.objects.filter(status=SchemeStatus.DRAFT).count() == 1
