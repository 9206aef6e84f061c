"""PostgreSQL partial and covering indexes for the catalogue's common orderings and filters,
chosen from EXPLAIN ANALYZE on 500,000 services (bench/search.py)."""

from django.db import migrations

FORWARD = """
CREATE INDEX IF NOT EXISTS providers_service_live_title ON providers_serviceoffering (title, id)
    WHERE retired_at IS NULL;
CREATE INDEX IF NOT EXISTS providers_service_live_category_price ON providers_serviceoffering (category, unit_price)
    INCLUDE (provider_id) WHERE retired_at IS NULL;
CREATE INDEX IF NOT EXISTS providers_service_live_id ON providers_serviceoffering (id)
    INCLUDE (provider_id, category, unit_price) WHERE retired_at IS NULL;
CREATE INDEX IF NOT EXISTS providers_provider_verified_rating ON providers_provider (rating DESC NULLS LAST, id)
    WHERE status = 'verified';
CREATE INDEX IF NOT EXISTS providers_provider_verified_id ON providers_provider (id)
    INCLUDE (regulator_rating, rating, review_count) WHERE status = 'verified';
"""
BACKWARD = """
DROP INDEX IF EXISTS providers_provider_verified_id;
DROP INDEX IF EXISTS providers_provider_verified_rating;
DROP INDEX IF EXISTS providers_service_live_id;
DROP INDEX IF EXISTS providers_service_live_category_price;
DROP INDEX IF EXISTS providers_service_live_title;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("providers", "0003_postgres_search")]

    operations = [migrations.RunPython(forward, backward)]
