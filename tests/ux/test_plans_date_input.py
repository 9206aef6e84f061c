"""The GOV.UK date input (accounts/dates.py): three labelled boxes, errors on the boxes that are
wrong, the error summary linking to the first of them, and ISO dates from old links still read."""

import datetime

import pytest
from django import forms
from django.template import Context, Template

from accounts.dates import DateInput, date_field, example_hint


class StartForm(forms.Form):
    start = date_field("Start date", help_text="For example, 1 4 2027", required_message="Enter the start date")
    end = date_field("End date")


def render(form) -> str:
    template = Template(
        '{% include "includes/error_summary.html" %}{% include "includes/field.html" with field=form.start %}'
    )
    return template.render(Context({"form": form}))


def test_a_date_typed_as_day_month_and_year_is_read():
    form = StartForm({"start-day": "1", "start-month": "4", "start-year": "2027"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"start": datetime.date(2027, 4, 1), "end": None}


def test_an_iso_date_from_an_old_link_is_still_read():
    form = StartForm({"start": "2027-04-01", "end": "2027-05-01"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["end"] == datetime.date(2027, 5, 1)


def on(day: str, month: str, year: str) -> dict:
    return {"start-day": day, "start-month": month, "start-year": year}


ALL = ("day", "month", "year")
REAL = "Start date must be a real date"
RANGE = "Start date must be between 1900 and 2100"


@pytest.mark.parametrize(
    ("typed", "message", "wrong"),
    [
        ({}, "Enter the start date", ALL),
        ({"start-day": "1", "start-year": "2027"}, "Start date must include a month", ("month",)),
        ({"start-year": "2027"}, "Start date must include a day and month", ("day", "month")),
        (on("31", "2", "2027"), REAL, ALL),
        (on("x", "2", "2027"), REAL, ("day",)),
        (on("1", "4", "27"), "Year must include 4 numbers", ("year",)),
        (on("1", "1", "0001"), RANGE, ("year",)),
        (on("31", "12", "9999"), RANGE, ("year",)),
        ({"start": "not a date"}, REAL, ALL),
    ],
)  # fmt: skip
def test_a_wrong_date_says_what_is_wrong_and_marks_only_the_wrong_boxes(typed, message, wrong):
    form = StartForm(typed)
    assert not form.is_valid()
    assert form.errors["start"] == [message]
    assert form["start"].wrong_parts == wrong
    html = render(form)
    for part in ("day", "month", "year"):
        box = 'id="id_start"' if part == "day" else f'id="id_start-{part}"'
        tag = html[html.rindex("<input", 0, html.index(box)) : html.index(">", html.index(box))]
        assert ("govuk-input--error" in tag) == (part in wrong), part
    first = "id_start" if wrong[0] == "day" else f"id_start-{wrong[0]}"
    assert f'<a href="#{first}">{message}</a>' in html


def test_the_field_renders_the_gov_uk_pattern_with_the_value_kept():
    form = StartForm({"start-day": "1", "start-month": "", "start-year": "2027"})
    form.is_valid()
    html = render(form)
    assert '<fieldset class="govuk-fieldset" role="group" aria-describedby="id_start-hint id_start-error">' in html
    assert '<legend class="govuk-fieldset__legend">Start date</legend>' in html
    assert '<div class="govuk-date-input">' in html
    for part, value in (("day", "1"), ("month", ""), ("year", "2027")):
        name = f'name="start-{part}"'
        assert name in html
        assert f'{name} type="text" inputmode="numeric" value="{value}"' in html
    assert html.count('class="govuk-label govuk-date-input__label"') == 3
    assert "govuk-form-group--error" in html


def test_an_initial_date_fills_the_three_boxes():
    html = render(StartForm(initial={"start": datetime.date(2027, 4, 9)}))
    assert 'name="start-day" type="text" inputmode="numeric" value="9"' in html
    assert 'name="start-month" type="text" inputmode="numeric" value="4"' in html
    assert 'name="start-year" type="text" inputmode="numeric" value="2027"' in html
    assert "govuk-error" not in html


def test_the_widget_alone_renders_three_labelled_boxes():
    html = DateInput().render("when", datetime.date(2027, 4, 9), attrs={"id": "id_when"})
    assert html.count("govuk-date-input__item") == 3
    assert 'for="id_when-year">Year</label>' in html
    assert example_hint(datetime.date(2027, 3, 27)) == "For example, 27 3 2027"
