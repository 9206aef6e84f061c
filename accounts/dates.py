"""Dates typed the GOV.UK way: day, month and year in three boxes (the Design System's date input).

A `DateField` reads `<name>-day`, `<name>-month` and `<name>-year`. A single ISO date sent under
`<name>` (an old link or bookmark such as `?start=2027-04-01`, a script) is still understood, so
no address that worked stops working. Errors follow the pattern: "Start date must include a month"
marks only the month box, "Start date must be a real date" marks all three.

The whole component (fieldset and legend, hint, error message, the three labelled boxes) is
`templates/includes/date_input.html`; `includes/field.html` hands any field with this widget to
it, so a form gets the pattern by declaring the field with `date_field(...)` and nothing else.
Rendering the field on its own (`{{ form.start }}`) gives just the three boxes.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.template.loader import render_to_string

PARTS = ("day", "month", "year")
WIDTHS = {"day": 2, "month": 2, "year": 4}
# A year outside these is a typing slip (0001, 9999), never a date Cairn needs.
MIN_YEAR = 1900
MAX_YEAR = 2100


def part_id(auto_id: str, part: str) -> str:
    """The day box takes the field's own id, so the error summary's link to the field (and any
    `label for`) lands in the first box; the month and year boxes add their part."""
    return auto_id if part == "day" else f"{auto_id}-{part}"


def _parts_of(value) -> dict[str, str]:
    """The three boxes' text for any value the field may hold: a date, the typed parts, an ISO
    string or nothing."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
    if isinstance(value, dict):
        return {part: str(value.get(part) or "") for part in PARTS}
    if isinstance(value, str) and value.strip():
        try:
            return _parts_of(datetime.date.fromisoformat(value.strip()))
        except ValueError:
            return {"day": value, "month": "", "year": ""}
    return dict.fromkeys(PARTS, "")


class DateInput(forms.Widget):
    """Three text boxes with numeric keyboards (GOV.UK: never `type=number`)."""

    govuk_date_input = True  # includes/field.html renders such fields with includes/date_input.html

    def value_from_datadict(self, data, files, name):
        names = {part: f"{name}-{part}" for part in PARTS}
        if not any(key in data for key in names.values()) and name in data:
            return data.get(name)  # one ISO date, from an old link or a script
        return {part: data.get(key, "") for part, key in names.items()}

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}-{part}" in data for part in PARTS)

    def format_value(self, value):
        return _parts_of(value)

    def id_for_label(self, id_):
        return id_

    def render(self, name, value, attrs=None, renderer=None):
        auto_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        return render_to_string(
            "includes/date_input.html",
            {"boxes_only": True, "parts": date_parts(name, auto_id, self.format_value(value), wrong=())},
        )


def date_parts(html_name: str, auto_id: str, values: dict[str, str], wrong) -> list[dict]:
    return [
        {
            "part": part,
            "name": f"{html_name}-{part}",
            "id": part_id(auto_id, part),
            "label": part.capitalize(),
            "value": values.get(part, ""),
            "width": WIDTHS[part],
            "error": part in wrong,
        }
        for part in PARTS
    ]


class DateBoundField(BoundField):
    """What includes/date_input.html needs: each box with its value and whether it is wrong."""

    @property
    def wrong_parts(self) -> tuple[str, ...]:
        """The boxes to mark: those an error names (`params["parts"]`), all three for any other error."""
        if not self.errors:
            return ()
        wrong: set[str] = set()
        for error in self.errors.as_data():
            params = error.params if isinstance(error.params, dict) else {}
            wrong.update(params.get("parts", PARTS))
        return tuple(part for part in PARTS if part in wrong)

    @property
    def date_parts(self) -> list[dict]:
        return date_parts(self.html_name, self.auto_id, self.field.widget.format_value(self.value()), self.wrong_parts)

    @property
    def described_by(self) -> str:
        ids = [f"{self.auto_id}-hint"] if self.help_text else []
        if self.errors:
            ids.append(f"{self.auto_id}-error")
        return " ".join(ids)


class DateField(forms.Field):
    """A date as day, month and year. `noun` names the date in messages ("Start date must include
    a month"); it defaults to the label."""

    widget = DateInput
    bound_field_class = DateBoundField
    # Given to each field rather than as `default_error_messages`: they are already the GOV.UK
    # wording, so the error templates' plain-English swap of Django's defaults leaves them alone.
    messages = {
        "required": "Enter the date",
        "invalid": "%(noun)s must be a real date",
        "incomplete": "%(noun)s must include a %(missing)s",
        "year": "Year must include 4 numbers",
        "range": "%(noun)s must be between %(min)s and %(max)s",
    }

    def __init__(self, *, noun: str | None = None, min_year: int = MIN_YEAR, max_year: int = MAX_YEAR, **kwargs):
        kwargs["error_messages"] = {**self.messages, **(kwargs.get("error_messages") or {})}
        super().__init__(**kwargs)
        self.noun = noun
        self.min_year = min_year
        self.max_year = max_year

    def _error(self, code: str, parts=PARTS, **params) -> ValidationError:
        noun = self.noun or str(self.label or "The date")
        params = {"noun": noun, "parts": tuple(parts), **params}
        return ValidationError(self.error_messages[code], code=code, params=params)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return self._in_range(value)
        if isinstance(value, str):
            try:
                return self._in_range(datetime.date.fromisoformat(value.strip()))
            except ValueError as exc:
                raise self._error("invalid") from exc
        typed = {part: str(value.get(part) or "").strip() for part in PARTS}
        if not any(typed.values()):
            return None
        missing = [part for part in PARTS if not typed[part]]
        if missing:
            raise self._error("incomplete", missing, missing=" and ".join(missing))
        not_numbers = [part for part in PARTS if not typed[part].isdigit()]
        if not_numbers:
            raise self._error("invalid", not_numbers)
        if len(typed["year"]) != 4:
            raise self._error("year", ["year"])
        try:
            date = datetime.date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
        except ValueError as exc:
            raise self._error("invalid") from exc
        return self._in_range(date)

    def _in_range(self, date: datetime.date) -> datetime.date:
        if not self.min_year <= date.year <= self.max_year:
            raise self._error("range", ["year"], min=self.min_year, max=self.max_year)
        return date

    def prepare_value(self, value):
        return value

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True


def date_field(
    label: str, *, help_text: str = "", required_message: str = "", noun: str | None = None, **kwargs
) -> DateField:
    """A GOV.UK date input with the same plain messages on every page. Without a `required_message`
    the date may be left blank. `help_text` is the hint, e.g. "For example, 27 3 2027"."""
    messages = {"required": required_message} if required_message else {}
    return DateField(
        label=label,
        help_text=help_text,
        required=bool(required_message),
        noun=noun,
        error_messages=messages,
        **kwargs,
    )


def example_hint(date: datetime.date, before: str = "For example,") -> str:
    """A hint in the pattern's own form: "For example, 27 3 2027"."""
    return f"{before} {date.day} {date.month} {date.year}"
