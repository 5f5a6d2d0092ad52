"""Facet keys stored with each row, and the facet counts kept per combination of keys.

On PostgreSQL:
- `catalog_dataset_facet_keys(...)` now returns the keys sorted and distinct, so that equal facets give equal
  arrays; a BEFORE trigger stores them in `facet_keys` whichever way a row is written, and the GIN index of
  migration 0006 moves from the expression to that column (the filters no longer call the function per row).
- an AFTER trigger keeps `catalog_facetbitmap`: per facet key, a bitmap of the published datasets having it
  (bit n for the dataset with id n), so facet counts without search text are bit operations, exact;
  `catalog_rebuild_facet_bitmaps()` rebuilds them all (here, and after a bulk load with the trigger off).
Existing rows are filled in. On SQLite the column stays NULL and the table empty. Reversible.
"""

import importlib

import catalog.models
from django.db import migrations, models

FACET_KEYS_FUNCTION = """
CREATE OR REPLACE FUNCTION catalog_dataset_facet_keys(
    domain text, license text, hosted boolean, modalities text, languages jsonb
) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT DISTINCT key FROM unnest(
        ARRAY['domain:' || domain, 'license:' || license,
              CASE WHEN hosted THEN 'hosting:hosted' ELSE 'hosting:linked' END]
        || ARRAY(SELECT 'modality:' || item FROM unnest(string_to_array(modalities, ',')) AS item
                 WHERE item <> '')
        || ARRAY(SELECT 'language:' || item FROM jsonb_array_elements_text(
                 CASE WHEN jsonb_typeof(languages) = 'array' THEN languages ELSE '[]'::jsonb END) AS item
                 WHERE item IS NOT NULL AND item <> '')
    ) AS key ORDER BY key)
$$;
"""

CREATE = (
    """
DROP INDEX IF EXISTS catalog_dataset_facets_gin;
"""
    + FACET_KEYS_FUNCTION
    + """
CREATE OR REPLACE FUNCTION catalog_dataset_store_facet_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.facet_keys := catalog_dataset_facet_keys(
        NEW.domain, NEW.license, NEW.hosted, NEW.modalities, NEW.languages);
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_dataset_facet_keys_store
    BEFORE INSERT OR UPDATE ON catalog_dataset
    FOR EACH ROW EXECUTE FUNCTION catalog_dataset_store_facet_keys();

-- All bitmaps have one length, a multiple of 8,192 bits, so that they can be combined with & and |: the
-- writers take a lock on the table (publications are rare), grow every bitmap when a dataset's id is past
-- the end, and create a new key's bitmap at that length.
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
    IF old_keys = new_keys THEN
        RETURN NULL;
    END IF;
    row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
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

-- Every bitmap from the rows: after a bulk load with the trigger disabled, and to fill them here.
CREATE OR REPLACE FUNCTION catalog_rebuild_facet_bitmaps() RETURNS void LANGUAGE sql AS $$
    DELETE FROM catalog_facetbitmap;
    INSERT INTO catalog_facetbitmap (key, bits, datasets)
    SELECT keyed.key, string_agg(CASE WHEN member.id IS NULL THEN '0' ELSE '1' END, '' ORDER BY slot)::varbit,
           count(member.id)
    FROM (SELECT DISTINCT unnest(facet_keys) AS key FROM catalog_dataset WHERE published_at IS NOT NULL) AS keyed
    CROSS JOIN generate_series(0, (SELECT (coalesce(max(id), 0) / 8192 + 1) * 8192 - 1 FROM catalog_dataset)) AS slot
    LEFT JOIN (SELECT id, unnest(facet_keys) AS key FROM catalog_dataset WHERE published_at IS NOT NULL) AS member
        ON member.key = keyed.key AND member.id = slot
    GROUP BY keyed.key;
$$;

UPDATE catalog_dataset SET facet_keys = NULL;
SELECT catalog_rebuild_facet_bitmaps();
CREATE TRIGGER catalog_dataset_facet_bitmaps
    AFTER INSERT OR UPDATE OR DELETE ON catalog_dataset
    FOR EACH ROW EXECUTE FUNCTION catalog_dataset_facet_bits();
CREATE INDEX catalog_dataset_facets_gin ON catalog_dataset USING gin (facet_keys)
    WHERE published_at IS NOT NULL;
"""
)

# Back to migration 0006's state: its unsorted keys and its index over the expression, from its own SQL.
DROP = (
    """
DROP INDEX IF EXISTS catalog_dataset_facets_gin;
DROP TRIGGER IF EXISTS catalog_dataset_facet_bitmaps ON catalog_dataset;
DROP FUNCTION IF EXISTS catalog_dataset_facet_bits();
DROP FUNCTION IF EXISTS catalog_rebuild_facet_bitmaps();
DROP TRIGGER IF EXISTS catalog_dataset_facet_keys_store ON catalog_dataset;
DROP FUNCTION IF EXISTS catalog_dataset_store_facet_keys();
"""
    + importlib.import_module("catalog.migrations.0006_catalog_facet_keys").CREATE_FACET_INDEX
)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_dataset_columns"),
    ]

    operations = [
        migrations.CreateModel(
            name="FacetBitmap",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.TextField(
                        help_text="A facet key such as 'domain:Marine' or 'language:fr'.", unique=True
                    ),
                ),
                ("bits", catalog.models.BitStringField()),
                ("datasets", models.IntegerField(default=0, help_text="The number of bits set.")),
            ],
        ),
        migrations.AddField(
            model_name="dataset",
            name="facet_keys",
            field=catalog.models.StoredKeysField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
