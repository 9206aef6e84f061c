"""How a line is paid, as staff read it: `{% load plan_words %}{{ label|paid_to:person.full_name }}`.

A plan speaks in the person's voice ("What matters to me", "Direct payment to me"); the person
(and someone acting for them) reads it so. Staff read the way a line is paid about the person:
"Direct payment to Grace Adeyemi". Other labels name no one and are left as they are.
"""

from django import template

from careplans.models import MoneyManagement

register = template.Library()


@register.filter
def paid_to(label, name) -> str:
    if str(label) == str(MoneyManagement.DIRECT_PAYMENT.label) and name:
        return f"Direct payment to {name}"
    return label
