"""Error messages in plain English, whatever form they come from.

A field that does not give its own message gets Django's default ("This field is required.",
"Enter a number.", "Ensure this value has at most 500 characters (it has 612)."). The error
summary and the message by the field (`includes/error_summary.html`, `field.html`, `radios.html`,
`checkboxes.html`) show each error through `plain_errors`, which swaps a default for a sentence
that names the field, in the GOV.UK pattern ("Enter the reason", "Amount must be a number").
A message the form wrote itself is shown as it is.
"""

from __future__ import annotations

from django import forms, template
from django.core.exceptions import ValidationError

register = template.Library()

_CHOICE_WIDGETS = (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.Select, forms.CheckboxInput)


def _name(label: str) -> str:
    """The label as it reads inside a sentence: "Reason (optional)" → "reason"."""
    text = str(label or "this").split(" (optional)")[0].rstrip(":?")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _plain(field: forms.BoundField, code: str | None, params: dict) -> str | None:
    name = _name(field.label)
    subject = name[:1].upper() + name[1:]
    kind = field.field
    if code == "required":
        return f"Select {name}" if isinstance(kind.widget, _CHOICE_WIDGETS) else f"Enter {name}"
    if code == "invalid_choice":
        return f"Choose {name} from the list"
    if code == "invalid":
        if isinstance(kind, (forms.DateField, forms.DateTimeField)):
            return f"{subject} must be a real date"
        if isinstance(kind, forms.EmailField):
            return "Enter an email address in the correct format, like name@example.com"
        if isinstance(kind, forms.URLField):
            return "Enter a website address in the correct format, like https://www.example.org"
        if isinstance(kind, (forms.DecimalField, forms.FloatField, forms.IntegerField)):
            return f"{subject} must be a number"
        return f"Enter {name} in the correct format"
    limit = params.get("limit_value", params.get("max", ""))
    if code == "max_length":
        return f"{subject} must be {limit} characters or fewer"
    if code == "min_length":
        return f"{subject} must be {limit} characters or more"
    if code == "max_value":
        return f"{subject} must be {limit} or less"
    if code == "min_value":
        return f"{subject} must be {limit} or more"
    if code == "max_decimal_places":
        return f"{subject} must have no more than {limit} decimal place{'' if limit == 1 else 's'}"
    if code in ("max_digits", "max_whole_digits"):
        return f"{subject} is too large"
    return None


def _default_message(field: forms.BoundField, error: ValidationError) -> str | None:
    """Django's own wording for this error's code, or None when the field replaced it."""
    code = error.code
    if code is None:
        return None
    defaults = {}
    for klass in reversed(type(field.field).__mro__):
        defaults.update(getattr(klass, "default_error_messages", {}))
    if code in defaults and field.field.error_messages.get(code) == defaults[code]:
        return str(defaults[code])
    for validator in field.field.validators:  # MaxLengthValidator and friends carry their own text
        if getattr(validator, "code", None) == code and str(getattr(validator, "message", "")) == error.message:
            return str(validator.message)
        by_code = getattr(validator, "messages", None)  # DecimalValidator: one message for each code
        if isinstance(by_code, dict) and code in by_code and str(by_code[code]) == str(error.message):
            return str(by_code[code])
    return None


@register.filter
def plain_errors(field: forms.BoundField) -> list[str]:
    """The field's error messages, Django's defaults put in plain English."""
    if not field.errors:
        return []
    data = field.form.errors.as_data().get(field.name, []) if hasattr(field.form.errors, "as_data") else []
    messages = []
    for error, shown in zip(data, field.errors, strict=False):
        default = _default_message(field, error)
        plain = _plain(field, error.code, error.params or {}) if default is not None else None
        messages.append(plain or shown)
    messages += list(field.errors)[len(messages) :]
    return messages
