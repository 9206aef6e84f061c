"""Forms for the people pages. They check shapes; rules are enforced by `accounts.services`."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, AuthenticationForm, UserChangeForm

from .exceptions import CairnError
from .models import RepresentationKind, User
from .text import normalize_username, validate_name


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


def pounds_field(label: str, *, noun: str, required_message: str, example: str, **kwargs) -> forms.DecimalField:
    """An amount typed in pounds and pence (more than £0, under £1,000,000), with plain messages
    that name it (`noun`: "price", "amount")."""
    article = "an" if noun[:1] in "aeiou" else "a"
    return forms.DecimalField(
        label=label,
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "required": required_message,
            "invalid": f"Enter {article} {noun}, like {example}",
            "min_value": f"The {noun} must be more than £0",
            "max_digits": f"Enter {article} {noun} under £1,000,000",
            "max_decimal_places": f"Enter the {noun} in pounds and pence, like {example}",
        },
        **kwargs,
    )


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. The password is case-sensitive.",
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


class RepresentativeAddForm(forms.Form):
    """Link a representative's account to a client (the rules are `services.representation_add`)."""

    representative = _PersonChoiceField(
        queryset=User.objects.none(),
        label="Person",
        empty_label="Choose a person",
        help_text="Their account must already have the role Representative. An administrator creates it.",
        error_messages={
            "required": "Choose the person who will act for the client",
            "invalid_choice": "Choose a person from the list",
        },
    )
    kind = forms.ChoiceField(
        label="How they act for the client",
        choices=RepresentationKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how they act for the client"},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["representative"].queryset = candidates


class _AdminUserFormChecks:
    """Usernames are compared NFKC-normalised and without regard to case (accounts/text.py), and
    a full name may not hold control or invisible formatting characters."""

    def clean_username(self):
        username = normalize_username(self.cleaned_data.get("username", ""))
        others = User.objects.filter(username__iexact=username)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("That username is already taken.", code="unique")
        return username

    def clean_full_name(self):
        full_name = self.cleaned_data.get("full_name", "")
        validate_name(full_name)
        return full_name


class AdminUserAddForm(_AdminUserFormChecks, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username"]


class AdminUserChangeForm(_AdminUserFormChecks, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
