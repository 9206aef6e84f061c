"""Template helpers for showing services."""

from django import template

register = template.Library()


@register.filter
def per_unit(unit: str) -> str:
    """'an hour', 'a session', 'an item': the price's unit as people say it."""
    if not unit:
        return ""
    article = "an" if unit == "hour" or unit[0] in "aeiou" else "a"
    return f"{article} {unit}"
