"""The catalogue's search tables on PostgreSQL — `ServiceListing` (one row per listed service) and
`ServiceListingArea` (one per district it covers): their indexes, the triggers that keep them
equal to the catalogue's rule ("a live service of a verified provider") and their first filling.
On SQLite the tables are created and stay empty; the catalogue reads the base tables there.

The triggers are statement-level with transition tables, so a bulk write (an import, COPY, the
nightly rating refresh's one UPDATE per chunk) refreshes its rows in one set-based pass rather than
one call per row. `providers_listing_refresh` locks the services it refreshes (in id order, FOR NO
KEY UPDATE, which leaves plan lines' foreign-key checks alone) before reading them: a provider's
change and an edit of one of its services in two transactions cannot then each write the listing
from a snapshot missing the other's change. A new service cannot be locked by the other side, so its
trigger holds its provider FOR SHARE instead. Provider updates that touch nothing the listing holds
(an address, a name: names are matched on the provider table) and service updates that change no
listed column refresh nothing. TRUNCATE has triggers of its own. A bulk UPDATE of many services
locks them in scan order while a provider's refresh locks them in id order, so the two can deadlock
(PostgreSQL then cancels one); the product never updates services in bulk.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

LISTING = "providers_servicelisting"
AREAS = "providers_servicelistingarea"
LISTED_COLUMNS = (
    "service_id, provider_id, title, category, unit_price, search_vector, districts, rating, review_count, "
    "regulator_rating"
)
# What a listed service's row holds, for the services in `ids` that are listed.
LISTED_ROWS = """
    SELECT s.id, s.provider_id, s.title, s.category, s.unit_price, s.search_vector,
           COALESCE((SELECT jsonb_agg(a.district ORDER BY a.district) FROM providers_servicearea a
                     WHERE a.service_id = s.id), '[]'::jsonb),
           p.rating, p.review_count, p.regulator_rating
    FROM providers_serviceoffering s JOIN providers_provider p ON p.id = s.provider_id
    WHERE s.retired_at IS NULL AND p.status = 'verified'
"""

AREA_COLUMNS = "service_id, district, title, category, unit_price, rating, review_count, regulator_rating"
# One row per district of each listed service, from the listing's row alone: its districts array is
# the service's areas, so the areas table is not read again (a join to it hashed all 1.2 million
# area rows for every chunk of the nightly refresh).
AREA_ROWS = f"""
    SELECT l.service_id, d.district, l.title, l.category, l.unit_price, l.rating, l.review_count, l.regulator_rating
    FROM {LISTING} l, jsonb_array_elements_text(l.districts) AS d (district)
    WHERE true
"""  # noqa: S608

PG_FORWARD = f"""
CREATE INDEX providers_listing_price ON {LISTING} (unit_price, service_id);
CREATE INDEX providers_listing_title ON {LISTING} (title, service_id);
CREATE INDEX providers_listing_rating ON {LISTING} (rating DESC NULLS LAST, service_id);
CREATE INDEX providers_listing_reviews ON {LISTING} (review_count DESC, service_id);
CREATE INDEX providers_listing_area_price ON {AREAS} (district, unit_price, service_id);
CREATE INDEX providers_listing_area_title ON {AREAS} (district, title, service_id);
CREATE INDEX providers_listing_area_rating ON {AREAS} (district, rating DESC NULLS LAST, service_id);
CREATE INDEX providers_listing_area_reviews ON {AREAS} (district, review_count DESC, service_id);
CREATE INDEX providers_listing_districts ON {LISTING} USING gin (districts jsonb_path_ops);
CREATE INDEX providers_listing_search ON {LISTING} USING gin (search_vector);

CREATE OR REPLACE FUNCTION providers_listing_refresh(ids bigint[]) RETURNS void AS $$
DECLARE
    changed bigint[];
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM providers_serviceoffering WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
    WITH gone AS (
        DELETE FROM {LISTING} l WHERE l.service_id = ANY (ids) AND NOT EXISTS (
            SELECT 1 FROM providers_serviceoffering s JOIN providers_provider p ON p.id = s.provider_id
            WHERE s.id = l.service_id AND s.retired_at IS NULL AND p.status = 'verified')
        RETURNING l.service_id
    ), written AS (
        INSERT INTO {LISTING} AS l ({LISTED_COLUMNS})
        {LISTED_ROWS} AND s.id = ANY (ids)
        ON CONFLICT (service_id) DO UPDATE SET
            provider_id = EXCLUDED.provider_id, title = EXCLUDED.title, category = EXCLUDED.category,
            unit_price = EXCLUDED.unit_price, search_vector = EXCLUDED.search_vector,
            districts = EXCLUDED.districts, rating = EXCLUDED.rating, review_count = EXCLUDED.review_count,
            regulator_rating = EXCLUDED.regulator_rating
        WHERE (l.provider_id, l.title, l.category, l.unit_price, l.search_vector, l.districts, l.rating,
               l.review_count, l.regulator_rating)
            IS DISTINCT FROM (EXCLUDED.provider_id, EXCLUDED.title, EXCLUDED.category, EXCLUDED.unit_price,
               EXCLUDED.search_vector, EXCLUDED.districts, EXCLUDED.rating, EXCLUDED.review_count,
               EXCLUDED.regulator_rating)
        RETURNING l.service_id
    )
    SELECT array_agg(service_id) INTO changed FROM (SELECT service_id FROM gone UNION ALL SELECT service_id FROM written) c;
    IF changed IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM {AREAS} WHERE service_id = ANY (changed);
    INSERT INTO {AREAS} ({AREA_COLUMNS})
    {AREA_ROWS} AND l.service_id = ANY (changed);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION providers_listing_services_added() RETURNS trigger AS $$
BEGIN
    -- A new service is invisible to other transactions, so a provider change committed meanwhile
    -- would not refresh it: hold its provider (FOR SHARE waits for a change under way and keeps
    -- the next one waiting until this transaction ends). No deadlock: no one can wait on the new row.
    PERFORM 1 FROM providers_provider WHERE id IN (SELECT provider_id FROM new_rows) ORDER BY id FOR SHARE;
    PERFORM providers_listing_refresh(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_services_insert AFTER INSERT ON providers_serviceoffering
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_services_added();

CREATE OR REPLACE FUNCTION providers_listing_services_changed() RETURNS trigger AS $$
BEGIN
    -- A service moved to another provider is, to that provider's own changes, a new service.
    PERFORM 1 FROM providers_provider WHERE id IN (
        SELECT n.provider_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.provider_id <> o.provider_id
    ) ORDER BY id FOR SHARE;
    PERFORM providers_listing_refresh(ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.provider_id, n.title, n.category, n.unit_price, n.search_vector, n.retired_at)
            IS DISTINCT FROM (o.provider_id, o.title, o.category, o.unit_price, o.search_vector, o.retired_at)
        UNION
        SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
    ));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_services_update AFTER UPDATE ON providers_serviceoffering
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_services_changed();

CREATE OR REPLACE FUNCTION providers_listing_services_removed() RETURNS trigger AS $$
BEGIN
    DELETE FROM {LISTING} WHERE service_id IN (SELECT id FROM old_rows);
    DELETE FROM {AREAS} WHERE service_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_services_delete AFTER DELETE ON providers_serviceoffering
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_services_removed();

CREATE OR REPLACE FUNCTION providers_listing_areas_added() RETURNS trigger AS $$
BEGIN
    PERFORM providers_listing_refresh(ARRAY(SELECT DISTINCT service_id FROM new_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_areas_insert AFTER INSERT ON providers_servicearea
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_areas_added();

CREATE OR REPLACE FUNCTION providers_listing_areas_changed() RETURNS trigger AS $$
BEGIN
    PERFORM providers_listing_refresh(ARRAY(
        SELECT service_id FROM new_rows UNION SELECT service_id FROM old_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_areas_update AFTER UPDATE ON providers_servicearea
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_areas_changed();

CREATE OR REPLACE FUNCTION providers_listing_areas_removed() RETURNS trigger AS $$
BEGIN
    PERFORM providers_listing_refresh(ARRAY(SELECT DISTINCT service_id FROM old_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_areas_delete AFTER DELETE ON providers_servicearea
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_areas_removed();

CREATE OR REPLACE FUNCTION providers_listing_providers_changed() RETURNS trigger AS $$
BEGIN
    PERFORM providers_listing_refresh(ARRAY(
        SELECT s.id FROM providers_serviceoffering s
        WHERE s.provider_id IN (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.status, n.rating, n.review_count, n.regulator_rating)
                IS DISTINCT FROM (o.status, o.rating, o.review_count, o.regulator_rating))
    ));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_providers_update AFTER UPDATE ON providers_provider
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_providers_changed();

-- TRUNCATE fires no row or statement DELETE triggers: emptying the services empties the search
-- tables; emptying the areas (or the providers, which takes the services with it) rebuilds them.
CREATE OR REPLACE FUNCTION providers_listing_services_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM {LISTING};
    DELETE FROM {AREAS};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_services_truncate AFTER TRUNCATE ON providers_serviceoffering
    FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_services_truncated();
CREATE OR REPLACE FUNCTION providers_listing_areas_truncated() RETURNS trigger AS $$
BEGIN
    PERFORM providers_listing_refresh(ARRAY(SELECT id FROM providers_serviceoffering));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER providers_listing_areas_truncate AFTER TRUNCATE ON providers_servicearea
    FOR EACH STATEMENT EXECUTE FUNCTION providers_listing_areas_truncated();

CREATE UNIQUE INDEX providers_listing_area_unique ON {AREAS} (service_id, district);

INSERT INTO {LISTING} ({LISTED_COLUMNS}) {LISTED_ROWS};
INSERT INTO {AREAS} ({AREA_COLUMNS}) {AREA_ROWS};
"""  # noqa: S608
PG_BACKWARD = """
DROP TRIGGER IF EXISTS providers_listing_areas_truncate ON providers_servicearea;
DROP TRIGGER IF EXISTS providers_listing_services_truncate ON providers_serviceoffering;
DROP FUNCTION IF EXISTS providers_listing_areas_truncated();
DROP FUNCTION IF EXISTS providers_listing_services_truncated();
DROP TRIGGER IF EXISTS providers_listing_providers_update ON providers_provider;
DROP TRIGGER IF EXISTS providers_listing_areas_delete ON providers_servicearea;
DROP TRIGGER IF EXISTS providers_listing_areas_update ON providers_servicearea;
DROP TRIGGER IF EXISTS providers_listing_areas_insert ON providers_servicearea;
DROP TRIGGER IF EXISTS providers_listing_services_delete ON providers_serviceoffering;
DROP TRIGGER IF EXISTS providers_listing_services_update ON providers_serviceoffering;
DROP TRIGGER IF EXISTS providers_listing_services_insert ON providers_serviceoffering;
DROP FUNCTION IF EXISTS providers_listing_providers_changed();
DROP FUNCTION IF EXISTS providers_listing_areas_removed();
DROP FUNCTION IF EXISTS providers_listing_areas_changed();
DROP FUNCTION IF EXISTS providers_listing_areas_added();
DROP FUNCTION IF EXISTS providers_listing_services_removed();
DROP FUNCTION IF EXISTS providers_listing_services_changed();
DROP FUNCTION IF EXISTS providers_listing_services_added();
DROP FUNCTION IF EXISTS providers_listing_refresh(bigint[]);
"""


def on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('providers', '0010_unlisted_provider_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ServiceListing',
            fields=[
                ('service', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='listing', serialize=False, to='providers.serviceoffering')),
                ('title', models.CharField(max_length=200)),
                ('category', models.CharField(max_length=30)),
                ('unit_price', models.DecimalField(decimal_places=2, max_digits=14)),
                ('search_vector', django.contrib.postgres.search.SearchVectorField(null=True)),
                ('districts', models.JSONField(default=list)),
                ('rating', models.DecimalField(decimal_places=2, max_digits=4, null=True)),
                ('review_count', models.PositiveIntegerField(default=0)),
                ('regulator_rating', models.CharField(max_length=30)),
                ('provider', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='providers.provider')),
            ],
        ),
        migrations.CreateModel(
            name="ServiceListingArea",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("district", models.CharField(max_length=4)),
                ("title", models.CharField(max_length=200)),
                ("category", models.CharField(max_length=30)),
                ("unit_price", models.DecimalField(decimal_places=2, max_digits=14)),
                ("rating", models.DecimalField(decimal_places=2, max_digits=4, null=True)),
                ("review_count", models.PositiveIntegerField(default=0)),
                ("regulator_rating", models.CharField(max_length=30)),
                (
                    "service",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="listing_areas",
                        to="providers.serviceoffering",
                    ),
                ),
            ],
        ),
        migrations.RunPython(on_postgresql(PG_FORWARD), on_postgresql(PG_BACKWARD)),
    ]
