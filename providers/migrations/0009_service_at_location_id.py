"""A stored id for the one service-at-location the Open Referral UK directory publishes per service,
filled with a fresh random UUID per existing row, and filled by PostgreSQL itself for COPY loads."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    model = apps.get_model("providers", "ServiceOffering")
    rows = list(model.objects.filter(oruk_service_at_location_id__isnull=True).only("pk"))
    for row in rows:
        row.oruk_service_at_location_id = uuid.uuid4()
    model.objects.bulk_update(rows, ["oruk_service_at_location_id"], batch_size=1000)


def set_database_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE providers_serviceoffering "
            "ALTER COLUMN oruk_service_at_location_id SET DEFAULT gen_random_uuid()"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0008_oruk_id_database_default"),
    ]

    operations = [
        migrations.AddField(
            model_name="serviceoffering",
            name="oruk_service_at_location_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="Open Referral UK service-at-location id"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="serviceoffering",
            name="oruk_service_at_location_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                unique=True,
                verbose_name="Open Referral UK service-at-location id",
            ),
        ),
        # After the AlterField: Django drops column defaults it did not declare when it alters one.
        migrations.RunPython(set_database_default, migrations.RunPython.noop),
    ]
