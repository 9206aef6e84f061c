"""Accessible names for the Django admin's form widgets that Django leaves without one.

Django's admin labels a field with `<label for=...>`, but not every control gets a name that way:
a money field is two controls (amount and currency, a `MultiWidget`, whose label points at neither),
and the rows of a tabular inline have column headings but no label per control. Screen readers then
announce "edit text" or "combo box" and nothing more (axe-core: `label`, `select-name`). Admin
classes that edit such fields mix `LabelledWidgetsMixin` in, which gives each of these controls an
`aria-label` from the field's own name.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.options import InlineModelAdmin
from django.utils.text import capfirst


def label_widgets(formfield: forms.Field, name: str, *, every_control: bool) -> None:
    """Give the controls of `formfield` an `aria-label`: each part of a multi-part field (a money
    field's amount and currency), and when `every_control` (a tabular inline row) a single control too."""
    widget = getattr(formfield.widget, "widget", formfield.widget)  # the admin's related-object wrapper
    if isinstance(widget, forms.MultiWidget):
        parts = widget.widgets
        if len(parts) == 2 and isinstance(parts[1], forms.Select):  # django-money: amount, currency
            names = [name, f"{name}: currency"]
        else:
            names = [f"{name} ({i + 1} of {len(parts)})" for i in range(len(parts))]
        for part, part_name in zip(parts, names, strict=True):
            part.attrs["aria-label"] = part_name
    elif every_control and not widget.is_hidden:
        widget.attrs.setdefault("aria-label", name)


class LabelledWidgetsMixin:
    """Admin (ModelAdmin or inline) whose form controls all have an accessible name, the "Delete"
    box of each inline row included ("Delete band 2")."""

    def _tabular(self) -> bool:
        return isinstance(self, InlineModelAdmin) and "tabular" in (self.template or "")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            label_widgets(formfield, capfirst(str(db_field.verbose_name)), every_control=self._tabular())
        return formfield

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if not self._tabular():
            return formset
        thing = str(self.model._meta.verbose_name)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                delete = form.fields.get(forms.formsets.DELETION_FIELD_NAME)
                if delete is not None:
                    number = "new" if index is None else index + 1
                    delete.widget.attrs["aria-label"] = f"Delete {thing} {number}"

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
