"""RAS scheme files: parsing and validation with line numbers (`ras_io`), the scheme services
(import, export, publish, retire) and the `import_ras` / `export_ras` commands (PRODUCT.md §2)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from accounts.models import AuditAction, AuditEvent
from budgets import ras, ras_io
from budgets.exceptions import NotAllowed, SchemeInvalid, SchemeNotEditable
from budgets.models import (
    Outcome,
    RasAnswer,
    RasBand,
    RasModifier,
    RasQuestion,
    RasScheme,
    SchemeStatus,
    UnableReason,
)
from budgets.ras import compile_scheme
from budgets.ras_io import SchemeFileErrors, parse_scheme_text
from budgets.services.schemes import scheme_export, scheme_import, scheme_publish, scheme_retire
from tests.factories import NON_ADMIN_FIXTURES

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "budgets" / "data" / "example_ras.yaml"
EXAMPLE_TEXT = EXAMPLE_FILE.read_text(encoding="utf-8")

# A small scheme whose line numbers the error tests name. Line by line:
#  1 name  2 version  3 effective_from  ...  9 band 1  10 band 2  12 modifier carer
# 14 question meals (18 answer ok, 19 answer help)  20 question wash (24 answer ok, 25 answer help)
TINY = """\
name: Tiny
version: 1
effective_from: 2027-04-01
currency: GBP
price_per_point: "10.00"
min_budget: "0.00"
max_budget: "1000.00"
bands:
  - {up_to_points: 10, price_per_point: "10.00"}
  - {up_to_points: null, price_per_point: "20.00"}
modifiers:
  - {code: carer, text: Carer helps, percent: -10}
questions:
  - code: meals
    domain: nutrition
    text: Meals
    answers:
      - {code: ok, text: Fine, points: 0, unable: false}
      - {code: help, text: Needs help, points: 5, unable: true, unable_reason: needs_assistance}
  - code: wash
    domain: personal_hygiene
    text: Washing
    answers:
      - {code: ok, text: Fine, points: 0}
      - {code: help, text: Needs help, points: 5, unable: true}
"""

MONEY = "must be an amount above zero with at most two decimal places."
CODE = "“code” must be lower-case letters, digits, - or _ (up to 60)."


def broken(old: str, new: str) -> str:
    assert old in TINY, old
    return TINY.replace(old, new, 1)


def errors_of(text: str) -> list[str]:
    with pytest.raises(SchemeFileErrors) as info:
        parse_scheme_text(text)
    return info.value.errors


def table_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (RasScheme, RasQuestion, RasAnswer, RasModifier, RasBand)}


def with_version(text: str, version: int) -> str:
    """The same file with another version number, YAML or JSON."""
    changed, n = re.subn(r'^(\s*"?version"?:\s*)\d+', rf"\g<1>{version}", text, count=1, flags=re.M)
    assert n == 1
    return changed


# --- Parsing valid files --------------------------------------------------------------------------


def test_the_example_file_parses():
    data = parse_scheme_text(EXAMPLE_TEXT)
    assert data["name"] == "Cairn example RAS"
    assert data["version"] == 1
    assert str(data["effective_from"]) == "2020-04-01"
    assert [b["up_to_points"] for b in data["bands"]] == [40, 100, None]
    assert [str(b["price_per_point"]) for b in data["bands"]] == ["250.00", "400.00", "520.00"]
    assert [m["code"] for m in data["modifiers"]] == ["unpaid_carer"]
    assert len(data["questions"]) == 12
    outcome_domains = [q["domain"] for q in data["questions"] if q["domain"] != Outcome.OTHER]
    assert sorted(outcome_domains) == sorted(o for o in Outcome.values if o != Outcome.OTHER)
    # No line markers leak into the clean data.
    assert ras_io.LINE not in json.dumps(ras_io.canonical(data))


def test_the_tiny_file_parses_with_defaults_filled_in():
    data = parse_scheme_text(TINY)
    wash = data["questions"][1]
    assert wash["help_text"] == ""
    assert wash["answers"][0] == {"code": "ok", "text": "Fine", "points": 0, "unable": False, "unable_reason": ""}
    assert data["description"] == ""


def test_json_input_parses_to_the_same_data_as_yaml():
    data = parse_scheme_text(EXAMPLE_TEXT)
    text = json.dumps(ras_io.canonical(data), indent=2)
    assert parse_scheme_text(text) == data


def test_json_errors_name_the_line_of_the_answer():
    exported = ras_io.canonical(parse_scheme_text(EXAMPLE_TEXT))
    exported["questions"][2]["answers"][1]["points"] = -1  # toilet / some_help
    text = json.dumps(exported, indent=2)
    lines = text.splitlines()
    points_at = next(i for i, line in enumerate(lines) if '"points": -1' in line)
    opens_at = max(i for i in range(points_at) if lines[i].strip() == "{") + 1  # 1-based
    assert errors_of(text) == [
        f"line {opens_at}, question toilet, answer some_help: “points” must be a whole number, 0 or more."
    ]


def test_json_syntax_errors_name_the_line():
    text = '{\n  "name": "Tiny",\n  "version": 1\n  "questions": []\n}\n'
    (error,) = errors_of(text)
    assert error.startswith("line 4: the file is not valid YAML or JSON")


# --- Broken files: each problem names its line and what it is about ------------------------------

OUTCOMES = ", ".join(Outcome.values)
REASONS = ", ".join(UnableReason.values)

BROKEN = {
    "duplicate question code": (("code: wash", "code: meals"), ["line 20, question meals: this code is used twice."]),
    "unknown domain": (
        ("domain: nutrition", "domain: cooking"),
        [f"line 14, question meals: “domain” must be one of: {OUTCOMES}."],
    ),
    "bad question code": (("code: meals", "code: Meals!"), [f"line 14, question Meals!: {CODE}"]),
    "missing question text": (
        ("    text: Meals\n", ""),
        ["line 14, question meals: “text” is required: up to 500 characters."],
    ),
    "negative points": (
        ("points: 5, unable: true, unable_reason", "points: -5, unable: true, unable_reason"),
        ["line 19, question meals, answer help: “points” must be a whole number, 0 or more."],
    ),
    "non-integer points": (
        ("points: 5, unable: true}", "points: 2.5, unable: true}"),
        ["line 25, question wash, answer help: “points” must be a whole number, 0 or more."],
    ),
    "points as text": (
        ("points: 5, unable: true}", "points: '5', unable: true}"),
        ["line 25, question wash, answer help: “points” must be a whole number, 0 or more."],
    ),
    "unable_reason without unable": (
        ("{code: ok, text: Fine, points: 0}", "{code: ok, text: Fine, points: 0, unable_reason: pain_distress}"),
        ["line 24, question wash, answer ok: “unable_reason” is only for answers with unable: true."],
    ),
    "unknown unable_reason": (
        ("unable_reason: needs_assistance", "unable_reason: lazy"),
        [f"line 19, question meals, answer help: “unable_reason” must be one of: {REASONS}."],
    ),
    "unable not a boolean": (
        ("points: 5, unable: true}", "points: 5, unable: sometimes}"),
        ["line 25, question wash, answer help: “unable” must be true or false."],
    ),
    "duplicate answer code": (
        ("{code: help, text: Needs help, points: 5, unable: true}", "{code: ok, text: Needs help, points: 5}"),
        ["line 25, question wash, answer ok: this code is used twice in the question."],
    ),
    "unknown answer field": (
        ("points: 0, unable: false}", "points: 0, unable: false, score: 3}"),
        ["line 18, question meals, answer ok: unknown field “score”."],
    ),
    "fewer than two answers": (
        ("      - {code: help, text: Needs help, points: 5, unable: true}\n", ""),
        ["line 20, question wash: “answers” must be a list of at least two answers."],
    ),
    "answers not a list": (
        (TINY[TINY.rindex("    answers:") :], "    answers: none\n"),
        ["line 20, question wash: “answers” must be a list of at least two answers."],
    ),
    "unknown question field": (
        ("    text: Meals\n", "    text: Meals\n    colour: red\n"),
        ["line 14, question meals: unknown field “colour”."],
    ),
    "band limits not increasing": (
        ('{up_to_points: null, price_per_point: "20.00"}', '{up_to_points: 10, price_per_point: "20.00"}'),
        ["line 10, band 2: “up_to_points” must be above the previous band's (10)."],
    ),
    "band limit zero": (
        ('{up_to_points: 10, price_per_point: "10.00"}', '{up_to_points: 0, price_per_point: "10.00"}'),
        ["line 9, band 1: “up_to_points” must be a whole number above zero, or null for no limit."],
    ),
    "open band not last": (
        ('{up_to_points: 10, price_per_point: "10.00"}', '{up_to_points: null, price_per_point: "10.00"}'),
        ["line 9, band 1: only the last band may have no upper limit."],
    ),
    "band price with three decimals": (
        ('price_per_point: "20.00"}', 'price_per_point: "20.001"}'),
        [f"line 10, band 2: “price_per_point” {MONEY}"],
    ),
    "unknown band field": (
        ('{up_to_points: 10, price_per_point: "10.00"}', '{up_to_points: 10, price_per_point: "10.00", to: 3}'),
        ["line 9, band 1: unknown field “to”."],
    ),
    "duplicate modifier code": (
        ("  - {code: carer, text: Carer helps, percent: -10}\n", "  - {code: carer, text: A, percent: -10}\n" * 2),
        ["line 13, modifier carer: this code is used twice."],
    ),
    "modifier percent out of range": (
        ("percent: -10}", "percent: -150}"),
        ["line 12, modifier carer: “percent” must be a number from -100 to 100, e.g. -10 to reduce points by 10%."],
    ),
    "missing name": (("name: Tiny\n", ""), ["line 1: “name” is required: text of up to 200 characters."]),
    "blank name": (("name: Tiny", 'name: "  "'), ["line 1: “name” is required: text of up to 200 characters."]),
    "version zero": (("version: 1", "version: 0"), ["line 1: “version” must be a whole number from 1 to 1,000,000."]),
    "effective_from not a date": (
        ("effective_from: 2027-04-01", "effective_from: next april"),
        ["line 1: “effective_from” must be a date like 2027-04-01."],
    ),
    "unknown currency": (("currency: GBP", "currency: EUR"), ["line 1: “currency” must be one of GBP."]),
    "price with three decimals": (
        ('price_per_point: "10.00"', 'price_per_point: "3.335"'),
        [f"line 1: “price_per_point” {MONEY}"],
    ),
    "price zero": (('price_per_point: "10.00"', 'price_per_point: "0.00"'), [f"line 1: “price_per_point” {MONEY}"]),
    "negative minimum": (
        ('min_budget: "0.00"', 'min_budget: "-1.00"'),
        ["line 1: “min_budget” must be an amount of zero or more with at most two decimal places."],
    ),
    "max below min": (
        ('min_budget: "0.00"', 'min_budget: "2000.00"'),
        ["line 1: “max_budget” must not be less than “min_budget”."],
    ),
    "unknown top-level field": (
        ("currency: GBP\n", "currency: GBP\ncolour: red\n"),
        ["line 1: unknown field “colour”."],
    ),
    "no questions": (
        (TINY[TINY.index("questions:") :], "questions: []\n"),
        ["line 1: “questions” must be a list with at least one question."],
    ),
    "invalid YAML": (
        ("    domain: nutrition", "   domain: nutrition"),
        ["line 15: the file is not valid YAML or JSON (expected <block end>, but found '<block mapping start>')."],
    ),
    "tab character": (
        ("    text: Washing", "\ttext: Washing"),
        ["line 22: the file is not valid YAML or JSON (found character '\\t' that cannot start any token)."],
    ),
}


@pytest.mark.parametrize(("change", "expected"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_file_is_refused_with_the_line_and_code_named(change, expected):
    assert errors_of(broken(*change)) == expected


def test_every_problem_in_a_file_is_listed_in_order():
    text = TINY.replace("version: 1", "version: one").replace("domain: nutrition", "domain: cooking")
    text = text.replace("points: 5, unable: true}", "points: -1, unable: true}")
    assert errors_of(text) == [
        "line 1: “version” must be a whole number from 1 to 1,000,000.",
        f"line 14, question meals: “domain” must be one of: {OUTCOMES}.",
        "line 25, question wash, answer help: “points” must be a whole number, 0 or more.",
    ]


def test_a_file_that_is_not_a_mapping_is_refused():
    assert errors_of("- one\n- two\n") == ["The file must hold one scheme: a mapping with name, version, questions…"]


def test_an_empty_file_is_refused():
    assert errors_of("") == ["The file must hold one scheme: a mapping with name, version, questions…"]


def test_an_impossible_calendar_date_is_a_file_error_not_a_crash():
    # YAML turns 2027-02-30 into a date itself and raises ValueError, not a YAML error.
    assert errors_of(broken("effective_from: 2027-04-01", "effective_from: 2027-02-30")) == [
        "line 1: “effective_from” must be a date like 2027-04-01."
    ]


def test_a_code_with_a_trailing_newline_is_refused():
    (error,) = errors_of(broken("code: meals", 'code: "meals\\n"'))
    assert error.startswith("line 14, question meals")
    assert error.endswith(CODE)


def test_question_text_longer_than_the_database_allows_is_a_file_error():
    (error,) = errors_of(broken("text: Meals", "text: " + "M" * 501))
    assert error.startswith("line 14, question meals:")


# --- canonical() and the content digest ------------------------------------------------------------


def test_canonical_is_the_export_shape():
    data = ras_io.canonical(parse_scheme_text(TINY))
    assert data["price_per_point"] == "10.00"
    assert data["modifiers"] == [{"code": "carer", "text": "Carer helps", "percent": "-10.00"}]
    assert data["bands"] == [
        {"up_to_points": 10, "price_per_point": "10.00"},
        {"up_to_points": None, "price_per_point": "20.00"},
    ]
    assert "help_text" not in data["questions"][0]
    assert "unable_reason" not in data["questions"][1]["answers"][1]


def test_the_digest_ignores_name_version_and_dates_but_not_prices():
    base = ras_io.canonical(parse_scheme_text(TINY))
    renamed = {**base, "name": "Other", "version": 7, "effective_from": "2030-01-01", "description": "x"}
    repriced = {**base, "price_per_point": "10.01"}
    assert ras.content_digest(renamed) == ras.content_digest(base)
    assert ras.content_digest(repriced) != ras.content_digest(base)
    assert re.fullmatch(r"[0-9a-f]{64}", ras.content_digest(base))


# --- scheme_import ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invalid_file_writes_nothing_and_lists_every_problem():
    before = table_counts()
    events = AuditEvent.objects.count()
    text = broken("code: wash", "code: meals").replace("points: 5, unable: true}", "points: -1, unable: true}")
    with pytest.raises(SchemeInvalid) as info:
        scheme_import(actor=None, text=text)
    assert info.value.errors == {
        "file": [
            "line 20, question meals: this code is used twice.",
            "line 25, question meals, answer help: “points” must be a whole number, 0 or more.",
        ]
    }
    assert table_counts() == before
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_existing_name_and_version_is_refused(scheme):
    before = table_counts()
    with pytest.raises(SchemeInvalid) as info:
        scheme_import(actor=None, text=EXAMPLE_TEXT)
    assert info.value.field == "version"
    assert "Cairn example RAS version 1 already exists" in info.value.message
    assert table_counts() == before


@pytest.mark.django_db
def test_the_same_name_with_a_new_version_is_accepted(scheme):
    new = scheme_import(actor=None, text=with_version(EXAMPLE_TEXT, 2))
    assert (new.name, new.version) == (scheme.name, 2)


@pytest.mark.django_db
def test_a_valid_file_creates_a_draft_with_every_row(admin_person):
    before = table_counts()
    scheme = scheme_import(actor=admin_person, text=TINY)
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.DRAFT
    assert scheme.content_digest == ""
    assert scheme.published_at is None
    assert scheme.created_by == admin_person
    assert scheme.is_example is False
    assert str(scheme.price_per_point.amount) == "10.00"
    assert (str(scheme.min_budget.amount), str(scheme.max_budget.amount)) == ("0.00", "1000.00")
    after = table_counts()
    assert {k: after[k] - before[k] for k in after} == {
        "RasScheme": 1,
        "RasQuestion": 2,
        "RasAnswer": 4,
        "RasModifier": 1,
        "RasBand": 2,
    }
    assert list(scheme.questions.values_list("code", "domain", "position")) == [
        ("meals", "nutrition", 0),
        ("wash", "personal_hygiene", 1),
    ]
    help_answer = RasAnswer.objects.get(question__scheme=scheme, question__code="meals", code="help")
    assert (help_answer.points, help_answer.unable, help_answer.unable_reason) == (5, True, "needs_assistance")
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_id=str(scheme.pk), actor=admin_person).exists()


@pytest.mark.django_db
def test_import_with_publish_publishes_with_the_canonical_digest(admin_person):
    scheme = scheme_import(actor=admin_person, text=TINY, publish=True)
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.PUBLISHED
    assert scheme.published_at is not None
    expected = ras.content_digest(ras_io.canonical(parse_scheme_text(TINY)))
    assert scheme.content_digest == expected
    assert scheme.content_digest == ras.content_digest(scheme_export(scheme=scheme))
    assert compile_scheme(scheme).digest == expected


@pytest.mark.django_db
def test_the_shipped_example_digest_matches_its_file_and_its_export(scheme):
    assert scheme.status == SchemeStatus.PUBLISHED
    assert scheme.is_example is True
    assert scheme.content_digest == ras.content_digest(ras_io.canonical(parse_scheme_text(EXAMPLE_TEXT)))
    assert scheme.content_digest == ras.content_digest(scheme_export(scheme=scheme))


@pytest.mark.django_db
def test_the_example_export_is_the_example_file(scheme):
    exported = scheme_export(scheme=scheme)
    assert exported == ras_io.canonical(parse_scheme_text(EXAMPLE_TEXT))


def pricing_content(compiled):
    return (
        compiled.currency,
        compiled.price_per_point,
        compiled.min_budget,
        compiled.max_budget,
        compiled.bands,
        compiled.modifiers,
        compiled.questions,
        list(compiled.questions),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_reimport_as_a_new_version_round_trips(scheme, admin_person, fmt):
    data = scheme_export(scheme=scheme)
    data["version"] = 2
    text = json.dumps(data, indent=2) if fmt == "json" else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    copy = scheme_import(actor=admin_person, text=text, publish=True)
    original, again = compile_scheme(scheme), compile_scheme(copy)
    assert pricing_content(again) == pricing_content(original)
    assert [list(q.answers) for q in again.questions.values()] == [list(q.answers) for q in original.questions.values()]
    assert copy.description == scheme.description
    assert copy.effective_from == scheme.effective_from
    assert copy.content_digest == scheme.content_digest
    assert scheme_export(scheme=copy) == {**scheme_export(scheme=scheme), "version": 2}


# --- publish and retire ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_a_draft_freezes_it(admin_person):
    draft = scheme_import(actor=None, text=TINY)
    published = scheme_publish(actor=admin_person, scheme=draft)
    published.refresh_from_db()
    assert published.status == SchemeStatus.PUBLISHED
    assert published.content_digest == ras.content_digest(scheme_export(scheme=published))
    assert AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, target_id=str(draft.pk), changes={"status": "published"}
    ).exists()


@pytest.mark.django_db
def test_publishing_a_published_scheme_is_refused(scheme, admin_person):
    published_at, digest = scheme.published_at, scheme.content_digest
    with pytest.raises(SchemeNotEditable):
        scheme_publish(actor=admin_person, scheme=scheme)
    scheme.refresh_from_db()
    assert (scheme.status, scheme.published_at, scheme.content_digest) == (SchemeStatus.PUBLISHED, published_at, digest)


@pytest.mark.django_db
def test_publishing_a_retired_scheme_is_refused(admin_person):
    scheme = scheme_retire(actor=None, scheme=scheme_import(actor=None, text=TINY, publish=True))
    with pytest.raises(SchemeNotEditable):
        scheme_publish(actor=admin_person, scheme=scheme)
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.RETIRED


@pytest.mark.django_db
def test_publishing_a_draft_without_questions_is_refused(admin_person):
    draft = RasScheme.objects.create(
        name="Empty", version=1, effective_from="2027-04-01", price_per_point=1, min_budget=0, max_budget=10
    )
    with pytest.raises(SchemeInvalid):
        scheme_publish(actor=admin_person, scheme=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.content_digest) == (SchemeStatus.DRAFT, "")


@pytest.mark.django_db
def test_retiring_a_published_scheme(admin_person):
    scheme = scheme_import(actor=None, text=TINY, publish=True)
    retired = scheme_retire(actor=admin_person, scheme=scheme)
    retired.refresh_from_db()
    assert retired.status == SchemeStatus.RETIRED
    assert retired.content_digest == scheme.content_digest


@pytest.mark.django_db
def test_retiring_a_draft_is_refused(admin_person):
    draft = scheme_import(actor=None, text=TINY)
    with pytest.raises(SchemeNotEditable):
        scheme_retire(actor=admin_person, scheme=draft)
    draft.refresh_from_db()
    assert draft.status == SchemeStatus.DRAFT


@pytest.mark.django_db
def test_retiring_a_retired_scheme_is_refused(admin_person):
    scheme = scheme_retire(actor=None, scheme=scheme_import(actor=None, text=TINY, publish=True))
    with pytest.raises(SchemeNotEditable):
        scheme_retire(actor=admin_person, scheme=scheme)


# --- Who may manage schemes ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", NON_ADMIN_FIXTURES.values())
def test_non_admin_cannot_import_a_scheme(request, fixture):
    user = request.getfixturevalue(fixture)
    before = table_counts()
    with pytest.raises(NotAllowed):
        scheme_import(actor=user, text=TINY)
    with pytest.raises(NotAllowed):
        scheme_import(actor=user, text=TINY, publish=True)
    assert table_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", NON_ADMIN_FIXTURES.values())
def test_non_admin_cannot_publish_or_retire_a_scheme(request, fixture):
    user = request.getfixturevalue(fixture)
    draft = scheme_import(actor=None, text=TINY)
    with pytest.raises(NotAllowed):
        scheme_publish(actor=user, scheme=draft)
    draft.refresh_from_db()
    assert draft.status == SchemeStatus.DRAFT
    published = scheme_publish(actor=None, scheme=draft)
    with pytest.raises(NotAllowed):
        scheme_retire(actor=user, scheme=published)
    published.refresh_from_db()
    assert published.status == SchemeStatus.PUBLISHED


@pytest.mark.django_db
def test_admin_can_import_publish_and_retire(admin_person):
    scheme = scheme_import(actor=admin_person, text=TINY)
    scheme = scheme_publish(actor=admin_person, scheme=scheme)
    scheme = scheme_retire(actor=admin_person, scheme=scheme)
    assert scheme.status == SchemeStatus.RETIRED


@pytest.mark.django_db
def test_the_command_line_actor_none_may_import_and_publish():
    scheme = scheme_import(actor=None, text=TINY, publish=True)
    assert scheme.status == SchemeStatus.PUBLISHED
    assert scheme.created_by is None
    event = AuditEvent.objects.get(action=AuditAction.CREATE, target_id=str(scheme.pk))
    assert event.actor is None


# --- Management commands ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_ras_with_a_broken_file_lists_the_lines_and_writes_nothing(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        broken("code: wash", "code: meals").replace("points: 5, unable: true}", "points: 2.5, unable: true}"),
        encoding="utf-8",
    )
    before = table_counts()
    with pytest.raises(CommandError) as info:
        call_command("import_ras", str(path))
    message = str(info.value)
    assert message.startswith(f"{path} was not imported; nothing was written:")
    assert "\n  line 20, question meals: this code is used twice." in message
    assert "\n  line 25, question meals, answer help: “points” must be a whole number, 0 or more." in message
    assert table_counts() == before


@pytest.mark.django_db
def test_import_ras_of_an_existing_version_says_so(tmp_path, scheme):
    path = tmp_path / "example.yaml"
    path.write_text(EXAMPLE_TEXT, encoding="utf-8")
    before = table_counts()
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_ras", str(path))
    assert table_counts() == before


@pytest.mark.django_db
def test_import_ras_with_an_impossible_date_is_refused_not_a_crash(tmp_path):
    path = tmp_path / "feb30.yaml"
    path.write_text(broken("effective_from: 2027-04-01", "effective_from: 2027-02-30"), encoding="utf-8")
    before = table_counts()
    with pytest.raises(CommandError, match="line 1: “effective_from” must be a date"):
        call_command("import_ras", str(path))
    assert table_counts() == before


@pytest.mark.django_db
def test_import_of_text_longer_than_its_column_is_refused_and_writes_nothing():
    before = table_counts()
    with pytest.raises(SchemeInvalid):
        scheme_import(actor=None, text=broken("text: Meals", "text: " + "M" * 501))
    assert table_counts() == before


@pytest.mark.django_db
def test_import_ras_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_ras", str(tmp_path / "nope.yaml"))


@pytest.mark.django_db
def test_import_ras_creates_a_draft(tmp_path, capsys):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    call_command("import_ras", str(path))
    scheme = RasScheme.objects.get(name="Tiny", version=1)
    assert scheme.status == SchemeStatus.DRAFT
    assert "Imported Tiny v1 (Draft) with 2 questions." in capsys.readouterr().out


@pytest.mark.django_db
def test_import_ras_publish_publishes(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    call_command("import_ras", str(path), "--publish")
    scheme = RasScheme.objects.get(name="Tiny", version=1)
    assert scheme.status == SchemeStatus.PUBLISHED
    assert scheme.content_digest == ras.content_digest(ras_io.canonical(parse_scheme_text(TINY)))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_ras_writes_a_file_that_reimports(tmp_path, scheme, fmt):
    path = tmp_path / f"scheme.{fmt}"
    call_command("export_ras", "--format", fmt, "--output", str(path))
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["name"] == scheme.name
    assert parse_scheme_text(text) == parse_scheme_text(EXAMPLE_TEXT)

    path.write_text(with_version(text, 2), encoding="utf-8")
    call_command("import_ras", str(path), "--publish")
    copy = RasScheme.objects.get(name=scheme.name, version=2)
    assert copy.status == SchemeStatus.PUBLISHED
    assert copy.content_digest == scheme.content_digest
    assert pricing_content(compile_scheme(copy)) == pricing_content(compile_scheme(scheme))


@pytest.mark.django_db
def test_export_ras_by_name_and_version_to_standard_output(capsys):
    draft = scheme_import(actor=None, text=TINY)
    call_command("export_ras", "--name", "Tiny", "--scheme-version", "1", "--format", "json")
    out = capsys.readouterr().out
    assert json.loads(out) == scheme_export(scheme=draft)
    assert parse_scheme_text(out) == parse_scheme_text(TINY)


@pytest.mark.django_db
def test_export_ras_of_an_unknown_scheme_says_so():
    with pytest.raises(CommandError, match=r"No scheme with that name and version\."):
        call_command("export_ras", "--name", "Nope", "--scheme-version", "3")


def test_a_key_given_twice_is_refused_with_its_line():
    text = EXAMPLE_TEXT.replace("name: Cairn example RAS\n", "name: Cairn example RAS\nname: Again\n", 1)
    with pytest.raises(SchemeFileErrors) as caught:
        parse_scheme_text(text)
    assert any("“name” is given twice" in e and e.startswith("line ") for e in caught.value.errors)


def test_a_version_beyond_the_column_is_refused():
    text = EXAMPLE_TEXT.replace("version: 1\n", "version: 99999999999\n", 1)
    with pytest.raises(SchemeFileErrors) as caught:
        parse_scheme_text(text)
    assert "“version” must be a whole number from 1 to 1,000,000." in caught.value.errors[0]
