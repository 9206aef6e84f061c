"""PostgreSQL search: a trigger keeps each service's `search_vector` (title weighted above the
description), a GIN index serves full-text queries, and trigram indexes serve provider-name and
title matching. SQLite has none of these; the catalogue falls back to `icontains` there."""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION providers_service_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'B');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_service_search_vector
    BEFORE INSERT OR UPDATE OF title, description ON providers_serviceoffering
    FOR EACH ROW EXECUTE FUNCTION providers_service_search_vector();
UPDATE providers_serviceoffering SET title = title;
CREATE INDEX IF NOT EXISTS providers_service_search_gin ON providers_serviceoffering USING gin (search_vector);
CREATE INDEX IF NOT EXISTS providers_service_title_trgm ON providers_serviceoffering USING gin (title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS providers_provider_name_trgm ON providers_provider USING gin (name gin_trgm_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS providers_provider_name_trgm;
DROP INDEX IF EXISTS providers_service_title_trgm;
DROP INDEX IF EXISTS providers_service_search_gin;
DROP TRIGGER IF EXISTS providers_service_search_vector ON providers_serviceoffering;
DROP FUNCTION IF EXISTS providers_service_search_vector();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("providers", "0002_onboarding_and_services")]

    operations = [migrations.RunPython(forward, backward)]
