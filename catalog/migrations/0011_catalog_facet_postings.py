"""The facet keys' posting lists, so that a page of a facet selection reads the rows of its page only.

On PostgreSQL a new AFTER trigger, `catalog_dataset_facet_postings`, keeps `catalog_facetposting`: one row
per (published dataset, facet key) with the dataset's publication time, rewritten when a row's keys or its
publication time change. `catalog_rebuild_facet_bitmaps()` now rebuilds the postings with the bitmaps, and
the bitmaps in one linear query: 0010's join of every key with every id slot can be planned as a merge join
on the key alone, which compares each slot with each member of the key (more than 15 minutes at 100,000
datasets). On SQLite the table stays empty. Reversible: the trigger goes, and the rebuild keeps its linear
query for the bitmaps only.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTINGS_FUNCTION = """
-- A published dataset's postings are rewritten when its keys or its publication time change (published
-- again, it comes first in the list of each of its keys); an unpublished or deleted one has none.
CREATE OR REPLACE FUNCTION catalog_dataset_facet_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_keys text[] := '{}';
    new_keys text[] := '{}';
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.published_at IS NOT NULL THEN
        old_keys := OLD.facet_keys;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.published_at IS NOT NULL THEN
        new_keys := NEW.facet_keys;
    END IF;
    IF old_keys IS NOT DISTINCT FROM new_keys
        AND (TG_OP <> 'UPDATE' OR new_keys = '{}' OR NEW.published_at = OLD.published_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM catalog_facetposting WHERE dataset_id = OLD.id;
    END IF;
    IF new_keys <> '{}' THEN
        INSERT INTO catalog_facetposting (dataset_id, key, published_at)
            SELECT NEW.id, key, NEW.published_at FROM unnest(new_keys) AS key;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER catalog_dataset_facet_postings
    AFTER INSERT OR UPDATE OR DELETE ON catalog_dataset
    FOR EACH ROW EXECUTE FUNCTION catalog_dataset_facet_postings();
"""

# Every bitmap in one pass over the rows: a key's bitmap is its members' ids in order, each written as the
# zeros since the previous member and a one (bit n for id n), then zeros up to the common length.
REBUILD_BITMAPS = """
    DELETE FROM catalog_facetbitmap;
    INSERT INTO catalog_facetbitmap (key, bits, datasets)
    SELECT gaps.key,
        (string_agg(repeat('0', (gaps.id - gaps.previous - 1)::integer) || '1', '' ORDER BY gaps.id)
            || repeat('0', (total.size - 1 - max(gaps.id))::integer))::varbit,
        count(*)
    FROM (
        SELECT member.key, member.id,
            coalesce(lag(member.id) OVER (PARTITION BY member.key ORDER BY member.id), -1) AS previous
        FROM (SELECT id, unnest(facet_keys) AS key FROM catalog_dataset WHERE published_at IS NOT NULL) AS member
    ) AS gaps
    CROSS JOIN (SELECT (coalesce(max(id), 0) / 8192 + 1) * 8192 AS size FROM catalog_dataset) AS total
    GROUP BY gaps.key, total.size;
"""

REBUILD_POSTINGS = """
    DELETE FROM catalog_facetposting;
    INSERT INTO catalog_facetposting (dataset_id, key, published_at)
    SELECT id, unnest(facet_keys), published_at FROM catalog_dataset WHERE published_at IS NOT NULL;
"""


def rebuild_function(body):
    """The SQL that (re)defines `catalog_rebuild_facet_bitmaps()` with `body`."""
    return f"CREATE OR REPLACE FUNCTION catalog_rebuild_facet_bitmaps() RETURNS void LANGUAGE sql AS $${body}$$;\n"


# After a bulk load with both row triggers disabled, and to fill the postings here.
CREATE = (
    POSTINGS_FUNCTION
    + rebuild_function(REBUILD_BITMAPS + REBUILD_POSTINGS)
    + "SELECT catalog_rebuild_facet_bitmaps();"
)

DROP = (
    """
DROP TRIGGER IF EXISTS catalog_dataset_facet_postings ON catalog_dataset;
DROP FUNCTION IF EXISTS catalog_dataset_facet_postings();
"""
    + rebuild_function(REBUILD_BITMAPS)
)


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
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="catalog.dataset",
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
