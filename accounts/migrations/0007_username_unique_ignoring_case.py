"""Usernames are unique without regard to case in the database too (docs/security.md, "Identity").

Creating an account already compares usernames case-insensitively after NFKC (accounts/text.py);
this adds a unique index on `LOWER(username)`, so no other path (the Django admin, a script, a
race between two creations) can store `Ruth` beside `ruth`.

Accounts made before names were compared so may already differ only by case. The index cannot be
built over them, so the migration stops first and names them: rename all but one of each group
(or deactivate and rename them) and run it again. Nothing is changed for you, because which of the
accounts is the real one is a person's decision.
"""

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower

SHOWN = 20


def refuse_case_variants(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    clashes = list(
        User.objects.annotate(key=Lower("username"))
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("key", flat=True)
        .order_by("key")
    )
    if not clashes:
        return
    groups = [
        ", ".join(sorted(User.objects.filter(username__iexact=key).values_list("username", flat=True)))
        for key in clashes[:SHOWN]
    ]
    more = f"\n  ... and {len(clashes) - SHOWN} more" if len(clashes) > SHOWN else ""
    raise RuntimeError(
        f"{len(clashes)} usernames differ from another account's only by case, so usernames cannot be "
        "made unique without regard to case:\n  "
        + "\n  ".join(groups)
        + more
        + "\nRename all but one account of each group (in the Django admin, under Accounts > Users), "
        "then run the migrations again."
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_api_tokens_expire")]

    operations = [
        migrations.RunPython(refuse_case_variants, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_ignoring_case",
                violation_error_message="That username is already taken.",
            ),
        ),
    ]
