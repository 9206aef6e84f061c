"""Hostile RAS scheme files: every one is refused with a clear message naming where the file goes
wrong, never a traceback, and nothing is written (docs/ras-format.md, docs/security.md "PDFs and
imports"). Each case was stored or crashed before the importer bounded it."""

import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from budgets.exceptions import SchemeInvalid
from budgets.models import RasScheme
from budgets.ras_io import SchemeFileErrors, parse_scheme_text
from budgets.services.schemes import scheme_import

pytestmark = pytest.mark.django_db

GOOD = """\
name: Hostile
version: 7
effective_from: 2027-04-01
price_per_point: "10.00"
min_budget: "0.00"
max_budget: "1000.00"
questions:
  - code: meals
    domain: nutrition
    text: Meals
    answers:
      - {code: ok, text: Fine, points: 0}
      - {code: help, text: Needs help, points: 5, unable: true}
"""


def refused(text) -> str:
    """The problems `parse_scheme_text` lists for `text`, joined (it must raise SchemeFileErrors)."""
    with pytest.raises(SchemeFileErrors) as caught:
        parse_scheme_text(text)
    return "\n".join(caught.value.errors)


def test_the_good_file_parses():
    assert parse_scheme_text(GOOD)["name"] == "Hostile"


def billion_laughs(levels: int = 8) -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return GOOD + "\n".join(lines) + "\n"


def test_a_billion_laughs_file_is_refused_without_being_expanded():
    tracemalloc.start()
    try:
        message = refused(billion_laughs())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "anchors and aliases" in message
    assert "line 14" in message  # the first anchor
    assert peak < 5_000_000


def test_an_alias_anywhere_is_refused_with_its_line():
    text = GOOD.replace("    text: Meals\n", "    text: &t Meals\n") + "description: *t\n"
    assert "line 10" in refused(text) and "anchors and aliases" in refused(text)


def test_a_merge_key_with_an_alias_is_refused():
    text = GOOD + "x: &base {code: a}\n"
    assert "anchors and aliases" in refused(text)


@pytest.mark.parametrize("depth", [50, 1_000, 100_000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth):
    message = refused(GOOD + "description: " + "[" * depth + "]" * depth + "\n")
    assert "nests more than" in message and "line 14" in message


def test_deep_nesting_of_mappings_is_refused():
    assert "nests more than" in refused("{a: " * 2_000 + "1" + "}" * 2_000)


@pytest.mark.parametrize(
    "value",
    ["1e999999", '"1e999999"', ".inf", '"Infinity"', '"NaN"', ".nan", "-.inf", '"1E+40"', "1000000000000"],
)
def test_a_non_finite_or_huge_price_is_refused(value):
    text = GOOD.replace('price_per_point: "10.00"', f"price_per_point: {value}")
    message = refused(text)
    assert "line 1" in message and "price_per_point" in message


def test_a_5000_digit_integer_is_refused_with_its_line():
    text = GOOD.replace("points: 5,", f"points: {'9' * 5_000},")
    message = refused(text)
    assert "line 13" in message and "number longer than" in message


@pytest.mark.parametrize("value", ["99999999999999999999", "10001", "-1", "true", "[1]", '"5"'])
def test_points_out_of_range_or_of_the_wrong_type_are_refused(value):
    message = refused(GOOD.replace("points: 5,", f"points: {value},"))
    assert "line 13" in message and "“points” must be" in message


@pytest.mark.parametrize("value", ["99999999999", "0"])
def test_a_version_out_of_range_is_refused(value):
    assert "“version” must be a whole number" in refused(GOOD.replace("version: 7", f"version: {value}"))


@pytest.mark.parametrize(
    "field, value",
    [
        ("description", "[1, 2, 3]"),
        ("description", "{a: b}"),
        ("description", "12"),
        ("description", '"' + "x" * 5_001 + '"'),
        ("description", '"a\\0b"'),
        ("currency", "[GBP]"),
        ("currency", "{GBP: 1}"),
        ("name", "[a]"),
        ("name", '"bidi \\u202e reversed"'),
    ],
)
def test_wrong_types_and_sizes_are_refused_not_stored_as_python_reprs(field, value):
    text = GOOD + f"{field}: {value}\n" if field not in GOOD else GOOD.replace("name: Hostile", f"name: {value}")
    message = refused(text)
    assert f"“{field}”" in message and "line 1" in message


def test_wrong_types_inside_questions_are_refused():
    text = GOOD.replace("domain: nutrition", "domain: [nutrition]").replace(
        "unable: true}", "unable: true, unable_reason: [x]}"
    )
    message = refused(text)
    assert "“domain” must be one of" in message and "“unable_reason” must be one of" in message


def test_unknown_keys_of_mixed_types_are_listed_not_a_crash():
    message = refused(GOOD + "1: x\nnull: y\nzz: z\n")
    assert "unknown field “1”" in message and "unknown field “zz”" in message


def test_a_list_as_a_key_is_refused_not_a_crash():
    assert "a key must be a plain word" in refused(GOOD + "? [a, b]\n: 1\n")


def test_too_many_questions_are_refused():
    question = GOOD.split("questions:\n")[1]
    text = GOOD + "".join(question.replace("code: meals", f"code: q{i}") for i in range(201))
    assert "at most 200 questions" in refused(text)


def test_a_file_over_the_size_limit_is_refused():
    assert "too large" in refused(GOOD + "# " + "x" * 1_000_001 + "\n")


@pytest.mark.parametrize(
    "content, line",
    [
        (GOOD.encode().replace(b"Needs help", b"Needs \xff help"), 13),
        (GOOD.encode("utf-16"), 1),
        (GOOD.encode().replace(b"Meals", b"Repas \xe9t\xe9"), 10),
    ],
)
def test_bytes_that_are_not_utf8_name_their_line(content, line):
    message = refused(content)
    assert f"line {line} " in message and "not UTF-8" in message


def test_utf8_bytes_with_a_byte_order_mark_are_read():
    assert parse_scheme_text("\ufeff".encode() + GOOD.encode())["name"] == "Hostile"


def test_the_service_writes_nothing_for_a_hostile_file(admin_person):
    before = RasScheme.objects.count()
    with pytest.raises(SchemeInvalid) as caught:
        scheme_import(actor=admin_person, text=billion_laughs())
    assert "anchors and aliases" in str(caught.value.errors)
    assert RasScheme.objects.count() == before


@pytest.mark.parametrize(
    "content, expected",
    [
        (GOOD.encode().replace(b"Meals", b"Repas \xe9t\xe9"), "line 10 (byte"),
        (billion_laughs().encode(), "anchors and aliases"),
        (GOOD.replace("points: 5,", f"points: {'9' * 5_000},").encode(), "line 13"),
        ((GOOD + "description: " + "[" * 5_000 + "]" * 5_000 + "\n").encode(), "nests more than"),
        (GOOD.replace('price_per_point: "10.00"', "price_per_point: 1e999999").encode(), "price_per_point"),
    ],
)
def test_the_command_reports_each_hostile_file_clearly_and_writes_nothing(tmp_path: Path, content, expected):
    before = RasScheme.objects.count()
    path = tmp_path / "scheme.yaml"
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        call_command("import_ras", str(path))
    assert "nothing was written" in str(caught.value) and expected in str(caught.value)
    assert RasScheme.objects.count() == before


def test_the_command_still_imports_a_good_file(tmp_path: Path):
    path = tmp_path / "scheme.yaml"
    path.write_bytes(GOOD.encode())
    call_command("import_ras", str(path))
    assert RasScheme.objects.filter(name="Hostile", version=7).exists()
