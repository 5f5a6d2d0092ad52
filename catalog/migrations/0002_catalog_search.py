"""Catalog search: a stored full-text column kept by a trigger, its GIN index, and sort/facet indexes.

The tsvector column, the GIN index and the trigger exist on PostgreSQL only; on SQLite the column stays
NULL and `catalog.search` falls back to `icontains`. Reversible on both.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

# Weights: name A, tags and domain B, summary C, card D. The card is cut at 200,000 characters because a
# tsvector may not exceed 1 MB; the summary (the card's first paragraph) is always complete.
CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION catalog_dataset_search_document() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.domain, '') || ' ' || coalesce(
            (SELECT string_agg(value, ' ') FROM jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(NEW.tags) = 'array' THEN NEW.tags ELSE '[]'::jsonb END)), '')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'C')
        || setweight(to_tsvector('english', left(coalesce(NEW.card, ''), 200000)), 'D');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS catalog_dataset_search_update ON catalog_dataset;
CREATE TRIGGER catalog_dataset_search_update
    BEFORE INSERT OR UPDATE OF name, domain, tags, summary, card ON catalog_dataset
    FOR EACH ROW EXECUTE FUNCTION catalog_dataset_search_document();
UPDATE catalog_dataset SET name = name;
CREATE INDEX IF NOT EXISTS catalog_dataset_search_gin ON catalog_dataset USING gin (search_vector);
"""

DROP_TRIGGER = """
DROP INDEX IF EXISTS catalog_dataset_search_gin;
DROP TRIGGER IF EXISTS catalog_dataset_search_update ON catalog_dataset;
DROP FUNCTION IF EXISTS catalog_dataset_search_document();
"""


def create_search_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER)


def drop_search_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("submissions", "0003_curators_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="dataset",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="dataset",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["search_vector"], name="catalog_dataset_search_gin"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(create_search_trigger, drop_search_trigger, elidable=False),
            ],
        ),
        migrations.AddIndex(
            model_name="dataset",
            index=models.Index(fields=["-downloads", "-id"], name="catalog_dataset_downloads"),
        ),
        migrations.AddIndex(
            model_name="dataset",
            index=models.Index(fields=["-likes", "-id"], name="catalog_dataset_likes"),
        ),
        migrations.AddIndex(
            model_name="dataset",
            index=models.Index(fields=["domain"], name="catalog_dataset_domain"),
        ),
        migrations.AddIndex(
            model_name="dataset",
            index=models.Index(fields=["license"], name="catalog_dataset_license"),
        ),
    ]
