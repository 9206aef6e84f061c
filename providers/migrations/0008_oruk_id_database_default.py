"""On PostgreSQL the database also fills `oruk_id` (gen_random_uuid(), built in since PostgreSQL 13)
for rows written without Django, such as the benchmarks' COPY loads. Django keeps its own default;
SQLite has no UUID function and needs none (nothing bulk-loads it)."""

from django.db import migrations

TABLES = ("providers_provider", "providers_serviceoffering")


def set_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN oruk_id SET DEFAULT gen_random_uuid()")


def drop_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN oruk_id DROP DEFAULT")


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0007_open_referral_ids"),
    ]

    operations = [migrations.RunPython(set_default, drop_default)]
