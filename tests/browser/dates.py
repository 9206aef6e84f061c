"""Typing a date into a GOV.UK date input (accounts/dates.py) the way a person does: the day,
month and year boxes of the group its legend names."""

import datetime


def fill_date(page, legend: str, date: datetime.date | None) -> None:
    """Fill the three boxes of the date input named `legend` (blank them for None)."""
    group = page.get_by_role("group", name=legend, exact=True)
    for label, value in (("Day", "day"), ("Month", "month"), ("Year", "year")):
        group.get_by_label(label, exact=True).fill(str(getattr(date, value)) if date else "")
