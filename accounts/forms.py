"""Forms for the people pages. They check shapes; rules are enforced by `accounts.services`."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .exceptions import CairnError
from .models import User


def add_service_errors(form: forms.Form, exc: CairnError) -> None:
    """Show a service's refusal on the form: on the field it names where the form has that
    field, otherwise at the top (the error summary lists both)."""
    for field, messages in (exc.errors or {exc.field: [exc.message]}).items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


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
