"""Forms for the people pages. They check shapes; rules are enforced by `accounts.services`."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .exceptions import CairnError
from .models import User


def add_service_errors(form: forms.Form, exc: CairnError, names: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on the field it names (through `names`, where the
    service's field names differ from the form's) where the form has that field, otherwise at the
    top (the error summary lists both)."""
    names = names or {}
    for field, messages in (exc.errors or {exc.field: [exc.message]}).items():
        target = names.get(field, field)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)


def iso_date_field(label: str, *, help_text: str, required_message: str = "") -> forms.DateField:
    """A date typed as 2027-04-01, with the same plain messages on every page. Without a
    `required_message` the date may be left blank."""
    messages = {"invalid": "Enter a date like 2027-04-01"}
    if required_message:
        messages["required"] = required_message
    return forms.DateField(
        label=label,
        help_text=help_text,
        required=bool(required_message),
        widget=forms.DateInput(format="%Y-%m-%d"),
        error_messages=messages,
    )


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account has been closed. Contact your council if you think this is wrong.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Autofocus skips the skip link and the page's heading for keyboard and screen reader users.
        self.fields["username"].widget.attrs.pop("autofocus", None)


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.username})"


class AllocateClientForm(forms.Form):
    client = _PersonChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a client",
        error_messages={"required": "Choose the client to allocate", "invalid_choice": "Choose a client from the list"},
    )
    social_worker = _PersonChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a social worker",
        error_messages={
            "required": "Choose the social worker",
            "invalid_choice": "Choose a social worker from the list",
        },
    )

    def __init__(self, *args, clients, social_workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        self.fields["social_worker"].queryset = social_workers
