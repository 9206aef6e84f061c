"""A PostgreSQL partial index of the providers that are not verified (pending or suspended): the
few whose services are left out of the Open Referral UK directory. Its pages state the published
rule as "not one of these providers" (marketplace/openreferral/directory.py, `published_keys`),
which PostgreSQL checks against a hashed list built from this index instead of looking up each
skipped row's provider: page 200 of /openreferral/services fell from ~100 ms to under 10 on 500,000
services (bench/openreferral.py). Without the index the list is read from the whole table."""

from django.db import migrations

FORWARD = """
CREATE INDEX IF NOT EXISTS providers_provider_unlisted_id ON providers_provider (id)
    WHERE status <> 'verified';
"""
BACKWARD = "DROP INDEX IF EXISTS providers_provider_unlisted_id;"


def on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("providers", "0009_service_at_location_id")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
