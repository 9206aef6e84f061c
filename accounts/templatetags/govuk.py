"""Render Django form fields with GOV.UK Design System classes and accessible descriptions."""

from django import forms, template

register = template.Library()

_CLASS_BY_WIDGET = [
    (forms.Select, "govuk-select"),
    (forms.Textarea, "govuk-textarea"),
    (forms.CheckboxInput, "govuk-checkboxes__input"),
    (forms.FileInput, "govuk-file-upload"),
    (forms.widgets.Input, "govuk-input"),
]


@register.filter
def govuk_widget(field: forms.BoundField, extra_classes: str = "") -> str:
    """The field's widget with the Design System class, its error state, and `aria-describedby`
    pointing at the hint and error message the `includes/field.html` template renders."""
    widget = field.field.widget
    css = next((c for kind, c in _CLASS_BY_WIDGET if isinstance(widget, kind)), "govuk-input")
    classes = [css, extra_classes] if extra_classes else [css]
    if field.errors:
        classes.append(f"{css}--error")
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs = {"class": " ".join(classes)}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def error_anchor(field: forms.BoundField) -> str:
    """The id an error summary links to: the field, the first option of a radio/checkbox group, or
    the first wrong box of a date input."""
    if isinstance(field.field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return f"{field.auto_id}_0"
    if getattr(field, "wrong_parts", None):  # a GOV.UK date input: the first box in error
        return next(p["id"] for p in field.date_parts if p["error"])
    return field.auto_id
