"""Facet filters resolved in an index: a GIN index over each row's facet keys, and a newest-first index.

`catalog_dataset_facet_keys(...)` turns a row's domain, licence, hosting, modalities and languages into keys
such as 'domain:Marine' or 'language:fr'; a GIN index over it lets PostgreSQL intersect the selected values
of several facets in the index instead of reading every row of a domain. `catalog.search` filters through
the same expression on PostgreSQL. The function and that index exist on PostgreSQL only. Reversible.
"""

from django.db import migrations, models

CREATE_FACET_INDEX = """
CREATE OR REPLACE FUNCTION catalog_dataset_facet_keys(
    domain text, license text, hosted boolean, modalities text, languages jsonb
) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['domain:' || domain, 'license:' || license,
                 CASE WHEN hosted THEN 'hosting:hosted' ELSE 'hosting:linked' END]
        || ARRAY(SELECT 'modality:' || item FROM unnest(string_to_array(modalities, ',')) AS item
                 WHERE item <> '')
        || ARRAY(SELECT DISTINCT 'language:' || item FROM jsonb_array_elements_text(
                 CASE WHEN jsonb_typeof(languages) = 'array' THEN languages ELSE '[]'::jsonb END) AS item)
$$;
CREATE INDEX IF NOT EXISTS catalog_dataset_facets_gin ON catalog_dataset
    USING gin (catalog_dataset_facet_keys(domain, license, hosted, modalities, languages))
    WHERE published_at IS NOT NULL;
"""

DROP_FACET_INDEX = """
DROP INDEX IF EXISTS catalog_dataset_facets_gin;
DROP FUNCTION IF EXISTS catalog_dataset_facet_keys(text, text, boolean, text, jsonb);
"""


def create_facet_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FACET_INDEX)


def drop_facet_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FACET_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_mirror_rejected_commits"),
    ]

    operations = [
        migrations.RunPython(create_facet_index, drop_facet_index, elidable=False),
        migrations.AddIndex(
            model_name="dataset",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["-published_at", "-id"],
                name="catalog_dataset_newest",
            ),
        ),
    ]
