"""API tokens move from DRF's `authtoken` (one token per person, stored in clear, never expiring)
to django-rest-knox (digests only, each token expiring; accounts/tokens.py).

Each existing token is copied across under the same secret, so integrations keep working, and is
given one full lifetime from the upgrade (`REST_KNOX["TOKEN_TTL"]`) before it must be renewed by
signing in again; the clear-text copies are then deleted. Reversing copies nothing back: a token
cannot be recovered from its digest, so integrations sign in again.
"""

import hashlib

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

# knox's own constant: a token's first 15 characters are its lookup key.
TOKEN_KEY_LENGTH = 15


def move_tokens_to_knox(apps, schema_editor):
    OldToken = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    expiry = timezone.now() + settings.REST_KNOX["TOKEN_TTL"]
    moved = [
        AuthToken(
            digest=hashlib.sha512(old.key.encode()).hexdigest(),
            token_key=old.key[:TOKEN_KEY_LENGTH],
            user_id=old.user_id,
            expiry=expiry,
        )
        for old in OldToken.objects.all().iterator()
    ]
    AuthToken.objects.bulk_create(moved, batch_size=1000)
    OldToken.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_representatives"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("login", "Logged in"),
                    ("login_failed", "Failed login"),
                    ("logout", "Logged out"),
                    ("token_issued", "API token issued"),
                    ("token_revoked", "API token revoked"),
                    ("password_changed", "Password changed"),
                    ("password_reset_requested", "Password reset requested"),
                    ("view", "Viewed"),
                    ("create", "Created"),
                    ("update", "Updated"),
                    ("delete", "Deleted"),
                    ("transition", "Changed state"),
                ],
                db_index=True,
                max_length=30,
            ),
        ),
        migrations.RunPython(move_tokens_to_knox, migrations.RunPython.noop),
    ]
