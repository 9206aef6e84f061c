"""Words and numbers as people read them: `{% load words %}`.

- `{{ amount|pounds }}`: '£5,800.00' (thousands separated, a minus sign for money out), from a
  `Money`, a `Decimal` or a number's string;
- `{{ quantity|units:"hour" }}`: '1 hour', '3 hours', '2.5 hours' (never 'hour(s)');
- `{{ "2026-12"|month_name }}`: 'December 2026' (a month as the open statistics key it);
- `{{ person.full_name|possessive }}`: "Grace Adeyemi's" (staff pages name the person where the
  person's own pages say "your").
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html
from djmoney.money import Money

from accounts.money import format_money

register = template.Library()


@register.filter
def pounds(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return format_money(value)
    try:
        return format_money(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def units_text(quantity, unit: str) -> str:
    """'1 hour', '3 hours', '0.5 hours': a count of a service's units, in plain words."""
    amount = Decimal(str(quantity))
    shown = f"{amount.to_integral_value():f}" if amount == amount.to_integral_value() else f"{amount.normalize():f}"
    return f"{shown} {unit}" if amount == 1 else f"{shown} {unit}s"


@register.filter
def units(quantity, unit: str) -> str:
    if quantity is None or not unit:
        return "" if quantity is None else str(quantity)
    return units_text(quantity, unit)


def possessive_text(name) -> str:
    """ "Grace Adeyemi's", "Chris Jones's": a name with 's, the plain form for any name."""
    name = str(name or "").strip()
    return f"{name}'s" if name else ""


@register.filter
def possessive(name) -> str:
    """The name escaped, its apostrophe left as typed (so the page reads "Grace Adeyemi's")."""
    return format_html("{}'s", str(name).strip()) if str(name or "").strip() else ""


@register.filter
def month_name(value) -> str:
    """'2026-12' (or a date) as 'December 2026'; anything else unchanged."""
    if isinstance(value, datetime.date):
        return f"{value:%B %Y}"
    try:
        return f"{datetime.datetime.strptime(str(value), '%Y-%m'):%B %Y}"
    except ValueError:
        return str(value)
