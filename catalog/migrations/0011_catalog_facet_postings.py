"""The facet keys' posting lists, so that a page of a facet selection reads the rows of its page only.

On PostgreSQL the trigger function of migration 0010 now also keeps `catalog_facetposting`: one row per
(published dataset, facet key) with the dataset's publication time, rewritten when a row's keys or its
publication time change. `catalog_rebuild_facet_bitmaps()` rebuilds them with the bitmaps (here, and after a
bulk load with the trigger off). On SQLite the table stays empty. Reversible: back to 0010's functions.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_PREVIOUS = importlib.import_module("catalog.migrations.0010_catalog_facet_bitmaps")

BITS_FUNCTION = """
-- As in migration 0010, and the posting lists first: rewritten when the keys or the publication time of a
-- published dataset change (a re-publication moves the dataset to the front of every list of its keys).
CREATE OR REPLACE FUNCTION catalog_dataset_facet_bits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_keys text[] := '{}';
    new_keys text[] := '{}';
    row_id bigint;
    size bigint;
    changed text;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.published_at IS NOT NULL THEN
        old_keys := OLD.facet_keys;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.published_at IS NOT NULL THEN
        new_keys := NEW.facet_keys;
    END IF;
    row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    IF old_keys IS DISTINCT FROM new_keys
        OR (TG_OP = 'UPDATE' AND new_keys <> '{}' AND NEW.published_at IS DISTINCT FROM OLD.published_at) THEN
        DELETE FROM catalog_facetposting WHERE dataset_id = row_id;
        IF new_keys <> '{}' THEN
            INSERT INTO catalog_facetposting (dataset_id, key, published_at)
                SELECT row_id, key, NEW.published_at FROM unnest(new_keys) AS key;
        END IF;
    END IF;
    IF old_keys = new_keys THEN
        RETURN NULL;
    END IF;
    LOCK TABLE catalog_facetbitmap IN SHARE ROW EXCLUSIVE MODE;
    SELECT length(bits) INTO size FROM catalog_facetbitmap LIMIT 1;
    size := coalesce(size, 0);
    IF row_id >= size THEN
        UPDATE catalog_facetbitmap
            SET bits = bits || repeat('0', ((row_id / 8192 + 1) * 8192 - size)::integer)::varbit;
        size := (row_id / 8192 + 1) * 8192;
    END IF;
    FOR changed IN SELECT unnest(old_keys) EXCEPT SELECT unnest(new_keys) LOOP
        UPDATE catalog_facetbitmap
            SET bits = set_bit(bits, row_id::integer, 0), datasets = datasets - get_bit(bits, row_id::integer)
            WHERE key = changed;
    END LOOP;
    FOR changed IN SELECT unnest(new_keys) EXCEPT SELECT unnest(old_keys) LOOP
        INSERT INTO catalog_facetbitmap (key, bits, datasets)
            VALUES (changed, set_bit(repeat('0', size::integer)::varbit, row_id::integer, 1), 1)
            ON CONFLICT (key) DO UPDATE SET
                bits = set_bit(catalog_facetbitmap.bits, row_id::integer, 1),
                datasets = catalog_facetbitmap.datasets + 1 - get_bit(catalog_facetbitmap.bits, row_id::integer);
    END LOOP;
    RETURN NULL;
END
$$;
"""

# Every bitmap (as in migration 0010) and every posting from the rows: after a bulk load with the trigger
# disabled, and to fill them here.
REBUILD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION catalog_rebuild_facet_bitmaps() RETURNS void LANGUAGE sql AS $$"
    + _PREVIOUS.REBUILD_BITMAPS
    + """
    DELETE FROM catalog_facetposting;
    INSERT INTO catalog_facetposting (dataset_id, key, published_at)
    SELECT id, unnest(facet_keys), published_at FROM catalog_dataset WHERE published_at IS NOT NULL;
$$;
"""
)

CREATE = BITS_FUNCTION + REBUILD_FUNCTION + "SELECT catalog_rebuild_facet_bitmaps();"

# Back to migration 0010's functions, from its own SQL; the table is then dropped.
DROP = _PREVIOUS.BITS_FUNCTION + _PREVIOUS.REBUILD_FUNCTION


def create_postings(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_postings(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_catalog_facet_bitmaps"),
    ]

    operations = [
        migrations.CreateModel(
            name="FacetPosting",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "dataset", "key", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("key", models.TextField(help_text="A facet key such as 'domain:Marine' or 'language:fr'.")),
                ("published_at", models.DateTimeField()),
                (
                    "dataset",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="catalog.dataset"
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["key", "published_at", "dataset"], name="catalog_facetposting_walk")
                ],
            },
        ),
        migrations.RunPython(create_postings, drop_postings, elidable=False),
    ]
