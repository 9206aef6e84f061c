"""Text people type: usernames and names that cannot impersonate each other, and free text that
cannot hide or reorder what a reader sees (docs/security.md, "Limits on input").

- Usernames are NFKC-normalised (`ａｄｍｉｎ` becomes `admin`, as Django's own username field does)
  and compared without regard to case, at creation and at sign-in (`username_key`).
- Names (a person's, a team's, an organisation's) refuse control characters and the invisible
  format characters (bidirectional overrides and isolates, zero-width spaces, byte-order marks),
  except the zero-width joiner and non-joiner that some scripts need to spell a name.
- Free text (comments, descriptions, reasons) may hold line breaks and tabs, but no other control
  character and no bidirectional override or isolate, which would make a line read differently
  from what it stores (the "Trojan Source" trick).
- `neutralise` strips the same characters, for text that must be kept whatever it holds (an
  import from another system).

Use `NameField`/`FreeTextField` (DRF) and `NameFormField`/`FreeTextFormField` (Django forms), or
the validators, so every entry point refuses the same characters with the same message.
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

# Bidirectional embeddings, overrides and isolates: they reorder what follows them. (The implicit
# marks, U+200E, U+200F and U+061C, reorder nothing and right-to-left writers use them, so free
# text keeps them; names refuse them with every other invisible character.)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Joiners some scripts (Persian, the Indic scripts, emoji sequences) need inside a word.
JOINERS = frozenset("\u200c\u200d")
FREE_TEXT_WHITESPACE = frozenset("\t\n\r")

NAME_MESSAGE = "Remove the control or invisible formatting characters (such as right-to-left overrides)."
FREE_TEXT_MESSAGE = "Remove the control characters or right-to-left override characters."


def normalize_username(username: str) -> str:
    """NFKC, as Django's username field and `AbstractBaseUser.normalize_username` do, stripped."""
    return unicodedata.normalize("NFKC", username or "").strip()


def username_key(username: str) -> str:
    """The form two usernames are compared in: `Admin`, `ADMIN` and `ａｄｍｉｎ` are one name."""
    return normalize_username(username).casefold()


def _refused_in_name(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and char not in JOINERS)


def _refused_in_free_text(char: str) -> bool:
    if char in FREE_TEXT_WHITESPACE:
        return False
    category = unicodedata.category(char)
    return category in ("Cc", "Cs") or char in BIDI_CONTROLS


def is_clean_free_text(value: str) -> bool:
    """Whether free text holds none of the characters it refuses (for services that collect every
    problem with their own wording rather than raise at the first)."""
    return not isinstance(value, str) or not any(_refused_in_free_text(char) for char in value)


def is_clean_name(value: str) -> bool:
    """Whether a name holds none of the characters names refuse."""
    return not isinstance(value, str) or not any(_refused_in_name(char) for char in value)


def validate_name(value: str) -> None:
    if not is_clean_name(value):
        raise ValidationError(NAME_MESSAGE, code="control_characters")


def validate_free_text(value: str) -> None:
    if not is_clean_free_text(value):
        raise ValidationError(FREE_TEXT_MESSAGE, code="control_characters")


def neutralise(value: str) -> str:
    """The text without the characters free text refuses (for text that must be kept)."""
    return "".join(char for char in value if not _refused_in_free_text(char))


# DRF turns a Django ValidationError raised by a field's validator into a 400 on that field.
class NameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_name)


class FreeTextField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_free_text)


class NameFormField(forms.CharField):
    default_validators = [validate_name]


class FreeTextFormField(forms.CharField):
    default_validators = [validate_free_text]


def axes_username(request, credentials=None) -> str:
    """django-axes' `AXES_USERNAME_CALLABLE`: lock-outs count `Admin`, `admin` and `ａｄｍｉｎ` as one
    name, as sign-in does, so changing the case of a name does not start a fresh count."""
    raw = (credentials or {}).get("username") or getattr(request, "POST", {}).get("username", "")
    return username_key(str(raw or ""))
