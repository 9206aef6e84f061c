"""GET /api/v1/ras/active/ (API.md, "RAS and assessments"): the scheme in force, with every
question and answer, readable by every role straight after `migrate` (the example scheme)."""

from pathlib import Path

import pytest
import yaml

from accounts.models import Role
from budgets.models import RasScheme, SchemeStatus
from tests.factories import ROLE_FIXTURES

pytestmark = pytest.mark.django_db

URL = "/api/v1/ras/active/"
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "budgets" / "data" / "example_ras.yaml"


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


@pytest.fixture
def example():
    """The example scheme file the data migration publishes."""
    return yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8"))


def test_example_scheme_is_published_and_active_after_migrate_alone(api_as, social_worker):
    response = api_as(social_worker).get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    scheme = RasScheme.objects.get(pk=body["id"])
    assert scheme.status == SchemeStatus.PUBLISHED
    assert scheme.is_example is True


def test_active_scheme_has_the_top_level_shape_of_api_md(api_as, social_worker, example):
    body = api_as(social_worker).get(URL).json()
    assert {"id", "version", "price_per_point", "min_budget", "max_budget", "questions"} <= set(body)
    assert isinstance(body["id"], int)
    assert body["version"] == example["version"] == 1
    assert body["price_per_point"] == gbp("250.00")
    assert body["min_budget"] == gbp("2000.00")
    assert body["max_budget"] == gbp("60000.00")


def test_money_amounts_are_decimal_strings_with_two_places(api_as, social_worker):
    body = api_as(social_worker).get(URL).json()
    for field in ("price_per_point", "min_budget", "max_budget"):
        assert set(body[field]) == {"amount", "currency"}
        assert isinstance(body[field]["amount"], str)
        assert len(body[field]["amount"].split(".")[1]) == 2


def test_every_question_has_code_domain_text_and_answers(api_as, social_worker):
    questions = api_as(social_worker).get(URL).json()["questions"]
    assert len(questions) == 12
    for question in questions:
        assert {"code", "domain", "text", "answers"} <= set(question)
        assert isinstance(question["code"], str) and question["code"]
        assert isinstance(question["text"], str) and question["text"]
        assert question["answers"], question["code"]
        for answer in question["answers"]:
            assert {"code", "text", "points", "unable"} <= set(answer)
            assert isinstance(answer["code"], str)
            assert isinstance(answer["text"], str)
            assert isinstance(answer["points"], int) and not isinstance(answer["points"], bool)
            assert isinstance(answer["unable"], bool)


def test_questions_and_answers_match_the_example_file_in_order(api_as, social_worker, example):
    questions = api_as(social_worker).get(URL).json()["questions"]
    got = [
        {
            "code": q["code"],
            "domain": q["domain"],
            "text": q["text"],
            "answers": [{k: a[k] for k in ("code", "text", "points", "unable")} for a in q["answers"]],
        }
        for q in questions
    ]
    expected = [
        {
            "code": q["code"],
            "domain": q["domain"],
            "text": q["text"],
            "answers": [{k: a[k] for k in ("code", "text", "points", "unable")} for a in q["answers"]],
        }
        for q in example["questions"]
    ]
    assert got == expected


def test_domains_are_the_ten_outcomes_or_other(api_as, social_worker):
    questions = api_as(social_worker).get(URL).json()["questions"]
    outcomes = {
        "nutrition", "personal_hygiene", "toilet_needs", "clothing", "home_safety", "habitable_home",
        "relationships", "work_education", "community", "caring_for_child",
    }  # fmt: skip
    domains = [q["domain"] for q in questions]
    assert set(domains) <= outcomes | {"other"}
    # The example scheme asks about each of the ten outcomes once, and two other things.
    assert {d for d in domains if d != "other"} == outcomes
    assert domains.count("other") == 2


def test_unable_marks_exactly_the_answers_meaning_the_outcome_cannot_be_achieved(api_as, social_worker):
    questions = {q["code"]: q for q in api_as(social_worker).get(URL).json()["questions"]}
    nutrition = {a["code"]: a["unable"] for a in questions["nutrition"]["answers"]}
    assert nutrition == {"independent": False, "some_help": True, "lots_of_help": True, "full_help": True}
    # Questions about no outcome have no `unable` answers.
    for code in ("night_support", "risk"):
        assert not any(a["unable"] for a in questions[code]["answers"])


@pytest.mark.parametrize("role", list(ROLE_FIXTURES))
def test_every_role_may_read_the_active_scheme(request, api_as, role):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    response = api_as(user).get(URL)
    assert response.status_code == 200, (role, response.content)
    assert response.json()["version"] == 1


def test_every_role_gets_the_same_scheme(request, api_as):
    bodies = [api_as(request.getfixturevalue(name)).get(URL).json() for name in ROLE_FIXTURES.values()]
    assert all(body == bodies[0] for body in bodies)


def test_a_signed_in_browser_session_may_read_the_active_scheme(web_as, client_user):
    response = web_as(client_user).get(URL, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_no_token_gets_401(api):
    response = api.get(URL)
    assert response.status_code == 401


def test_a_bad_token_gets_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get(URL).status_code == 401


def test_deactivated_user_token_gets_401(api_as, client_user):
    caller = api_as(client_user)
    client_user.is_active = False
    client_user.save()
    assert caller.get(URL).status_code == 401


def test_reading_the_scheme_changes_nothing(api_as, social_worker):
    before = list(RasScheme.objects.values_list("pk", "status", "version"))
    api_as(social_worker).get(URL)
    assert list(RasScheme.objects.values_list("pk", "status", "version")) == before


def test_role_list_covers_every_role():
    # Guards the parametrisation above: a new role must be added to ROLE_FIXTURES.
    assert set(ROLE_FIXTURES) == set(Role.values)
