"""Stored Open Referral UK ids for providers and services, and the id each had in the directory it
was imported from. Existing rows get a fresh random UUID each (a callable default on AddField
would give every existing row the same one), then the column becomes unique."""

import uuid

from django.db import migrations, models


def fill_oruk_ids(apps, schema_editor):
    for name in ("Provider", "ServiceOffering"):
        model = apps.get_model("providers", name)
        rows = list(model.objects.filter(oruk_id__isnull=True).only("pk"))
        for row in rows:
            row.oruk_id = uuid.uuid4()
        model.objects.bulk_update(rows, ["oruk_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0006_stripe_account_moved_to_payments"),
    ]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="oruk_id",
            field=models.UUIDField(null=True, editable=False, verbose_name="Open Referral UK id"),
        ),
        migrations.AddField(
            model_name="serviceoffering",
            name="oruk_id",
            field=models.UUIDField(null=True, editable=False, verbose_name="Open Referral UK id"),
        ),
        migrations.RunPython(fill_oruk_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="provider",
            name="oruk_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="Open Referral UK id"),
        ),
        migrations.AlterField(
            model_name="serviceoffering",
            name="oruk_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="Open Referral UK id"),
        ),
        migrations.AddField(
            model_name="provider",
            name="external_id",
            field=models.CharField(
                blank=True,
                max_length=100,
                null=True,
                unique=True,
                verbose_name="id in the directory it was imported from",
            ),
        ),
        migrations.AddField(
            model_name="serviceoffering",
            name="external_id",
            field=models.CharField(
                blank=True,
                max_length=100,
                null=True,
                unique=True,
                verbose_name="id in the directory it was imported from",
            ),
        ),
    ]
