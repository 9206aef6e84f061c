"""Words as people read them: plurals ('1 point', '3 hours'), money with thousands separators,
months in words on public pages, and the admin's 'provider rating summaries'."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from djmoney.money import Money

from accounts.templatetags.words import month_name, pounds, units
from budgets.ras import points


def test_money_always_has_thousands_separators():
    assert pounds(Decimal("5800")) == "£5,800.00"
    assert pounds("5800.5") == "£5,800.50"
    assert pounds(Money("12345.6", "GBP")) == "£12,345.60"
    assert pounds(Decimal("-1250")) == "−£1,250.00"


def test_counts_of_units_and_points_are_plural_only_when_more_than_one():
    assert units(Decimal("1"), "hour") == "1 hour"
    assert units(Decimal("3.00"), "hour") == "3 hours"
    assert units(Decimal("2.5"), "night") == "2.5 nights"
    assert points(1) == "1 point"
    assert points(Decimal("35")) == "35 points"


def test_months_are_written_out():
    assert month_name("2026-12") == "December 2026"
    assert month_name(datetime.date(2027, 1, 1)) == "January 2027"
    assert month_name("not a month") == "not a month"


def test_the_templates_use_the_words():
    html = Template('{% load words %}{{ m|month_name }} {{ a|pounds }} {{ q|units:"hour" }}').render(
        Context({"m": "2026-12", "a": Decimal("5800"), "q": Decimal("1")})
    )
    assert html == "December 2026 £5,800.00 1 hour"


def test_the_explanation_of_a_budget_says_1_point():
    from budgets import ras

    band = ras.BandLine(Decimal(100), Decimal(101), Decimal(520), Decimal(520))
    pricing = ras.Pricing(
        points_by_domain={},
        raw_points=101,
        modifiers=[],
        points=Decimal(101),
        band_lines=[band],
        unclamped=Decimal(520),
        amount=Decimal(520),
        clamped=None,
        min_budget=Decimal(0),
        max_budget=Decimal(100000),
    )
    lines = ras.explain(pricing)
    assert any(line.startswith("1 point (from 100 to 101) at £520.00 a point") for line in lines), lines


@pytest.mark.django_db
def test_the_admin_says_provider_rating_summaries(admin_person, web_as):
    html = web_as(admin_person).get("/admin/").content.decode()
    assert "Provider rating summaries" in html and "summarys" not in html
